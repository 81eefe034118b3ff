#!/usr/bin/env bash
# Installs the pinned k6 into .tools/bin/ when it is missing or another version: built from source with
# `go install` through the Go module proxy (k6 publishes no npm or Debian package), so the only prerequisite is Go.
# Building takes a few minutes the first time; Go's module and build caches make a rebuild much faster.
#
#   bash loadtest/install-k6.sh          # prints the path of the k6 binary on its last line
#   K6_VERSION=v1.8.1 bash loadtest/install-k6.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The newest stable release the module proxy serves that builds with Go 1.26 (its go.mod asks for Go ≥ 1.25).
# Keep it in step with the grafana/k6 image in loadtest/k8s/job.yaml.
version=${K6_VERSION:-v1.8.1}
bin="$root/.tools/bin"
k6="$bin/k6"
say() { printf '\033[36mk6\033[0m %s\n' "$*" >&2; }

if [ -x "$k6" ] && "$k6" version 2>/dev/null | grep -q "k6 ${version}\b"; then
  echo "$k6"
  exit 0
fi
# shellcheck source=go-tool.sh
source "$root/loadtest/go-tool.sh"
use_go k6 "$version" "golang-go ≥ 1.25"
mkdir -p "$bin"
say "building k6 ${version} with $(go version | cut -d' ' -f3) into .tools/bin/ (a few minutes the first time)"
start=$(date +%s)
# Built into a private folder, then moved in with one rename: a concurrent run never sees half a binary.
staging=$(mktemp -d "$bin/.k6-XXXXXX")
trap 'rm -rf "$staging"' EXIT
# -v names each package as it is compiled: shown as a running count rather than hundreds of lines.
GOBIN="$staging" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" go install -v "go.k6.io/k6@${version}" 2>&1 |
  awk -v tty="$([ -t 2 ] && echo 1 || echo 0)" '
    /^go: downloading/ { downloads++; next }
    /^go: / { print > "/dev/stderr"; next }
    { built++
      if (tty == 1) printf "\r\033[36mk6\033[0m %d modules downloaded, %d packages compiled ", downloads, built > "/dev/stderr"
      else if (built % 100 == 0) printf "k6 %d modules downloaded, %d packages compiled\n", downloads, built > "/dev/stderr" }
    END { if (tty == 1) printf "\n" > "/dev/stderr" }'
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { echo "k6: go install failed (exit $status)" >&2; exit "$status"; }
mv -f "$staging/k6" "$k6"
say "$("$k6" version | head -1) built in $(($(date +%s) - start))s"
echo "$k6"
