#!/usr/bin/env bash
# Runs a command with the project's Node on PATH and its dependencies installed.
#
# The reference runtime is the Node version in .nvmrc. When the machine's Node is older than 22.18 (the first
# release that runs TypeScript without flags), that version is installed from the npm registry (package
# node-linux-<arch>) into .tools/, which is git-ignored. Dependencies are installed with `npm ci` whenever
# package-lock.json (or the Node version) changed since the last install: exactly what the lock says, which lists
# every platform's builds of biome, turbo and buf, and the lock is never rewritten, so a fresh clone stays clean.
# After changing a dependency in a package.json, run `npm install` once to update the lock, and commit it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf '\033[36mbootstrap\033[0m %s\n' "$*" >&2; }

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)'
}

wanted=$(tr -d ' \nv' < .nvmrc)
local_node="$root/.tools/node-v$wanted"
if [ -x "$local_node/bin/node" ]; then
  export PATH="$local_node/bin:$PATH"
elif ! node_is_recent; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "bootstrap: no Node package for $(uname -m); install Node >= 22.18 yourself" >&2; exit 1 ;;
  esac
  command -v npm >/dev/null 2>&1 || { echo "bootstrap: npm is needed to fetch Node $wanted" >&2; exit 1; }
  say "Node $(node --version 2>/dev/null || echo '(none)') is older than 22.18: installing Node $wanted into .tools/"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$wanted" >/dev/null)
  mkdir -p "$local_node"
  tar -xzf "$tmp"/node-linux-*.tgz -C "$local_node" --strip-components=1
  export PATH="$local_node/bin:$PATH"
  say "using $(node --version) from .tools/"
fi

# npm itself is JavaScript: with the local Node first on PATH, the machine's npm runs on it.
lock_hash=$( (cat package-lock.json 2>/dev/null; node --version) | sha256sum | cut -d' ' -f1)
stamp=node_modules/.tandem-install
installed() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; }
if ! installed; then
  # One install at a time: npm ci empties node_modules first, so a second bootstrap (another terminal, a test
  # run) must wait for the first instead of starting its own under it or running on a half-filled tree.
  mkdir -p .tools
  exec 9>.tools/install.lock
  flock 9
  if ! installed; then
    say "installing dependencies (npm ci)"
    if ! npm ci --no-audit --no-fund --loglevel=error; then
      echo "bootstrap: npm ci failed; if a package.json changed, run \`npm install\` to update package-lock.json" >&2
      exit 1
    fi
    echo "$lock_hash" > "$stamp"
  fi
  flock -u 9
  exec 9>&-
fi

export PATH="$root/node_modules/.bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1
# kafkajs 2.2.4 schedules a negative timeout on every response under Node >= 24 (tulios/kafkajs#1751); the
# warning is harmless and would otherwise flood every service's log. Once: a script run through here may run
# another through here.
case " ${NODE_OPTIONS:-} " in
  *" --disable-warning=TimeoutNegativeWarning "*) ;;
  *) export NODE_OPTIONS="--disable-warning=TimeoutNegativeWarning${NODE_OPTIONS:+ $NODE_OPTIONS}" ;;
esac
exec "$@"
