# Sourced by the image scripts: podman from Debian, with its configuration, storage and images under the
# git-ignored .tools/images (nothing of the host's own podman set-up is read or changed).
images_dir=$root/.tools/images
mkdir -p "$images_dir/archives"

need=()
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "images: needs the Debian packages ${need[*]}: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "images: installing ${need[*]} (apt-get)"
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=900 "${need[@]}" >/dev/null
fi

# Podman's default rlimits (nofile/nproc raised to 1048576) need CAP_SYS_RESOURCE, which some roots lack (an
# unprivileged container host): ask for less. Not the shell's hard limits: the runtime's own are lower on such hosts
# (seen: conmon at nproc 32768, nofile 20000 refused); 16384 of each is plenty for a build or a test run.
limit() { local hard=$1; if [ "$hard" = unlimited ] || ((hard > 16384)); then echo 16384; else echo "$hard"; fi; }
nofile=$(limit "$(ulimit -Hn)") nproc=$(limit "$(ulimit -Hu)")
cat >"$images_dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat >"$images_dir/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$images_dir/storage"
runroot = "$images_dir/run"
CONF
export CONTAINERS_CONF=$images_dir/containers.conf CONTAINERS_STORAGE_CONF=$images_dir/storage.conf

# podman build does not apply default_ulimits to its RUN steps (it raises nproc for root): the same, explicitly.
build_ulimits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

have_image() { podman image exists "$1"; }
