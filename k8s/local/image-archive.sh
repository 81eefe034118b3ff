#!/usr/bin/env bash
# image-archive.sh NAME:TAG OUT.tar BINARY — packs one static binary into a one-layer image (Docker archive format,
# which `ctr images import` reads), with the binary as /<its name> and as the entrypoint. The cluster's own images
# (the pod sandbox, CoreDNS, metrics-server) are made this way from binaries built with Go, because no image
# registry is reachable from these machines. Reproducible: same binary, same archive.
set -euo pipefail
ref=$1 out=$2 binary=$3
name=$(basename "$binary")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/tmp" "$work/archive"
install -m 0755 "$binary" "$work/rootfs/$name"
chmod 1777 "$work/rootfs/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" -C "$work/rootfs" .
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/archive/$layer_sha"
mv "$work/layer.tar" "$work/archive/$layer_sha/layer.tar"
printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/%s"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$(go env GOARCH)" "$name" "$layer_sha" > "$work/config.json"
config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/archive/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config_sha" "$ref" "$layer_sha" \
  > "$work/archive/manifest.json"
mkdir -p "$(dirname "$out")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$out.partial" -C "$work/archive" .
mv "$out.partial" "$out"
