#!/usr/bin/env bash
# The local cluster's kubectl and kubeconfig for a shell or a script:
#   source k8s/local/env.sh      exports KUBECONFIG and KUBECTL, and puts the built kubectl first on PATH
#   bash k8s/local/env.sh        prints the same as export lines (eval "$(bash k8s/local/env.sh)")
# Fails when the cluster has not been brought up (`npm run k8s:up`).
_tandem_k8s_env() {
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  if [ ! -f "$kubeconfig" ] || [ ! -x "$bin/kubectl" ]; then
    echo "k8s/local/env.sh: no local cluster here (run npm run k8s:up)" >&2
    return 1
  fi
  printf 'export KUBECONFIG=%q\nexport KUBECTL=%q\nexport PATH=%q:"$PATH"\n' "$kubeconfig" "$bin/kubectl" "$bin"
}
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _tandem_k8s_env
else
  _tandem_k8s_env_lines=$(_tandem_k8s_env) && eval "$_tandem_k8s_env_lines"
  unset -f _tandem_k8s_env
  unset _tandem_k8s_env_lines
fi
