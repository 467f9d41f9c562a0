#!/usr/bin/env bash
# Makes the Dockerfile's base image (node:20-bookworm-slim) locally, for machines that reach Debian's
# mirror but no container registry: a debootstrap of bookworm plus this machine's Node and npm.
# Usage: container-base-image.sh CACHE_DIR [IMAGE]. The bookworm tarball is kept in CACHE_DIR, and
# an image already in the store is left as it is. Storage follows CONTAINERS_STORAGE_CONF.
set -euo pipefail
cache=${1:?usage: container-base-image.sh CACHE_DIR [IMAGE]}
image=${2:-docker.io/library/node:20-bookworm-slim}
if buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "base image $image: already built"
  exit 0
fi
mkdir -p "$cache"
rootfs_tar="$cache/bookworm-minbase.tar"
if [ ! -s "$rootfs_tar" ]; then
  # The mirror apt on this machine uses, so the image's apt reaches the same one.
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  rootfs="$cache/rootfs.tmp"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  tar -C "$rootfs" -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$rootfs"
fi
node_bin=$(command -v node)
npm_dir="$(npm root -g)/npm"
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add "$ctr" "$rootfs_tar" /
buildah copy "$ctr" "$node_bin" /usr/local/bin/node
buildah copy "$ctr" "$npm_dir" /usr/local/lib/node_modules/npm
# This machine's trust store, so the image reaches the same registries the way this machine does
# (through a TLS-inspecting gateway, if there is one); the runtime stage's ca-certificates keeps
# the local CAs when it rebuilds the bundle.
buildah copy "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
[ -d /usr/local/share/ca-certificates ] && buildah copy "$ctr" /usr/local/share/ca-certificates /usr/local/share/ca-certificates
buildah run --isolation chroot "$ctr" -- sh -c 'mkdir -p /usr/local/etc && echo cafile=/etc/ssl/certs/ca-certificates.crt >/usr/local/etc/npmrc && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version'
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$ctr"
buildah commit --quiet "$ctr" "$image" >/dev/null
echo "base image $image: built from bookworm and node $("$node_bin" --version)"
