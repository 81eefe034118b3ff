#!/usr/bin/env bash
# `npm start`: the local stack (installed and started if needed), then the four services under the launcher.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec node system/src/start.ts "$@"
