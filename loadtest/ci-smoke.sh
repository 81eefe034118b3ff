#!/usr/bin/env bash
# CI: the whole system with `npm start` in the background, `npm run loadtest -- smoke` against it, then the
# system stopped with SIGTERM (and awaited). Exits with the smoke's code.
#
# START_COMMAND and LOADTEST_COMMAND replace the two npm commands (e.g. to skip the bootstrap's install check).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf '\033[36mci-smoke\033[0m %s\n' "$*"; }
log=$(mktemp)
# shellcheck disable=SC2086 # the commands are word-split on purpose
${START_COMMAND:-npm start} >"$log" 2>&1 &
pid=$!
stop() {
  # The supervisor (or npm, which it watches) only: it stops the services in order, each draining once.
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do
    grep -q 'all services stopped' "$log" && break
    sleep 1
  done
  wait "$pid" 2>/dev/null || true
  say "system stopped"
}
trap stop EXIT

say "waiting for the system (npm start; its log: $log)"
for _ in $(seq 1 240); do
  grep -q '│ ready$' "$log" && break
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -50 "$log"
    say "npm start exited before the system was ready"
    exit 1
  fi
  sleep 1
done
if ! grep -q '│ ready$' "$log"; then
  tail -50 "$log"
  say "the system was not ready after 240 s"
  exit 1
fi
# shellcheck disable=SC2086
${LOADTEST_COMMAND:-npm run loadtest --} smoke
status=$?
[ "$status" -eq 0 ] || tail -30 "$log"
exit "$status"
