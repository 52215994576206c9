#!/usr/bin/env bash
# Runs the pinned buf in the repository root (relative paths in the arguments are taken from
# there) with the given arguments:
#
#   scripts/buf.sh lint
#   scripts/buf.sh breaking --against '.git#ref=HEAD~1'
#   scripts/buf.sh build
#   scripts/buf.sh generate          # use scripts/generate.sh instead (it also cleans and tidies)
#
# Before buf runs, this script builds buf (tools/codegen/buf) and the protoc plugins
# (tools/codegen) into .cache/bin. Both are separate Go modules outside go.work, so buf's
# dependency graph never reaches the workspace. Warm runs only re-check the Go build cache.
# Every proto buf reads is in the repository (the Google ones under proto/google).
#
# `breaking` against a git input: commits before the Google protos were vendored name a
# git-ignored import module .cache/googleapis in their buf.yaml, which `.git#ref=...` does not
# contain ("Module .cache/googleapis had no .proto files"). For `--against '.git#ref=REF'` (also
# branch=/tag=) this script exports REF with `git archive` into a temporary directory, gives
# such a commit today's layout (proto/google, the current buf.yaml) and passes that directory to
# buf as the against input. Any other --against (an image, a directory) is passed through
# unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TMPDIRS=()
cleanup() {
	((${#TMPDIRS[@]})) && rm -rf "${TMPDIRS[@]}"
	return 0
}
trap cleanup EXIT

BIN="$ROOT/.cache/bin"

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

# export_tree REF DIR: exports the tree at git revision REF into the new directory DIR, making
# DIR a buf workspace as of REF (with REF's buf.yaml, or the current one if REF predates
# buf.yaml).
export_tree() {
	local ref="$1" tree="$2"
	git rev-parse --verify --quiet "$ref^{commit}" >/dev/null || die "breaking: unknown git revision '$ref'"
	mkdir -p "$tree"
	git archive --format=tar "$ref" | tar -x -C "$tree"
	if [[ ! -f "$tree/buf.yaml" ]]; then
		echo "scripts/buf.sh: $ref has no buf.yaml; comparing against it with the current buf.yaml" >&2
		cp buf.yaml "$tree/buf.yaml"
	fi
	# Before the Google protos were vendored, REF's buf.yaml had a second, import-only module
	# for them; buf compares only workspaces of as many modules. Give REF today's layout: today's
	# Google protos in proto/google (breaking ignores them; google.api.http, all that ours use,
	# is the same in both), with the current buf.yaml.
	if grep -q '^[[:space:]]*- path: \.cache/googleapis$' "$tree/buf.yaml"; then
		cp -R proto/google "$tree/proto/google"
		cp buf.yaml "$tree/buf.yaml"
	fi
}

build_tools

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
