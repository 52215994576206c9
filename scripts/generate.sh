#!/usr/bin/env bash
# Regenerates all code from proto/nrm/**/*.proto (run from anywhere; works from the repo root):
#   - Go, gRPC and grpc-gateway code next to the protos (proto/nrm/**/v1/*.pb.go, *.pb.gw.go)
#   - one merged OpenAPI v2 document, gateway/openapi/nrm.swagger.json
# then tidies proto/go.mod so it requires what the generated code imports.
#
# Tools are pinned in tools/codegen (plugins) and tools/codegen/buf (buf); scripts/buf.sh builds
# them. The vendored proto/google/** protos are imports only: nothing is generated from them.
# proto/openapi.yaml completes the OpenAPI document (title, version, security, error
# responses). The output is deterministic: running this twice gives byte-identical files.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Remove old output first so deleted protos leave nothing behind.
find proto -type f \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -delete
mkdir -p gateway/openapi
find gateway/openapi -maxdepth 1 -type f -name '*.json' -delete

scripts/buf.sh generate

# The proto module only: the rest of the workspace is not ours to change here.
(cd proto && GOWORK=off go mod tidy)
