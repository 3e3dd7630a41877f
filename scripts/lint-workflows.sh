#!/usr/bin/env bash
# Lint the GitHub workflows with actionlint (and shellcheck on their run:
# scripts where shellcheck is installed: `apt-get install shellcheck`).
# actionlint is built from the Go module proxy into a cache folder the first
# time (needs Go; no binary download). Exits 2 when it cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
bin_dir="${HOME}/.cache/drills/actionlint-${ACTIONLINT_VERSION}"
actionlint="$(command -v actionlint || true)"
if [ -z "$actionlint" ] && [ -x "$bin_dir/actionlint" ]; then actionlint="$bin_dir/actionlint"; fi
if [ -z "$actionlint" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "lint:workflows: no actionlint on PATH and no Go to build it (go install github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION})" >&2
    exit 2
  fi
  echo "lint:workflows: building actionlint ${ACTIONLINT_VERSION} from the Go module proxy into ${bin_dir}" >&2
  GOBIN="$bin_dir" go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" >&2
  actionlint="$bin_dir/actionlint"
fi
command -v shellcheck >/dev/null 2>&1 || echo "lint:workflows: shellcheck not installed: run: scripts are not checked" >&2
exec "$actionlint" "$@"
