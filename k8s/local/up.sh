#!/usr/bin/env bash
# `npm run k8s:up`: a one-node Kubernetes on this machine, without Docker (k8s/local/README.md).
#
#   packages       etcd, containerd, runc, the CNI plugins and iptables from Debian (apt-get, when missing)
#   binaries       kube-apiserver, -controller-manager, -scheduler, kubelet, kube-proxy and kubectl built from the
#                  Kubernetes Go modules (k8s/local/kube/go.mod pins the version); CoreDNS and metrics-server with
#                  go install; the pod sandbox's pause (kube/pause); all into .tools/k8s/bin, rebuilt only when a
#                  pin changes. The first build takes a quarter of an hour; Go's build cache makes later ones quick.
#   host           records the sysctls it changes, then turns on IP forwarding and bridge netfilter
#   certificates   a CA, the servers' and clients' certificates, kubeconfigs (.tools/k8s/cluster)
#   control plane  etcd, kube-apiserver (with the aggregation layer for metrics-server), controller-manager,
#                  scheduler
#   node           containerd (runc, cgroupfs), the bridge CNI network, kubelet, kube-proxy (iptables)
#   add-ons        CoreDNS and metrics-server in kube-system, from images made here
#
# Idempotent: every step checks first, files are rewritten only when their content changes, and a daemon is
# restarted only when its command line, a file it reads or its binary changed. `down.sh` removes it all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root: the kubelet, containerd and kube-proxy manage cgroups, mounts and iptables"
[ "$(uname -s)" = Linux ] || die "Linux only"

# ---------------------------------------------------------------------------------------------------------------
phase "packages"
# A file each package installs: present ⇒ installed.
declare -A packages=(
  [etcd-server]=/usr/bin/etcd
  [containerd]=/usr/bin/containerd
  [runc]=/usr/sbin/runc
  [containernetworking-plugins]=/usr/lib/cni/bridge
  [iptables]=/usr/sbin/iptables
  [conntrack]=/usr/sbin/conntrack
  [openssl]=/usr/bin/openssl
  [iproute2]=/usr/sbin/ip
  [curl]=/usr/bin/curl
)
missing=()
for pkg in "${!packages[@]}"; do [ -e "${packages[$pkg]}" ] || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "  apt-get install ${missing[*]}"
  # The packages would start system-wide etcd and containerd services; policy-rc.d (exit 101) forbids that.
  own_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=true
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
  $own_policy && rm -f /usr/sbin/policy-rc.d
fi
command -v go > /dev/null || die "Go is needed to build Kubernetes (the version in k8s/local/kube/go.mod or newer)"

