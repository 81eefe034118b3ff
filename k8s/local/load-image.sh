#!/usr/bin/env bash
# load-image.sh ARCHIVE…: imports image archives into the local cluster's containerd, where the kubelet finds them
# (namespace k8s.io). An archive holds one image, as `podman save --format docker-archive -o x.tar NAME:TAG` or
# `docker save` writes it (podman 4.3's multi-image archives import as one image: save one per archive). Pods
# then use NAME:TAG with imagePullPolicy IfNotPresent (the default for a pinned tag) or Never. Prints the names
# imported.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -gt 0 ] || die "usage: k8s/local/load-image.sh ARCHIVE…"
[ -S "$containerd_sock" ] || die "the local cluster's containerd is not running (npm run k8s:up)"
for archive in "$@"; do
  ctr --address "$containerd_sock" -n k8s.io images import "$archive" | sed -n 's/^unpacking \(.*\) (sha256:.*/\1/p'
done
