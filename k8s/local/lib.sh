# Shared by up.sh, down.sh, env.sh and load-image.sh: where the local cluster's pieces live, and small helpers.
# Sourced, never run.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
local_dir="$root/k8s/local"

k8s_version=v1.32.13
coredns_module=github.com/coredns/coredns@v1.12.4
metrics_server_module=sigs.k8s.io/metrics-server/cmd/metrics-server@v0.8.0

# Built binaries and image archives: kept by `down` (a rebuild takes a quarter of an hour).
tools="$root/.tools/k8s"
bin="$tools/bin"
images="$tools/images"
# Everything the running cluster writes — certificates, kubeconfigs, etcd's data, logs, the kubelet's and
# containerd's folders: git-ignored (under .tools), and removed by `down`.
state="$tools/cluster"
# Sockets and containerd's runtime state: on tmpfs, and short enough for a unix socket path from any checkout.
run=/run/tandem-k8s
containerd_sock="$run/containerd.sock"

kubeconfig="$state/admin.kubeconfig"
node_name=tandem-local
api_port=6443
# The local stack uses Kafka 9092/9093, RabbitMQ 5672/15672/25672/4369, Redis 6379, Valkey 6380, and the fault
# suite the same +1000; etcd's defaults (2379/2380) are free too, but these make a clash with a system etcd unlikely.
etcd_client_port=12379
etcd_peer_port=12380
cluster_cidr=10.244.0.0/16
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/16
api_service_ip=10.96.0.1
dns_service_ip=10.96.0.10
bridge=tandem-cni0
cni_network=tandem-k8s

pause_image=tandem.local/pause:$k8s_version
coredns_image=tandem.local/coredns:${coredns_module##*@}
metrics_server_image=tandem.local/metrics-server:${metrics_server_module##*@}

# The sysctls the cluster needs or that the kubelet sets on start (protectKernelDefaults is off); `up` records
# their values once, before changing anything, and `down` puts them back.
host_sysctls=(
  net.ipv4.ip_forward
  net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables
  net.ipv4.conf.all.route_localnet
  vm.overcommit_memory
  vm.panic_on_oom
  kernel.panic
  kernel.panic_on_oops
  kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes
)

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\033[36mk8s\033[0m %s\n' "$*"; }
else
  say() { printf 'k8s %s\n' "$*"; }
fi
die() {
  say "error: $*" >&2
  exit 1
}

started_at=$(date +%s%N)
phase_at=$started_at
# phase NAME: ends the previous phase (printing how long it took) and starts NAME.
phase_name=
phase() {
  local now
  now=$(date +%s%N)
  [ -n "$phase_name" ] && say "  $phase_name done in $(elapsed "$phase_at" "$now")"
  phase_name=$1
  phase_at=$now
  [ -n "$phase_name" ] && say "$phase_name …"
  return 0
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fs", (b - a) / 1e9 }'; }

# write_if_changed FILE: writes stdin to FILE only when the content differs, so that a process watching the file
# (kube-proxy exits when its configuration file changes) sees no change on a second `up`. Returns 0 when written.
write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat > "$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  mv "$tmp" "$file"
  return 0
}

# The pids of the daemons the cluster runs on the host: the ones in the pid files, and — after a crash that lost
# them — every process running one of the cluster's daemon binaries from $bin, and every etcd, containerd and
# containerd shim whose command line names this cluster's folders (never a kubectl or a shell of someone else).
cluster_pids() {
  local pidfile pid exe
  for pidfile in "$state"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    [ -d "/proc/$pid" ] && echo "$pid"
  done
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
    exe=${exe% (deleted)}
    case "$exe" in
      "$bin"/kube-apiserver | "$bin"/kube-controller-manager | "$bin"/kube-scheduler | "$bin"/kubelet | "$bin"/kube-proxy)
        echo "$pid" ;;
      */etcd | */containerd | */containerd-shim-runc-v2)
        case "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" in *"$state/"* | *"$run/"* | *"$run "*) echo "$pid" ;; esac
        ;;
    esac
  done | sort -un
}
