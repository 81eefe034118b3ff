# Sourced by install-k6.sh and install-vegeta.sh, which build a pinned tool from the Go module proxy into
# .tools/bin/ (`root` is the repository's root, set by the caller).
#
# use_go NAME VERSION GO_HINT: puts Go on PATH when it is installed but not there (/usr/local/go, Debian's
# /usr/lib/go), or stops naming what is needed. Then the machine's Go as it is (no toolchain download); without
# HOME (a stripped environment) Go has no default cache folders: they go under .tools/go then.
use_go() {
  local name=$1 version=$2 hint=$3
  if ! command -v go >/dev/null 2>&1; then
    for candidate in /usr/local/go/bin /usr/lib/go/bin; do
      [ -x "$candidate/go" ] && export PATH="$candidate:$PATH" && break
    done
  fi
  command -v go >/dev/null 2>&1 || {
    echo "$name: Go is needed to build $name ${version} (https://go.dev/dl/, or apt-get install $hint)" >&2
    exit 1
  }
  export GOTOOLCHAIN=local
  if [ -z "${HOME:-}" ]; then
    export GOCACHE=${GOCACHE:-$root/.tools/go/cache} GOPATH=${GOPATH:-$root/.tools/go}
    export GOFLAGS="${GOFLAGS:-} -modcacherw"
  fi
}
