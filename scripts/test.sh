#!/usr/bin/env bash
# `npm test`: brings the local stack up (installing whatever is missing), then lints, type-checks and tests every
# package with turbo. Integration tests talk to the real servers of the stack.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node stack/src/cli.ts up
turbo run lint typecheck test --concurrency=2