# ---------------------------------------------------------------------------------------------------------------
phase "binaries"
mkdir -p "$bin" "$images"
kube_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
# The version the binaries report (kubectl version, the node's kubeletVersion): set at link time, as Kubernetes'
# own build does; changing it relinks only.
minor=${k8s_version#v1.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
kube_stamp=$( (stamp_of "$local_dir"/kube/go.mod "$local_dir"/kube/go.sum "$local_dir"/kube/pause/main.go; echo "$ldflags"; go version) | sha256sum | cut -d' ' -f1)
built() { [ -f "$bin/.$1.stamp" ] && [ "$(cat "$bin/.$1.stamp")" = "$2" ]; }
if ! built kube "$kube_stamp"; then
  say "  building Kubernetes $k8s_version (${kube_cmds[*]}): about 15 minutes the first time, with a line per 100 packages"
  t0=$(date +%s%N)
  # -trimpath: the same cache keys from any checkout folder. Go's build cache (GOCACHE) is kept between runs.
  if ! (cd "$local_dir/kube" && go build -v -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin/" \
    "${kube_cmds[@]/#/k8s.io/kubernetes/cmd/}") 2>&1 \
    | awk '/^go: downloading/ { d++; next } /^[^ ]+$/ { c++; if (c % 100 == 0) printf "k8s     %d packages compiled, %d modules downloaded\n", c, d; fflush(); next } { print }'; then
    die "go build of Kubernetes failed"
  fi
  (cd "$local_dir/kube" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$bin/pause" ./pause)
  echo "$kube_stamp" > "$bin/.kube.stamp"
  say "  built in $(elapsed "$t0" "$(date +%s%N)")"
fi
for module in "$coredns_module" "$metrics_server_module"; do
  name=${module%@*}
  name=${name##*/}
  stamp=$( (echo "$module"; go version) | sha256sum | cut -d' ' -f1)
  built "$name" "$stamp" && continue
  say "  go install $module"
  t0=$(date +%s%N)
  # Static (no cgo): the binary is the whole image.
  CGO_ENABLED=0 GOBIN="$bin" go install -trimpath -ldflags "-s -w" "$module"
  echo "$stamp" > "$bin/.$name.stamp"
  say "  $name built in $(elapsed "$t0" "$(date +%s%N)")"
done
for image in "$pause_image:pause" "$coredns_image:coredns" "$metrics_server_image:metrics-server"; do
  ref=${image%:*}
  binary=${image##*:}
  archive="$images/$binary.tar"
  if [ ! -f "$archive" ] || [ "$bin/$binary" -nt "$archive" ] || [ "$(cat "$archive.ref" 2> /dev/null)" != "$ref" ]; then
    bash "$local_dir/image-archive.sh" "$ref" "$archive" "$bin/$binary"
    echo "$ref" > "$archive.ref"
  fi
done
kubectl="$bin/kubectl"
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }

# ---------------------------------------------------------------------------------------------------------------
phase "host"
mkdir -p "$state"/{host,run,logs,pki,etcd,kubelet,pod-logs,cni/net.d,cni/ipam,containerd} "$run"
if [ ! -f "$state/host/sysctl.orig" ]; then
  for key in "${host_sysctls[@]}"; do
    value=$(sysctl -n "$key" 2> /dev/null) && printf '%s=%s\n' "$key" "$value"
  done > "$state/host/sysctl.orig.partial"
  mv "$state/host/sysctl.orig.partial" "$state/host/sysctl.orig"
  # The kubelet links every container's log into /var/log/containers; `down` removes that folder if it made it.
  [ -d /var/log/containers ] || touch "$state/host/created-var-log-containers"
  [ -d /var/lib/cni ] || touch "$state/host/created-var-lib-cni"
  # containerd 1.6's shims keep their sockets in /run/containerd/s whatever the configuration says.
  [ -d /run/containerd ] || touch "$state/host/created-run-containerd"
fi
# Pods reach Services and the outside through the bridge: packets must be forwarded and seen by iptables.
[ -d /proc/sys/net/bridge ] || modprobe br_netfilter 2> /dev/null || die "bridge netfilter (br_netfilter) is not available"
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
node_ip=$(ip -4 route get 1.1.1.1 2> /dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "src") { print $(i + 1); exit } }')
[ -n "$node_ip" ] || die "no IPv4 address with a default route: the node needs one"
say "  node $node_name, $node_ip"

# ---------------------------------------------------------------------------------------------------------------
phase "certificates"
pki="$state/pki"
ca() { # ca NAME CN: a self-signed CA, made once
  [ -f "$pki/$1.crt" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$2" -keyout "$pki/$1.key" -out "$pki/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2> /dev/null
}
# cert NAME CA SUBJECT USAGE [SANS]: a key and a certificate signed by CA, remade when the subject or the SANs
# change (the node's address can differ from one boot to the next).
cert() {
  local name=$1 signer=$2 subject=$3 usage=$4 sans=${5:-}
  local spec="$signer|$subject|$usage|$sans"
  [ -f "$pki/$name.crt" ] && [ "$(cat "$pki/$name.spec" 2> /dev/null)" = "$spec" ] && return 0
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } > "$ext"
  openssl req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$pki/$name.key" -out "$pki/$name.csr" 2> /dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$signer.crt" -CAkey "$pki/$signer.key" -CAcreateserial \
    -days 825 -extfile "$ext" -out "$pki/$name.crt" 2> /dev/null
  rm -f "$ext" "$pki/$name.csr"
  echo "$spec" > "$pki/$name.spec"
}
ca ca tandem-local-ca
ca front-proxy-ca tandem-local-front-proxy-ca
[ -f "$pki/sa.key" ] || {
  openssl genrsa -out "$pki/sa.key" 2048 2> /dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2> /dev/null
}
cert apiserver ca /CN=kube-apiserver serverAuth \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$api_service_ip,IP:$node_ip"
cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert front-proxy-client front-proxy-ca /CN=front-proxy-client clientAuth
cert admin ca "/O=system:masters/CN=tandem-local-admin" clientAuth
cert controller-manager ca /CN=system:kube-controller-manager clientAuth
cert scheduler ca /CN=system:kube-scheduler clientAuth
cert kube-proxy ca /CN=system:kube-proxy clientAuth
cert kubelet-client ca "/O=system:nodes/CN=system:node:$node_name" clientAuth
# The kubelet's serving certificate is signed by the cluster CA, so that the API server and metrics-server verify
# the kubelet (no --kubelet-insecure-tls).
cert kubelet-serving ca "/CN=$node_name" serverAuth "DNS:$node_name,IP:$node_ip"
kubeconfig_for() { # kubeconfig_for NAME CERT
  write_if_changed "$state/$1.kubeconfig" << EOF || true
apiVersion: v1
kind: Config
clusters:
  - name: tandem-local
    cluster: { server: "https://127.0.0.1:$api_port", certificate-authority: "$pki/ca.crt" }
users:
  - name: $2
    user: { client-certificate: "$pki/$2.crt", client-key: "$pki/$2.key" }
contexts:
  - name: tandem-local
    context: { cluster: tandem-local, user: $2 }
current-context: tandem-local
EOF
}
kubeconfig_for admin admin
kubeconfig_for controller-manager controller-manager
kubeconfig_for scheduler scheduler
kubeconfig_for kube-proxy kube-proxy
kubeconfig_for kubelet kubelet-client

# ---------------------------------------------------------------------------------------------------------------
# daemon NAME FILES -- COMMAND…: starts COMMAND in the background (log in $state/logs/NAME.log) unless it already
# runs with the same command line, the same FILES (those it reads) and the same binary. Prints whether it started.
daemon() {
  local name=$1
  shift
  local files=()
  while [ "$1" != -- ]; do
    files+=("$1")
    shift
  done
  shift
  local spec pidfile="$state/run/$name.pid" pid exe
  # A rebuilt binary shows as "… (deleted)" in /proc/PID/exe, so a changed binary fails the exe check below.
  spec=$( (printf '%s\n' "$@"; [ ${#files[@]} -eq 0 ] || cat "${files[@]}") | sha256sum | cut -d' ' -f1)
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    exe=$(readlink "/proc/$pid/exe" 2> /dev/null || true)
    if [ "$exe" = "$(readlink -f "$1")" ] && [ "$(cat "$state/run/$name.spec" 2> /dev/null)" = "$spec" ]; then
      say "  $name running (pid $pid)"
      return 0
    fi
    if [ -n "$exe" ]; then
      say "  $name changed: restarting"
      stop_pid "$pid"
    fi
  fi
  setsid "$@" >> "$state/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  echo "$spec" > "$state/run/$name.spec"
  say "  $name started (pid $!, log $state/logs/$name.log)"
}
stop_pid() {
  kill "$1" 2> /dev/null || return 0
  for _ in $(seq 50); do
    [ -d "/proc/$1" ] || return 0
    sleep 0.1
  done
  kill -9 "$1" 2> /dev/null || true
}
# wait_for WHAT SECONDS COMMAND…: retries COMMAND until it succeeds; on a timeout, names the log to read.
wait_for() {
  local what=$1 seconds=$2 deadline
  shift 2
  deadline=$(($(date +%s) + seconds))
  until "$@" > /dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$what not ready after ${seconds}s (logs: $state/logs/)"
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------------------------
phase "control plane"
daemon etcd -- /usr/bin/etcd --name "$node_name" --data-dir "$state/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_client_port" --advertise-client-urls "http://127.0.0.1:$etcd_client_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "$node_name=http://127.0.0.1:$etcd_peer_port" --initial-cluster-state new \
  --quota-backend-bytes 2147483648 --snapshot-count 10000
wait_for etcd 30 curl -fsS "http://127.0.0.1:$etcd_client_port/health"

daemon kube-apiserver "$pki/apiserver.crt" "$pki/ca.crt" -- "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_client_port" \
  --advertise-address "$node_ip" --secure-port "$api_port" \
  --service-cluster-ip-range "$service_cidr" --service-node-port-range 30000-32767 \
  --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$pki/ca.crt" \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
  --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
  --enable-aggregator-routing=true --profiling=false
wait_for kube-apiserver 90 k get --raw /readyz

daemon kube-controller-manager "$state/controller-manager.kubeconfig" -- "$bin/kube-controller-manager" \
  --kubeconfig "$state/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --cluster-cidr "$cluster_cidr" --service-cluster-ip-range "$service_cidr" \
  --controllers '*,bootstrapsigner,tokencleaner' --profiling=false
daemon kube-scheduler "$state/scheduler.kubeconfig" -- "$bin/kube-scheduler" \
  --kubeconfig "$state/scheduler.kubeconfig" \
  --authentication-kubeconfig "$state/scheduler.kubeconfig" --authorization-kubeconfig "$state/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --profiling=false
wait_for kube-controller-manager 60 curl -fsSk https://127.0.0.1:10257/healthz
wait_for kube-scheduler 60 curl -fsSk https://127.0.0.1:10259/healthz

# ---------------------------------------------------------------------------------------------------------------
phase "node"
# runc, not crun: Debian's crun 1.8 refuses this machine's mixed cgroup v1/v2 layout. restrict_oom_score_adj:
# root here lacks CAP_SYS_RESOURCE, and the kubelet's oom_score_adj of -998 for sandboxes would kill runc init.
# Network namespaces live under containerd's state folder, so `down` finds every one of them.
write_if_changed "$state/containerd/config.toml" << EOF || true
version = 2
root = "$state/containerd/root"
state = "$run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$containerd_sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "$run/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni/net.d"
EOF
write_if_changed "$state/cni/net.d/10-$cni_network.conflist" << EOF || true
{
  "cniVersion": "1.0.0",
  "name": "$cni_network",
  "plugins": [
    {
      "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$pod_cidr" }]], "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": "$state/cni/ipam" }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
daemon containerd "$state/containerd/config.toml" -- /usr/bin/containerd --config "$state/containerd/config.toml"
ctr() { command ctr --address "$containerd_sock" "$@"; }
wait_for containerd 30 ctr version
for image in "$pause_image:pause" "$coredns_image:coredns" "$metrics_server_image:metrics-server"; do
  ref=${image%:*}
  archive="$images/${image##*:}.tar"
  # Imported again only when the archive changed (its manifest names the config's and the layer's digests).
  marker="$state/containerd/imported-${image##*:}"
  want=$(tar -xOf "$archive" ./manifest.json | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$marker" 2> /dev/null)" != "$want" ] || [ -z "$(ctr -n k8s.io images ls -q "name==$ref")" ]; then
    ctr -n k8s.io images import "$archive" > /dev/null
    echo "$want" > "$marker"
    say "  image $ref imported"
  fi
done

write_if_changed "$state/kubelet/config.yaml" << EOF || true
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$containerd_sock
# cgroup v1 here: supported by 1.32 with this flag (deprecated upstream; stay on 1.32–1.34). cgroupfs, as
# containerd's runc (no systemd on these machines).
failCgroupV1: false
cgroupDriver: cgroupfs
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: "$pki/ca.crt" }
authorization: { mode: Webhook }
tlsCertFile: "$pki/kubelet-serving.crt"
tlsPrivateKeyFile: "$pki/kubelet-serving.key"
clusterDomain: cluster.local
clusterDNS: ["$dns_service_ip"]
resolvConf: /etc/resolv.conf
podLogsDir: "$state/pod-logs"
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
failSwapOn: false
serializeImagePulls: false
# A shared machine: no image garbage collection or evictions because of what others put on the disk.
imageGCHighThresholdPercent: 100
evictionHard: { memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1% }
EOF
daemon kubelet "$state/kubelet/config.yaml" "$state/kubelet.kubeconfig" "$pki/kubelet-serving.crt" -- "$bin/kubelet" \
  --config "$state/kubelet/config.yaml" --kubeconfig "$state/kubelet.kubeconfig" \
  --root-dir "$state/kubelet" --hostname-override "$node_name" --node-ip "$node_ip" \
  --pod-infra-container-image "$pause_image"

write_if_changed "$state/kube-proxy.yaml" << EOF || true
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: "$state/kube-proxy.kubeconfig" }
mode: iptables
hostnameOverride: $node_name
clusterCIDR: $cluster_cidr
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts on the node's own address only, not on 127.0.0.1 (which would need route_localnet).
nodePortAddresses: ["primary"]
iptables: { localhostNodePorts: false }
# 0: leave the host's conntrack table size and timeouts as they are.
conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
daemon kube-proxy "$state/kube-proxy.yaml" "$state/kube-proxy.kubeconfig" -- "$bin/kube-proxy" \
  --config "$state/kube-proxy.yaml"
wait_for "node $node_name" 120 k wait --for=condition=Ready "node/$node_name" --timeout=2s

# ---------------------------------------------------------------------------------------------------------------
phase "add-ons"
for file in "$local_dir"/addons/*.yaml; do
  echo ---
  sed -e "s|@DNS_SERVICE_IP@|$dns_service_ip|" -e "s|@COREDNS_IMAGE@|$coredns_image|" \
    -e "s|@METRICS_SERVER_IMAGE@|$metrics_server_image|" "$file"
done > "$state/addons.yaml"
applied=$(k apply --server-side --field-manager tandem-local -f "$state/addons.yaml")
say "  CoreDNS and metrics-server: $(grep -c . <<< "$applied") objects applied (server-side: unchanged ones stay)"
k -n kube-system rollout status deployment/coredns --timeout=120s > /dev/null
k -n kube-system rollout status deployment/metrics-server --timeout=120s > /dev/null
wait_for "metrics-server's API" 120 k wait --for=condition=Available apiservice/v1beta1.metrics.k8s.io --timeout=2s

phase ""
say "up in $(elapsed "$started_at" "$(date +%s%N)"): Kubernetes $k8s_version, node $node_name"
say "KUBECONFIG=$kubeconfig"
say "kubectl: $kubectl   (or: source k8s/local/env.sh)"
