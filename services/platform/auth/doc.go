// Package auth establishes who is calling a service: a principal (institution, subject, roles)
// from a verified client certificate (mutual TLS) or from a bearer JWT checked against the
// configured key set, plus the on-behalf-of chain when one service calls another for a caller.
//
// Every service verifies credentials itself; nothing here trusts the network or the gateway.
// Errors never carry the credential they reject, because error texts end up in logs and in
// responses. Authorization (which role may call which method) lives elsewhere; this package
// only says who the caller is.
package auth
