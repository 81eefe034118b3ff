#!/usr/bin/env bash
# Deploys tandem to the current kubectl context, in order, waiting for each step:
#   namespace → Secrets (k8s/secrets.sh) → brokers and stores → the four services.
#
#   npm run k8s:deploy [-- k8s/overlays/<name>]      (default: k8s/overlays/no-operator)
#
# The operator overlays (dev, full) need their operators installed first (k8s/README.md, "Deploying"). Running it
# again applies changes and keeps the Secrets. TIMEOUT (default 10m) bounds each wait.
set -euo pipefail
cd "$(dirname "$0")/.."
overlay=${1:-k8s/overlays/no-operator}
timeout=${TIMEOUT:-10m}
namespace=tandem
services='edge-api,grpc-ingest,kafka-consumer,rabbit-consumer'
say() { echo "k8s:deploy: $*"; }

say "context $(kubectl config current-context), $overlay"
manifests=$(kubectl kustomize "$overlay")
has_kind() { grep -q "^kind: $1\$" <<<"$manifests"; }

say "1/4 the namespace"
kubectl apply -f k8s/base/namespace.yaml

say "2/4 the Secrets"
if has_kind Kafka; then bash k8s/secrets.sh "$namespace"; else bash k8s/secrets.sh "$namespace" --kafka-user; fi

# The local cluster (k8s/local: one node, no volume provisioner) gets a hostPath volume for each claim.
if kubectl get node tandem-local >/dev/null 2>&1 && [ -z "$(kubectl get storageclass -o name)" ]; then
  bash k8s/hostpath-volumes.sh
fi

say "3/4 everything but the services (brokers, stores, configuration, policies), then wait for the brokers and stores"
kubectl apply -f - --selector "app notin ($services)" <<<"$manifests"
if has_kind Kafka; then
  kubectl -n "$namespace" wait kafka/tandem --for=condition=Ready --timeout="$timeout"
  kubectl -n "$namespace" wait kafkauser/tandem --for=condition=Ready --timeout="$timeout"
fi
if has_kind RabbitmqCluster; then
  kubectl -n "$namespace" wait rabbitmqcluster/rabbitmq --for=condition=AllReplicasReady --timeout="$timeout"
fi
for statefulset in $(kubectl -n "$namespace" get statefulsets -o name --selector 'app.kubernetes.io/part-of=tandem'); do
  kubectl -n "$namespace" rollout status "$statefulset" --timeout="$timeout"
done

say "4/4 the services"
kubectl apply -f - <<<"$manifests"
for deployment in ${services//,/ }; do
  kubectl -n "$namespace" rollout status "deployment/$deployment" --timeout="$timeout"
done
say "done: kubectl -n $namespace get pods"
