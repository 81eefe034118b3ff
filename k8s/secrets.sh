#!/usr/bin/env bash
# Creates the Secrets tandem needs, with random values, in the namespace (default `tandem`) of the current kubectl
# context. A Secret that exists already is left as it is, so running this again is harmless and never rotates a
# password under a running store. No value is printed, written to a file or kept in the repository.
#
#   bash k8s/secrets.sh [namespace]
#
# The `ensure` lines below are the whole list; deploy-tests checks that every secretKeyRef of the manifests is
# created here (or by an operator). Passwords are hex, so that they can stand in URLs without escaping.
set -euo pipefail
namespace=${1:-tandem}

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
