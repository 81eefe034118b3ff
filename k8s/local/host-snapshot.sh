#!/usr/bin/env bash
# host-snapshot.sh: what the local cluster may change on the host, in a form to diff — iptables rules (IPv4, IPv6;
# counters and the header's date dropped), network namespaces, mounts, links, the sysctls `up` records, and
# /run/containerd, /var/lib/cni, /var/log/containers. To see that `down` leaves the host as `up` found it:
#   bash k8s/local/host-snapshot.sh > before; npm run k8s:up; npm run k8s:down
#   bash k8s/local/host-snapshot.sh > after; diff before after
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for family in iptables ip6tables; do
  echo "## $family"
  # Empty built-in chains of a table are left out: iptables-nft cannot remove a table once made, and they hold no
  # rule.
  "$family-save" 2> /dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//' | grep -vE '^:[A-Z]+ ACCEPT $|^\*|^COMMIT$' || true
done
echo "## netns"
ip netns list 2> /dev/null || true
echo "## mounts"
awk '{ print $5, $9 }' /proc/self/mountinfo | sort
echo "## links"
ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 | sort
echo "## sysctls"
for key in "${host_sysctls[@]}"; do echo "$key=$(sysctl -n "$key" 2> /dev/null || echo -)"; done
echo "## folders"
for dir in /run/containerd /var/lib/cni /var/log/containers /run/tandem-k8s "$state" /sys/fs/cgroup/memory/kubepods; do
  [ -e "$dir" ] && echo "$dir" || true
done
