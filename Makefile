# The Responsible Authority's system. `make run` starts it; `make test` tests it.
SHELL := bash
# Operations per benchmark; raise it for steadier figures. The registry at scale lists whole
# collections on FerretDB (docs/benchmarks.md), so it runs fewer.
BENCHTIME ?= 2000x
SCALE_BENCHTIME ?= 20x
AGGREGATE_BENCHTIME ?= 500x
REFERRAL_BENCHTIME ?= 100x
SECRETARIAT_BENCHTIME ?= 20x
REPORTING_BENCHTIME ?= 10x
.SHELLFLAGS := -euo pipefail -c

# Every module of the workspace (go.work), as package patterns.
PKGS = $(shell go list -m -f '{{.Dir}}/...')

.PHONY: run test test-integration check generate lint openapi-lint breaking vet fmt build bench clean

run: ## start the whole system on embedded defaults (Ctrl-C stops it)
	go build -o bin/nrm ./tools/cmd/nrm
	bin/nrm run

test: ## unit, integration and end-to-end tests, race detector on
	go test -race -count=1 -timeout 20m $(PKGS)

# Integration suite against external servers: set NRM_TEST_MONGO_URI and NRM_TEST_NATS_URL.
test-integration:
	@test -n "$${NRM_TEST_MONGO_URI:-}" -a -n "$${NRM_TEST_NATS_URL:-}" || \
		{ echo "set NRM_TEST_MONGO_URI and NRM_TEST_NATS_URL"; exit 2; }
	go test -race -count=1 -timeout 20m $$(go list -m -f '{{.Dir}}/...' | grep -E '/(services|tools)/')

check: generate lint openapi-lint breaking vet fmt ## everything CI checks besides tests
	@git diff --exit-code -- proto gateway/openapi || \
		{ echo "generated code is out of date: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- proto gateway/openapi)" || \
		{ echo "untracked generated files:"; git status --porcelain -- proto gateway/openapi; exit 1; }

generate: ## regenerate Go and OpenAPI from proto/
	scripts/generate.sh

lint:
	scripts/buf.sh lint

# The OpenAPI document, strictly: zero problems (tools/codegen/openapilint says which checks).
# Its own module, outside go.work: its tests and vet run here, not in make test and make vet.
OPENAPILINT = GOWORK=off go -C tools/codegen/openapilint
openapi-lint:
	$(OPENAPILINT) vet ./...
	$(OPENAPILINT) test -count=1 ./...
	$(OPENAPILINT) run . $(CURDIR)/gateway/openapi/nrm.swagger.json

# Compare the API with the previous commit, when there is one.
breaking:
	@if git rev-parse --verify -q HEAD~1 >/dev/null; then \
		scripts/buf.sh breaking --against '.git#ref=HEAD~1'; \
	else echo "no previous commit: skipping buf breaking"; fi

vet:
	go vet $(PKGS)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

build: ## static binaries of every service, the gateway and the launcher into bin/
	CGO_ENABLED=0 go build -trimpath -o bin/ ./services/caseregistry/cmd/... ./services/referral/cmd/... \
		./services/secretariat/cmd/... ./services/reporting/cmd/... ./gateway/cmd/... ./tools/cmd/...

bench: ## benchmarks against the embedded stack; figures go in docs/benchmarks.md
	@mkdir -p bin
	go test -run '^$$' -bench 'RegisterCase$$|RegisterToStatistics' -benchtime $(BENCHTIME) -timeout 30m ./tools/bench/ | tee bin/bench.txt
	go test -run '^$$' -bench CaseRegistryAtScale -benchtime $(SCALE_BENCHTIME) -timeout 60m ./tools/bench/ | tee -a bin/bench.txt
	go test -run '^$$' -bench Change -benchtime $(AGGREGATE_BENCHTIME) -timeout 30m ./services/platform/aggregate/ | tee -a bin/bench.txt
	go test -run '^$$' -bench Referral -benchtime $(REFERRAL_BENCHTIME) -timeout 30m ./services/referral/ | tee -a bin/bench.txt
	go test -run '^$$' -bench 'AgendaBacklog|MeetingList' -benchtime $(SECRETARIAT_BENCHTIME) -timeout 30m \
		./services/secretariat/internal/backlog/ ./services/secretariat/internal/meetings/ | tee -a bin/bench.txt
	go test -run '^$$' -bench Statistics -benchtime $(REPORTING_BENCHTIME) -timeout 30m ./services/reporting/internal/projection/ | tee -a bin/bench.txt
	@awk '/via=grpc/{g=$$3} /via=rest/{r=$$3} /via=driver-insert/{d=$$3} \
		END{if (d) printf "\nservice cost over the store'"'"'s (ns/op ratio): gRPC %.2fx, REST %.2fx\n", g/d, r/d}' bin/bench.txt

clean:
	rm -rf bin .cache

# deploy/compose.yaml is valid, and starts with what `nrm deploy-secrets` writes (deploy/README.md).
.PHONY: compose
check: compose
compose:
	go test -count=1 -run '^TestComposeFile' ./tools/cmd/nrm/
