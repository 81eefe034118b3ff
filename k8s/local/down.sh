#!/usr/bin/env bash
# `npm run k8s:down`: stops the local cluster and removes everything it set on the host — processes (the daemons,
# every container), mounts, network namespaces, the bridge and its veths, iptables rules and chains, cgroups, the
# sysctls it changed, the kubelet's /var/log/containers links — then its state folder (.tools/k8s/cluster). The
# built binaries and images stay in .tools/k8s. Works on a crashed or half-started cluster too: it relies on no
# daemon answering, only on what it finds on the host, and ends by checking that nothing is left.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root"

phase "processes"
# The node first, so that nothing restarts what is being stopped; etcd last.
order=(kubelet kube-proxy kube-controller-manager kube-scheduler containerd kube-apiserver etcd)
signal_all() { # signal_all SIGNAL PID…
  local sig=$1
  shift
  [ $# -gt 0 ] && kill "-$sig" "$@" 2> /dev/null || true
}
wait_gone() { # wait_gone SECONDS PID…: true when all have exited
  local deadline=$(($(date +%s) + $1)) pid
  shift
  for pid in "$@"; do
    while [ -d "/proc/$pid" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2> /dev/null)" != Z ]; do
      [ "$(date +%s)" -lt "$deadline" ] || return 1
      sleep 0.1
    done
  done
}
for name in "${order[@]}"; do
  pidfile="$state/run/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [ -d "/proc/$pid" ]; then
    signal_all TERM "$pid"
    wait_gone 10 "$pid" || signal_all KILL "$pid"
    say "  $name stopped (pid $pid)"
  fi
  rm -f "$pidfile"
done
# Every container's processes: all of them are in the kubelet's cgroups (cgroupfs driver: /kubepods in each
# hierarchy). Then the containerd shims, and any daemon whose pid file a crash lost.
container_pids() { find /sys/fs/cgroup/*/kubepods -name cgroup.procs -exec cat {} + 2> /dev/null | sort -un; }
mapfile -t pids < <(container_pids)
if [ ${#pids[@]} -gt 0 ]; then
  signal_all KILL "${pids[@]}"
  say "  ${#pids[@]} container processes killed"
fi
mapfile -t pids < <(cluster_pids)
if [ ${#pids[@]} -gt 0 ]; then
  signal_all TERM "${pids[@]}"
  wait_gone 10 "${pids[@]}" || signal_all KILL "${pids[@]}"
  say "  ${#pids[@]} other processes of the cluster stopped (${pids[*]})"
fi
mapfile -t pids < <(container_pids)
[ ${#pids[@]} -eq 0 ] || wait_gone 10 "${pids[@]}" || die "container processes still running: ${pids[*]}"

phase "mounts"
# Container root filesystems, the kubelet's volumes, the pods' /dev/shm and network namespaces: all below the two
# folders. Deepest first; a lazy unmount for one still busy.
ours() {
  awk -v a="$state/" -v b="$run/" -v c="$state" -v d="$run" \
    '{ p = $5; gsub(/\\040/, " ", p); if (index(p, a) == 1 || index(p, b) == 1 || p == c || p == d) print p }' \
    /proc/self/mountinfo | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}
count=0
for _ in 1 2 3 4 5; do
  mapfile -t mounts < <(ours)
  [ ${#mounts[@]} -gt 0 ] || break
  for mount in "${mounts[@]}"; do
    umount "$mount" 2> /dev/null || umount -l "$mount" 2> /dev/null || true
    count=$((count + 1))
  done
done
[ -z "$(ours)" ] || die "mounts left: $(ours | tr '\n' ' ')"
say "  $count unmounted"

phase "network"
# The veths of the pods' namespaces go with the namespaces; remove any left on the bridge, then the bridge.
for veth in $(ip -o link show master "$bridge" 2> /dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
  ip link del "$veth" 2> /dev/null || true
done
if ip link show "$bridge" > /dev/null 2>&1; then
  ip link del "$bridge"
  say "  bridge $bridge removed"
fi
# kube-proxy's chains (KUBE-…), the CNI plugins' (CNI-…), the kubelet's canaries, and the rules that jump to them
# from the built-in chains; in every table, IPv4 and IPv6. Other rules on the host are left alone.
for family in iptables ip6tables; do
  command -v "$family-save" > /dev/null || continue
  removed=0
  for table in filter nat mangle raw security; do
    rules=$("$family-save" -t "$table" 2> /dev/null) || continue
    while IFS= read -r rule; do
      eval "$family -w -t $table -D ${rule#-A }" 2> /dev/null && removed=$((removed + 1))
    done < <(grep -E '^-A [A-Z]+ .*-[jg] (KUBE|CNI)-' <<< "$rules" | grep -Ev '^-A (KUBE|CNI)-' || true)
    chains=$(grep -oE '^:(KUBE|CNI)-[^ ]+' <<< "$rules" | cut -c2- || true)
    for chain in $chains; do "$family" -w -t "$table" -F "$chain" 2> /dev/null || true; done
    for chain in $chains; do
      "$family" -w -t "$table" -X "$chain" 2> /dev/null && removed=$((removed + 1))
    done
  done
  [ "$removed" = 0 ] || say "  $family: $removed rules and chains removed"
done

phase "host"
# The pods' cgroups, deepest first (empty now that their processes are gone).
for hierarchy in /sys/fs/cgroup/*/kubepods; do
  [ -d "$hierarchy" ] || continue
  find "$hierarchy" -depth -type d -exec rmdir {} + 2> /dev/null || true
  [ ! -d "$hierarchy" ] || find "$hierarchy" -depth -type d -exec rmdir {} \; 2> /dev/null || true
done
if [ -f "$state/host/sysctl.orig" ]; then
  while IFS= read -r setting; do sysctl -qw "$setting" 2> /dev/null || true; done < "$state/host/sysctl.orig"
  say "  sysctls restored ($(cut -d= -f1 "$state/host/sysctl.orig" | tr '\n' ' '))"
fi
if [ -d /var/log/containers ]; then
  find /var/log/containers -maxdepth 1 -type l -lname "$state/*" -delete
  [ -f "$state/host/created-var-log-containers" ] && rmdir /var/log/containers 2> /dev/null || true
fi
# libcni's cache of the pods' network results (a fixed path: containerd 1.6 has no setting for it).
rm -f /var/lib/cni/results/"$cni_network"-*
[ -f "$state/host/created-var-lib-cni" ] && rm -rf /var/lib/cni
[ -f "$state/host/created-run-containerd" ] && rm -rf /run/containerd
rm -rf "$state" "$run"
say "  $state and $run removed"

phase "check"
left=()
[ -z "$(cluster_pids)" ] || left+=("processes: $(cluster_pids | tr '\n' ' ')")
[ -z "$(ours)" ] || left+=("mounts")
! ip link show "$bridge" > /dev/null 2>&1 || left+=("bridge $bridge")
for family in iptables ip6tables; do
  command -v "$family-save" > /dev/null || continue
  ! "$family-save" 2> /dev/null | grep -qE '(KUBE|CNI)-' || left+=("$family rules")
done
ls /sys/fs/cgroup/*/kubepods > /dev/null 2>&1 && left+=("cgroups /sys/fs/cgroup/*/kubepods")
[ ${#left[@]} -eq 0 ] || die "left on the host: ${left[*]}"
phase ""
say "down in $(elapsed "$started_at" "$(date +%s%N)"): nothing of the cluster left on the host"
