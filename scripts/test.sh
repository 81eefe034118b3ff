#!/usr/bin/env bash
# `npm test`: brings the local stack up, builds k6, vegeta and kustomize and installs chromium and prometheus
# (whatever is missing), lints, type-checks and tests every package with turbo against the real servers, then runs
# the fault suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node stack/src/cli.ts up
# k6 for the loadtest package's script tests (its vitest globalSetup would build it too): built here, before the
# packages' tests run two at a time, so that a cold `go install` (a few minutes) competes with no test for the CPU.
[ -n "${K6:-}" ] || bash loadtest/install-k6.sh >/dev/null
# vegeta, the bench's lean generator, for the same reason (its tests drive it; well under a minute cold).
[ -n "${VEGETA:-}" ] || bash loadtest/install-vegeta.sh >/dev/null
# kustomize for deploy-tests, likewise (about a minute cold; its globalSetup then only checks it is there).
node deploy-tests/src/install-kustomize.ts >/dev/null
# Debian's chromium and prometheus for the e2e tests of the live page and the dashboards, likewise.
node e2e/test/tools-setup.ts
turbo run lint typecheck --concurrency=2
turbo run test --concurrency=2 --filter='!@tandem/faults'
# The fault suite restarts brokers: alone, last, on a private stack of its own (.stack-faults, ports +1000).
npm run test -w @tandem/faults
