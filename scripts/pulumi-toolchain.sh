#!/usr/bin/env bash
# Build the Pulumi engine pieces that drills needs from the Go module proxy,
# as ordinary Go builds (no prebuilt binary is ever downloaded), into
#   ${DRILLS_TOOLCHAIN_DIR:-$HOME/.cache/drills/pulumi-<version>}/bin
# and write an env file there that tests can source.
#
# Pieces:
#   pulumi                          CLI, from toolchain/cli (pinned wrapper module)
#   pulumi-resource-pulumi-nodejs   dynamic-provider launcher (sh script from the sdk/v3 module)
#   pulumi-language-nodejs          Node language host: OUR OWN minimal one, toolchain/cli/langhost
#                                   (the proxy refuses the real host's module; see README)
#   pulumi-resource-command         @pulumi/command provider } attempted; the module proxy
#   pulumi-resource-docker          @pulumi/docker provider  } reachable here does not serve them
#
# Usage: scripts/pulumi-toolchain.sh [--force] [--strict]
#   --force   rebuild even if the binaries are already in the cache
#   --strict  exit non-zero when any piece could not be built
# Env: DRILLS_TOOLCHAIN_DIR (cache dir), DRILLS_PULUMI_VERSION (default 3.248.0;
#      must match toolchain/cli/go.mod).
# Afterwards:  . "$DIR/env.sh"   (or eval "$(scripts/pulumi-toolchain.sh | tail -1)")
set -euo pipefail

t0=$(date +%s)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PULUMI_VERSION=${DRILLS_PULUMI_VERSION:-3.248.0}
DIR=${DRILLS_TOOLCHAIN_DIR:-$HOME/.cache/drills/pulumi-$PULUMI_VERSION}
BIN=$DIR/bin
FORCE=0 STRICT=0
for a in "$@"; do
  case $a in
    --force) FORCE=1 ;;
    --strict) STRICT=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "pulumi-toolchain: unknown argument: $a" >&2; exit 2 ;;
  esac
done

