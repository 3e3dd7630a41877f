#!/usr/bin/env bash
# Smoke test for drills' own Node language host (toolchain/cli/langhost):
# `pulumi up` on a TypeScript project folder, and the same project as a LOCAL
# program through the Node Automation API, with the engine that
# scripts/pulumi-toolchain.sh builds and a throwaway file:// backend.
#
# Usage: toolchain/smoke/run.sh        (KEEP=1 keeps the work directory)
# Needs: go (for the toolchain script), node >= 20 and npm (npm install of
# toolchain/smoke/project: @pulumi/pulumi ~3.248.0, typescript, ts-node).
# Prints one "ok - ..." line per check; exits 1 at the first failed one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

echo "# building/checking the toolchain (scripts/pulumi-toolchain.sh)"
"$root/scripts/pulumi-toolchain.sh" >/dev/null
DIR=${DRILLS_TOOLCHAIN_DIR:-$HOME/.cache/drills/pulumi-${DRILLS_PULUMI_VERSION:-3.248.0}}
# shellcheck disable=SC1091
. "$DIR/env.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/langhost-smoke.XXXXXX")
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

proj=$work/project
mkdir -p "$proj" "$work/state" "$work/out"
cp "$here/project/package.json" "$here/project/Pulumi.yaml" "$here/project/tsconfig.json" \
   "$here/project/index.ts" "$proj/"
export PULUMI_BACKEND_URL=file://$work/state
export SMOKE_DIR=$work/out
export PULUMI_CONFIG_PASSPHRASE=
unset SMOKE_FAIL PULUMI_DEBUG_LANGUAGES

log=$work/last.log
fail() {
  echo "FAIL - $*"
  echo "---- output of the last command ($log):"
  cat "$log"
  exit 1
}
ok() { echo "ok - $*"; }
# run CMD...: run in the project directory, output to $log; sets rc.
run() {
  set +e
  (cd "$proj" && "$@") >"$log" 2>&1
  rc=$?
  set -e
}
has() { grep -qF -- "$1" "$log"; }

echo "# npm install in $proj"
run npm install --no-audit --no-fund
[ "$rc" = 0 ] || fail "npm install"
ok "npm install (@pulumi/pulumi $(node -p "require('$proj/node_modules/@pulumi/pulumi/package.json').version"))"

lh=$(command -v pulumi-language-nodejs || true)
[ "$lh" = "$DIR/bin/pulumi-language-nodejs" ] || { echo "got: $lh" >"$log"; fail "pulumi-language-nodejs on PATH is ours ($DIR/bin)"; }
ok "pulumi-language-nodejs on PATH is $lh"

echo "# CLI on the project folder"
run pulumi stack init dev
[ "$rc" = 0 ] || fail "pulumi stack init dev"
ok "pulumi stack init dev"
run pulumi config set x 1
[ "$rc" = 0 ] || fail "pulumi config set x 1"
ok "pulumi config set x 1"

run pulumi about
[ "$rc" = 0 ] && has "drills minimal host (toolchain/cli/langhost)" || fail "pulumi about reports our language host"
ok "pulumi about: $(grep -o "This project is written in nodejs.*" "$log")"

run pulumi up --yes
[ "$rc" = 0 ] || fail "pulumi up --yes exits 0"
has "+ 2 created" || fail "pulumi up creates the stack and the dynamic resource"
has 'greeting: "x is 1 in langhost-smoke/dev"' || fail "pulumi up prints the output greeting"
! has "using pulumi-language-nodejs from \$PATH" || fail "no ambient-plugin warning"
file=$SMOKE_DIR/langhost-smoke-dev.txt
[ "$(cat "$file" 2>/dev/null)" = "x=1" ] || fail "dynamic provider create wrote $file"
ok "pulumi up --yes: 2 created, greeting \"x is 1 in langhost-smoke/dev\", $file contains x=1"

run pulumi stack output greeting
[ "$rc" = 0 ] && [ "$(cat "$log")" = "x is 1 in langhost-smoke/dev" ] || fail "pulumi stack output greeting"
ok "pulumi stack output greeting = $(cat "$log")"

run pulumi preview --expect-no-changes
[ "$rc" = 0 ] && has "2 unchanged" || fail "pulumi preview --expect-no-changes"
ok "pulumi preview --expect-no-changes: 2 unchanged"

run env SMOKE_FAIL=1 pulumi up --yes
[ "$rc" != 0 ] || fail "a RunError makes pulumi up exit non-zero"
has "error: bad input" || fail "the RunError message is shown"
! grep -qE '^\s+at .*(index\.ts|\.js:[0-9]+)' "$log" || fail "the RunError shows no stack trace"
! has "non-zero exit code" || fail "the RunError bails (no exit-code message on top)"
ok "RunError(\"bad input\"): pulumi up exits $rc, shows \"error: bad input\", no stack trace"

run env SMOKE_FAIL=exit pulumi preview
[ "$rc" != 0 ] && has "Program exited with non-zero exit code: 3" || fail "process.exit(3) is reported with its code"
ok "process.exit(3): pulumi preview exits $rc, \"Program exited with non-zero exit code: 3\""

run pulumi preview --expect-no-changes
[ "$rc" = 0 ] || fail "failed runs left the stack unchanged"
ok "failed runs changed nothing (preview --expect-no-changes)"

run pulumi destroy --yes
[ "$rc" = 0 ] && has "2 deleted" || fail "pulumi destroy --yes"
[ ! -e "$file" ] || fail "dynamic provider delete removed $file"
ok "pulumi destroy --yes: 2 deleted, $file removed"

run pulumi stack rm --yes dev
[ "$rc" = 0 ] || fail "pulumi stack rm --yes dev"
run pulumi stack ls --json
[ "$rc" = 0 ] && ! has '"dev"' || fail "stack dev is gone"
ok "pulumi stack rm --yes dev"

echo "# Automation API, local program (LocalWorkspace.createOrSelectStack({ workDir, stackName }))"
set +e
(cd "$proj" && node "$here/automation.js" "$proj") 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || fail "automation API run"

echo "# all checks passed"
