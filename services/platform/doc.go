// Package platform is the shared runtime of the Responsible Authority's services.
//
// Every binary (the four services and the gateway) is built from the same parts, each in its own
// package: config (flags and NRM_* variables), logging (JSON slog with request and trace ids),
// telemetry (OpenTelemetry), grpcserver (interceptors, health, reflection), admin (health, readiness,
// metrics, pprof), mongodb and natsbus (the two real dependencies), outbox (events written with the
// state change, published by a relay), consumer (durable, exactly-once application of events),
// journal (documents many writers change, committed by inserts, safe on FerretDB) and app (the
// lifecycle that ties them together and shuts them down in order).
package platform