log() { printf 'pulumi-toolchain: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH (Go >= 1.25.11 is needed; see toolchain/README.md)"
gov=$(go env GOVERSION); gov=${gov#go}
if [ "$(printf '%s\n1.25.11\n' "$gov" | sort -V | head -1)" != "1.25.11" ]; then
  die "Go $gov is too old: pulumi $PULUMI_VERSION needs go >= 1.25.11"
fi
grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION\$" "$here/toolchain/cli/go.mod" \
  || die "toolchain/cli/go.mod does not pin pkg/v3 v$PULUMI_VERSION; change the wrapper module too"

mkdir -p "$BIN"
export GOFLAGS=-mod=mod CGO_ENABLED=0
failed=()

# timed_build NAME GO-BUILD-ARGS...: build into a temp file, then
# move into place, so an interrupted build never leaves a half-written binary.
timed_build() {
  local name=$1; shift
  local s; s=$(date +%s)
  log "building $name (this takes minutes on a cold cache)..."
  if go build -o "$BIN/.$name.tmp" "$@"; then
    mv -f "$BIN/.$name.tmp" "$BIN/$name"
    log "built $name in $(( $(date +%s) - s ))s"
  else
    rm -f "$BIN/.$name.tmp"
    return 1
  fi
}

# --- 1. pulumi CLI -----------------------------------------------------------
cli_ok() {
  [ -x "$BIN/pulumi" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]
}
if [ "$FORCE" = 1 ] || ! cli_ok; then
  (cd "$here/toolchain/cli" && timed_build pulumi -trimpath -tags osusergo,grpcnotrace \
     -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
     github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || die "building the pulumi CLI failed (output above)"
  cli_ok || die "built pulumi does not report v$PULUMI_VERSION"
else
  log "pulumi v$PULUMI_VERSION already in $BIN"
fi

# --- 2. dynamic provider launcher -------------------------------------------
# The CLI distribution ships sdk/nodejs/dist/pulumi-resource-pulumi-nodejs, a
# small sh script that runs the dynamic provider of the program's own
# @pulumi/pulumi. It is in the sdk/v3 module zip: copy it from there.
dyn=$BIN/pulumi-resource-pulumi-nodejs
if [ "$FORCE" = 1 ] || [ ! -x "$dyn" ]; then
  sdkdir=$(cd "$here/toolchain/cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3) \
    || die "cannot locate the sdk/v3 module (go list -m failed)"
  [ -f "$sdkdir/nodejs/dist/pulumi-resource-pulumi-nodejs" ] \
    || die "$sdkdir/nodejs/dist/pulumi-resource-pulumi-nodejs is missing"
  install -m 0755 "$sdkdir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$dyn.tmp" && mv -f "$dyn.tmp" "$dyn"
fi

# --- 3. Node language host (ours) -------------------------------------------
# The real pulumi-language-nodejs module is refused by the module proxy (403),
# so we build drills' own minimal host from toolchain/cli/langhost, against the
# sdk/v3 the CLI uses. Rebuilt only when its inputs change: a hash of the
# langhost sources, go.mod/go.sum, the version and the Go toolchain is stamped
# next to the binary.
lang=$BIN/pulumi-language-nodejs
lang_stamp=$BIN/.pulumi-language-nodejs.stamp
lang_hash=$( { cat "$here"/toolchain/cli/langhost/*.go "$here/toolchain/cli/go.mod" "$here/toolchain/cli/go.sum"
               printf '%s %s\n' "$PULUMI_VERSION" "$(go env GOVERSION)"; } | sha256sum | cut -d' ' -f1)
if [ "$FORCE" = 1 ] || [ ! -x "$lang" ] || [ "$(cat "$lang_stamp" 2>/dev/null)" != "$lang_hash" ]; then
  (cd "$here/toolchain/cli" && timed_build pulumi-language-nodejs -trimpath -tags osusergo,grpcnotrace \
     -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
     ./langhost) || die "building our language host (toolchain/cli/langhost) failed (output above)"
  printf '%s\n' "$lang_hash" > "$lang_stamp"
  log "pulumi-language-nodejs: built from our own minimal host (toolchain/cli/langhost)"
else
  log "pulumi-language-nodejs: our own minimal host (toolchain/cli/langhost), up to date in $BIN"
fi

# --- 4-5. pieces whose modules the proxy must serve --------------------------
# probe MODULE@VERSION: ask the module proxy for exactly that version.
probe() {
  local out
  if out=$(cd "${TMPDIR:-/tmp}" && GOFLAGS= go mod download -json "$1" 2>&1); then
    return 0
  fi
  log "  go: $(printf '%s' "$out" | sed -n 's/.*"Error": "\(.*\)"$/\1/p; s/^go: //p' | sed 's/\\n\\t/ /g' | head -1 | cut -c1-400)"
  return 1
}
# Pinned versions (see toolchain/README.md for where they come from).
COMMAND=github.com/pulumi/pulumi-command/provider@v1.2.1
DOCKER=github.com/pulumi/pulumi-docker/provider/v5@e944612c
for piece in "pulumi-resource-command $COMMAND" "pulumi-resource-docker $DOCKER"; do
  set -- $piece
  if [ -x "$BIN/$1" ]; then log "$1 already in $BIN"; continue; fi
  if probe "$2"; then
    log "$2 is now served by the module proxy: extend this script to build $1 (toolchain/README.md)"
  else
    log "SKIPPED $1: the Go module proxy here does not serve $2"
  fi
  failed+=("$1")
done

# --- env file -----------------------------------------------------------------
cat > "$DIR/env.sh" <<EOF
# Source this to run the Pulumi engine built by scripts/pulumi-toolchain.sh offline.
export PATH="$BIN:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE="\${PULUMI_CONFIG_PASSPHRASE-}"
EOF

log "done in $(( $(date +%s) - t0 ))s; binaries in $BIN:"
ls -1 "$BIN" | sed 's/^/  /' >&2
if [ "${#failed[@]}" -gt 0 ]; then
  log "NOT built: ${failed[*]} (not served by the Go module proxy; see toolchain/README.md)"
  [ "$STRICT" = 1 ] && exit 1
fi
log "env file: $DIR/env.sh  (also set PULUMI_BACKEND_URL=file://<dir>)"
echo "export PATH=\"$BIN:\$PATH\""
