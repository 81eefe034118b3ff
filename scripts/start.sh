#!/usr/bin/env bash
# `npm start`: the whole system on the local stack.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node stack/src/cli.ts up
node stack/src/cli.ts status
