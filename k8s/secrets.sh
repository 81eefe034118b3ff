#!/usr/bin/env bash
# Creates the Secrets tandem needs, with random values, in the namespace (default `tandem`) of the current kubectl
# context. A Secret that exists already is left as it is, so running this again is harmless and never rotates a
# password under a running store. No value is printed, written to a file or kept in the repository.
#
#   bash k8s/secrets.sh [namespace] [--kafka-user]
#
# --kafka-user also makes Kafka's SCRAM login `tandem` (the Secret Strimzi's User Operator makes for the KafkaUser):
# for a Kafka run without Strimzi (k8s/overlays/no-operator); with Strimzi, leave it to the User Operator.
#
# The `ensure` lines below are the whole list; deploy-tests checks that every secretKeyRef of the manifests is
# created here (or by an operator). Passwords are hex, so that they can stand in URLs without escaping.
set -euo pipefail
namespace=tandem
kafka_user=no
for arg in "$@"; do
  case $arg in
    --kafka-user) kafka_user=yes ;;
    -*) echo "secrets.sh: unknown option $arg" >&2; exit 2 ;;
    *) namespace=$arg ;;
  esac
done

random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# ensure NAME KEY[=VALUE]...: a KEY without a value gets a random one.
ensure() {
  local name=$1
  shift
  if kubectl --namespace "$namespace" get secret "$name" >/dev/null 2>&1; then
    echo "secret/$name exists: kept"
    return
  fi
  local args=()
  for pair in "$@"; do
    if [[ $pair == *=* ]]; then args+=("--from-literal=$pair"); else args+=("--from-literal=$pair=$(random)"); fi
  done
  kubectl --namespace "$namespace" create secret generic "$name" "${args[@]}" >/dev/null
  echo "secret/$name created"
}

kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"

# Redis (kafka-consumer's store) and Valkey (rabbit-consumer's store).
ensure redis password
ensure valkey password
# The RabbitMQ user of the services; rabbitmq-operator/topology.yaml imports it into RabbitMQ (User `tandem`).
ensure rabbitmq-tandem username=tandem password
# Grafana's admin (component grafana).
ensure grafana admin-user=admin admin-password
# The edge's API keys, read as EDGE_API_KEYS (comma-separated; clients send them as Bearer tokens). One random key
# to start with; k8s/README.md ("API keys") shows how to read it, add keys for more clients, and rotate.
ensure edge-api-keys keys
# Kafka's login, where no Strimzi User Operator makes it (the broker creates the user from it: overlays/no-operator).
if [[ $kafka_user == yes ]]; then
  ensure tandem password
fi
