#!/usr/bin/env bash
# Installs the pinned vegeta (the lean open-model HTTP generator that drives `npm run bench`'s ladder) into
# .tools/bin/ when it is missing or another version: built from source with `go install` through the Go module
# proxy, like k6 (install-k6.sh), so the only prerequisite is Go. About 20 modules; well under a minute warm.
#
#   bash loadtest/install-vegeta.sh          # prints the path of the vegeta binary on its last line
#   VEGETA_VERSION=v12.13.0 bash loadtest/install-vegeta.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${VEGETA_VERSION:-v12.13.0}
bin="$root/.tools/bin"
vegeta="$bin/vegeta"
stamp="$bin/.vegeta-version"
say() { printf '\033[36mvegeta\033[0m %s\n' "$*" >&2; }

# `go install` leaves vegeta's own -version empty (its version comes from release ldflags), so the version built
# is recorded beside the binary, and `go version -m` confirms the module's.
if [ -x "$vegeta" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "$vegeta"
  exit 0
fi
# shellcheck source=go-tool.sh
source "$root/loadtest/go-tool.sh"
use_go vegeta "$version" "golang-go"
mkdir -p "$bin"
say "building vegeta ${version} with $(go version | cut -d' ' -f3) into .tools/bin/"
start=$(date +%s)
# Built into a private folder, then moved in with one rename: a concurrent run never sees half a binary.
staging=$(mktemp -d "$bin/.vegeta-XXXXXX")
trap 'rm -rf "$staging"' EXIT
GOBIN="$staging" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install "github.com/tsenart/vegeta/v12@${version}" 2>&1 | grep -v '^go: downloading' >&2 || true
[ -x "$staging/vegeta" ] || { echo "vegeta: go install failed" >&2; exit 1; }
mv -f "$staging/vegeta" "$vegeta"
echo "$version" > "$stamp"
say "vegeta ${version} built in $(($(date +%s) - start))s"
echo "$vegeta"
