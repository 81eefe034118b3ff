#!/usr/bin/env bash
# Builds every image k8s/overlays/no-operator and the k6 Job (loadtest/k8s/job.yaml) run, with podman from Debian
# (no Docker engine), and saves each as a Docker archive of its own in .tools/images/archives/ — one image per
# archive, since `ctr images import` takes a multi-image archive of podman 4.3 as one image.
#
#   npm run k8s:images
#
# - localhost/tandem:<tag>: the project's Dockerfile, unchanged. `npm ci` inside it gets the host's npm registry and,
#   when the host has one, its CA bundle (TLS re-signed by a local proxy) through files mounted for the build only:
#   neither is in any layer of the image.
# - localhost/tandem-kafka, localhost/tandem-rabbitmq: kafka/ and rabbitmq/ here (Debian + Java 17 + the local
#   stack's Kafka jars; Debian's rabbitmq-server).
# - The upstream images (Redis, Valkey, k6) are pulled; where their registry cannot be reached, the same-named image
#   is built from Debian here (redis/, valkey/, k6/: older Redis and Valkey, see their Dockerfiles). The base images
#   (debian, node) likewise: base.sh.
# Tags come from the manifests (kustomize `images:` and the image fields): none is `latest`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source k8s/images/podman.sh
source k8s/images/base.sh
say() { echo "images: $*"; }
started=$(date +%s)

# Short names resolve to Docker Hub, as Docker and the kubelet resolve them.
cat >"$images_dir/registries.conf" <<'CONF'
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
CONF
export CONTAINERS_REGISTRIES_CONF=$images_dir/registries.conf

qualify() {
  local name=$1
  if [[ $name != */* ]]; then echo "docker.io/library/$name"
  elif [[ ${name%%/*} == *[.:]* || ${name%%/*} == localhost ]]; then echo "$name"
  else echo "docker.io/$name"; fi
}

kustomize() { if [ -x .tools/bin/kustomize ]; then .tools/bin/kustomize build "$1"; else kubectl kustomize "$1"; fi; }
wanted=$({ kustomize k8s/overlays/no-operator; cat loadtest/k8s/job.yaml; } | sed -n 's/^ *image: *//p' | sort -u)

build_tandem() {
  local name=$1 npmrc ca
  ensure_base "docker.io/library/node:$(tr -d ' \nv' <.nvmrc)-bookworm-slim"
  npmrc=$(mktemp) && trap 'rm -f "$npmrc"' RETURN
  echo "registry=$(npm config get registry)" >"$npmrc"
  local mounts=(--volume "$npmrc:/usr/local/etc/npmrc:ro")
  ca=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile)}
  if [ -n "$ca" ] && [ "$ca" != null ] && [ -f "$ca" ]; then
    echo "cafile=/etc/ssl/tandem-build-ca.pem" >>"$npmrc"
    mounts+=(--volume "$ca:/etc/ssl/tandem-build-ca.pem:ro")
  fi
  podman build --quiet --pull=never --network=host "${build_ulimits[@]}" "${mounts[@]}" -t "$name" . >/dev/null
}

build_dir() {
  # build_dir NAME DOCKERFILE-FOLDER CONTEXT
  ensure_base docker.io/library/debian:bookworm-slim
  podman build --quiet --pull=never --network=host "${build_ulimits[@]}" -t "$1" -f "$2/Dockerfile" "$3" >/dev/null
}

kafka_jars() {
  local version=$1 lib=.tools/kafka-$1/lib
  if [ ! -d "$lib" ]; then
    node --input-type=module -e "import { ensureKafkaJars } from './stack/src/install.ts'; await ensureKafkaJars(console.log);"
  fi
  [ -f "$lib/kafka_2.13-$version.jar" ] || { say "the Kafka jars in $lib are not version $version (stack/kafka/pom.xml)" >&2; exit 1; }
  echo "$lib"
}

for image in $wanted; do
  name=$(qualify "$image")
  at=$(date +%s)
  case $name in
    localhost/tandem:*) say "building $name (Dockerfile)"; build_tandem "$name" ;;
    localhost/tandem-kafka:*) say "building $name"; build_dir "$name" k8s/images/kafka "$(kafka_jars "${name##*:}")" ;;
    localhost/tandem-rabbitmq:*) say "building $name"; build_dir "$name" k8s/images/rabbitmq k8s/images/rabbitmq ;;
    *)
      if have_image "$name"; then :
      elif timeout 60 podman pull --quiet "$name" >/dev/null 2>&1; then say "pulled $name"
      else
        repo=${name%:*}
        standin=k8s/images/${repo##*/}
        [ -f "$standin/Dockerfile" ] || { say "cannot pull $name, and there is no $standin/Dockerfile" >&2; exit 1; }
        say "cannot pull $name: building it from $standin"
        context=$standin
        if [ "${repo##*/}" = k6 ]; then
          # The k6 of the same version, built by loadtest/install-k6.sh; alone in the build context.
          K6_VERSION=v${name##*:} bash loadtest/install-k6.sh >/dev/null
          context=$(mktemp -d) && cp .tools/bin/k6 "$context/"
        fi
        build_dir "$name" "$standin" "$context"
        [ "$context" = "$standin" ] || rm -rf "$context"
      fi ;;
  esac
  # The archive is rewritten only when the image changed (its id is kept beside it).
  archive=$images_dir/archives/$(tr '/:' '__' <<<"$name").tar
  id=$(podman image inspect --format '{{.Id}}' "$name")
  if [ "$(cat "$archive.id" 2>/dev/null)" != "$id" ]; then
    rm -f "$archive" && podman save --quiet --format docker-archive -o "$archive" "$name"
    echo "$id" >"$archive.id"
  fi
  say "$name ready ($(($(date +%s) - at))s) → ${archive#"$root"/}"
done
say "all images in $(($(date +%s) - started))s"
