#!/usr/bin/env bash
# For a one-node cluster without a volume provisioner (the local cluster of k8s/local): one hostPath
# PersistentVolume for each claim that k8s/overlays/no-operator's StatefulSets make, bound to that claim in
# advance, its data in a folder of the node (default: .tools/k8s/cluster/volumes, which `npm run k8s:down` removes).
# A volume left Released by an earlier deployment is deleted and its folder emptied: a new claim starts empty, as
# with a provisioner. k8s/deploy.sh runs this only on the local cluster's node; a real cluster has a StorageClass.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${VOLUMES_DIR:-$PWD/.tools/k8s/cluster/volumes}
namespace=tandem
for claim in data-redis-0 data-valkey-0 data-tandem-kafka-0 data-rabbitmq-server-0; do
  pv=tandem-$claim
  phase=$(kubectl get pv "$pv" -o jsonpath='{.status.phase}' 2>/dev/null || true)
  if [ "$phase" = Released ] || [ "$phase" = Failed ]; then
    kubectl delete pv "$pv" --wait=true >/dev/null
    rm -rf "${dir:?}/$claim"
    phase=
  fi
  [ -n "$phase" ] && continue
  # Any uid may write: hostPath volumes ignore the pods' fsGroup, and each store runs as a user of its own.
  mkdir -p "$dir/$claim" && chmod 0777 "$dir/$claim"
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $pv
  labels:
    app.kubernetes.io/part-of: tandem
spec:
  capacity:
    storage: 5Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  claimRef:
    namespace: $namespace
    name: $claim
  hostPath:
    path: $dir/$claim
    type: Directory
YAML
  echo "persistentvolume/$pv: $dir/$claim"
done
