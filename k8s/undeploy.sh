#!/usr/bin/env bash
# Removes tandem from the current kubectl context: the namespace `tandem` and everything in it, volumes included.
#
#   npm run k8s:undeploy
#
# In an order that cannot leave the namespace stuck in Terminating: the services first (nothing new comes in), then
# the operators' custom resources while their operators still run (each holds a finalizer its operator removes:
# topology resources and topics before the clusters they live in, KEDA's ScaledObjects), then the namespace.
# A resource whose operator is gone would hold its finalizer for ever: the script stops at the timeout and names it.
set -euo pipefail
namespace=tandem
timeout=${TIMEOUT:-5m}
say() { echo "k8s:undeploy: $*"; }

if ! kubectl get namespace "$namespace" >/dev/null 2>&1; then
  say "no namespace $namespace in $(kubectl config current-context): nothing to do"
  exit 0
fi
say "context $(kubectl config current-context)"
kubectl -n "$namespace" delete deployment,horizontalpodautoscaler --selector 'app.kubernetes.io/part-of=tandem' \
  --ignore-not-found --wait --timeout="$timeout"

served=$(kubectl api-resources -o name)
for kind in scaledobjects.keda.sh triggerauthentications.keda.sh \
  queues.rabbitmq.com permissions.rabbitmq.com users.rabbitmq.com \
  kafkatopics.kafka.strimzi.io kafkausers.kafka.strimzi.io \
  kafkas.kafka.strimzi.io kafkanodepools.kafka.strimzi.io rabbitmqclusters.rabbitmq.com; do
  grep -qx "$kind" <<<"$served" || continue
  kubectl -n "$namespace" delete "$kind" --all --ignore-not-found --wait --timeout="$timeout" ||
    { say "$kind still held by a finalizer: is its operator running?"; exit 1; }
done

kubectl delete namespace "$namespace" --wait --timeout="$timeout"
say "done"
