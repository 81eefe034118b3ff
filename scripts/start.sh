#!/usr/bin/env bash
# `npm start`: the local stack (installed and started if needed), then the four services under a supervisor.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node stack/src/cli.ts up
exec node stack/src/system.ts
