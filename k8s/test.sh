#!/usr/bin/env bash
# `npm run test:k8s`: tandem on a real, local Kubernetes, end to end (CI runs it after `npm test`).
#
#   up       the local one-node cluster (k8s/local/up.sh: npm run k8s:up)
#   images   every image the no-operator overlay and the k6 Job run (k8s/images/build.sh), loaded into its containerd
#   apply    every documented combination, server-side dry run (npm run test:cluster -w @tandem/deploy-tests)
#   system   deploy k8s/overlays/no-operator, k6 through the edge's Service, the HPA from 1 to ≥ 2 edge replicas,
#            a pod of each consumer deleted mid-load, exact counts in Redis and Valkey, undeploy
#            (deploy-tests/test/system/k8s.system.ts)
#   down     the cluster removed (k8s/local/down.sh), also when a step failed; K8S_KEEP=1 keeps it
#
# Prints the time of each phase at the end. Needs root (the kubelet, containerd, podman).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step=$started
times=()
took() { times+=("$(printf '%-8s %4ss' "$1" $(($(date +%s) - step)))"); step=$(date +%s); }
finish() {
  local status=$?
  if [ "${K8S_KEEP:-}" != 1 ]; then bash k8s/local/down.sh || status=1; took down; fi
  echo "test:k8s: phases"
  printf '  %s\n' "${times[@]}"
  echo "test:k8s: $([ $status = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - started))s"
  exit $status
}
trap finish EXIT

bash k8s/local/up.sh
took up
bash k8s/images/build.sh
bash k8s/local/load-image.sh .tools/images/archives/*.tar
took images
npm run test:cluster -w @tandem/deploy-tests
took apply
(cd deploy-tests && npx vitest run --config vitest.system.config.ts)
took system
