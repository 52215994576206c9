#!/usr/bin/env bash
# Runs the pinned buf in the repository root (relative paths in the arguments are taken from
# there) with the given arguments:
#
#   scripts/buf.sh lint
#   scripts/buf.sh breaking --against '.git#ref=HEAD~1'
#   scripts/buf.sh build
#   scripts/buf.sh generate          # use scripts/generate.sh instead (it also cleans and tidies)
#
# Before buf runs, this script
#   1. builds buf (tools/codegen/buf) and the protoc plugins (tools/codegen) into .cache/bin.
#      Both are separate Go modules outside go.work, so buf's dependency graph never reaches the
#      workspace. Warm runs only re-check the Go build cache.
#   2. copies google/api/{annotations,http}.proto from the Go module
#      github.com/grpc-ecosystem/grpc-gateway@v1.16.0 (third_party/googleapis) into
#      .cache/googleapis, the import-only module of buf.yaml. The module zip hash is pinned below.
#
# `breaking` against a git input: git does not contain the git-ignored .cache/googleapis, so buf
# cannot compile the old tree from `.git#ref=...` itself ("Module .cache/googleapis had no .proto
# files"). For `--against '.git#ref=REF'` (also branch=/tag=) this script exports REF with
# `git archive` into a temporary directory, adds .cache/googleapis and passes that directory to buf
# as the against input. Any other --against (an image, a directory) is passed through unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

GOOGLEAPIS_MODULE=github.com/grpc-ecosystem/grpc-gateway
GOOGLEAPIS_VERSION=v1.16.0
GOOGLEAPIS_SUM='h1:gmcG1KaJ57LophUzW0Hy8NmPhnMZb4M0+kPpLofRdBo='

TMPDIRS=()
cleanup() {
	((${#TMPDIRS[@]})) && rm -rf "${TMPDIRS[@]}"
	return 0
}
trap cleanup EXIT

CACHE="$ROOT/.cache"
BIN="$CACHE/bin"
GOOGLEAPIS="$CACHE/googleapis"

die() {
	echo "scripts/buf.sh: $*" >&2
	exit 1
}

build_tools() {
	mkdir -p "$BIN"
	# `tool` is the set of tool directives of each module's go.mod.
	GOWORK=off go -C tools/codegen/buf build -o "$BIN/" tool
	GOWORK=off go -C tools/codegen build -o "$BIN/" tool
}

prepare_googleapis() {
	local json dir sum src tmp
	# Downloads into the module cache (verified against go.sum/GOSUMDB) without touching go.mod.
	json="$(GOWORK=off go -C tools/codegen mod download -json "$GOOGLEAPIS_MODULE@$GOOGLEAPIS_VERSION")"
	dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
	sum="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
	[[ -n "$dir" && -d "$dir" ]] || die "go mod download gave no Dir for $GOOGLEAPIS_MODULE@$GOOGLEAPIS_VERSION: $json"
	[[ "$sum" == "$GOOGLEAPIS_SUM" ]] || die "$GOOGLEAPIS_MODULE@$GOOGLEAPIS_VERSION: sum $sum, want $GOOGLEAPIS_SUM"
	src="$dir/third_party/googleapis"

	# Leave an identical copy alone (keeps concurrent runs safe and mtimes stable).
	if [[ -d "$GOOGLEAPIS" ]] &&
		cmp -s "$src/google/api/annotations.proto" "$GOOGLEAPIS/google/api/annotations.proto" &&
		cmp -s "$src/google/api/http.proto" "$GOOGLEAPIS/google/api/http.proto" &&
		[[ "$(find "$GOOGLEAPIS" -type f | wc -l)" -eq 3 ]]; then
		return
	fi
	mkdir -p "$CACHE"
	tmp="$(mktemp -d "$CACHE/googleapis.tmp.XXXXXX")"
	TMPDIRS+=("$tmp")
	mkdir -p "$tmp/google/api"
	cp "$src/google/api/annotations.proto" "$src/google/api/http.proto" "$tmp/google/api/"
	cp "$src/LICENSE" "$tmp/"
	chmod -R u+w "$tmp"
	rm -rf "$GOOGLEAPIS"
	# -T: never nest into a copy that a concurrent run has just put in place.
	mv -T "$tmp" "$GOOGLEAPIS" 2>/dev/null || rm -rf "$tmp"
}

# export_tree REF DIR: exports the tree at git revision REF into the new directory DIR and adds
# .cache/googleapis, making DIR a buf workspace as of REF (with REF's buf.yaml, or the current one
# if REF predates buf.yaml).
export_tree() {
	local ref="$1" tree="$2"
	git rev-parse --verify --quiet "$ref^{commit}" >/dev/null || die "breaking: unknown git revision '$ref'"
	mkdir -p "$tree/.cache"
	git archive --format=tar "$ref" | tar -x -C "$tree"
	if [[ ! -f "$tree/buf.yaml" ]]; then
		echo "scripts/buf.sh: $ref has no buf.yaml; comparing against it with the current buf.yaml" >&2
		cp buf.yaml "$tree/buf.yaml"
	fi
	cp -R "$GOOGLEAPIS" "$tree/.cache/googleapis"
}

build_tools
prepare_googleapis

if [[ "${1:-}" == breaking ]]; then
	args=("$1")
	shift
	while (($#)); do
		case "$1" in
		--against)
			(($# >= 2)) || die "breaking: --against needs a value"
			against="$2"
			shift 2
			;;
		--against=*)
			against="${1#--against=}"
			shift
			;;
		*)
			args+=("$1")
			shift
			continue
			;;
		esac
		if [[ "$against" == .git#* || "$against" == "$ROOT/.git#"* ]]; then
			ref=""
			IFS=, read -r -a opts <<<"${against#*#}"
			for opt in "${opts[@]}"; do
				case "$opt" in
				ref=* | branch=* | tag=*) ref="${opt#*=}" ;;
				depth=* | recurse_submodules=*) ;;
				*) die "breaking: unsupported git input option '$opt' in '$against'" ;;
				esac
			done
			[[ -n "$ref" ]] || die "breaking: '$against' names no ref=, branch= or tag="
			tmp="$(mktemp -d)"
			TMPDIRS+=("$tmp")
			export_tree "$ref" "$tmp/tree"
			against="$tmp/tree"
		fi
		args+=(--against "$against")
	done
	# Not exec: the EXIT trap removes the temporary trees.
	"$BIN/buf" "${args[@]}"
	exit
fi

exec "$BIN/buf" "$@"
