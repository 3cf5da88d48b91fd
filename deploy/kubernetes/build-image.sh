#!/bin/bash
# Builds the DaemonSet's image without any registry: a root with a static
# busybox (the installer's shell, cp, grep, nsenter, sleep), the static prochook
# binary and installer.sh, made into an image by `docker import`, and saved
# with `docker save` as a tarball every node can import:
#   ctr -n k8s.io images import prochook-installer.tar
#
# usage: build-image.sh [--binary PATH] [--tag NAME:TAG] [--out FILE]
#   --binary  a static prochook (default: bazel build -c opt //:prochook)
#   DOCKER    the docker command to use (default: docker), e.g.
#             DOCKER="docker -H unix:///run/other.sock"
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binary=""
tag="prochook-installer:local"
out="$PWD/prochook-installer.tar"
while (($#)); do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
  esac
done
read -ra docker <<< "${DOCKER:-docker}"

if [[ -z "$binary" ]]; then
  (cd "$here/../.." && bazel build -c opt //:prochook)
  binary="$here/../../bazel-bin/prochook"
fi
busybox=/bin/busybox  # Debian's busybox-static
for f in "$binary" "$busybox"; do
  # The image has no libraries: every program in it must be static.
  if [[ "$(LC_ALL=C ldd "$f" 2>&1)" != *"not a dynamic executable"* ]]; then
    echo "build-image.sh: $f is not a static executable" >&2
    exit 1
  fi
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/usr/local/bin" "$root/tmp" "$root/host"
chmod 1777 "$root/tmp"
install -m 0755 "$busybox" "$root/bin/busybox"
for applet in sh cat cmp cp chmod grep mkdir mv rm sleep touch nsenter; do
  ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$binary" "$root/usr/local/bin/prochook"
install -m 0755 "$here/installer.sh" "$root/installer.sh"

tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
  "${docker[@]}" import --change 'ENTRYPOINT ["/installer.sh"]' --change 'ENV PATH=/bin:/usr/local/bin' - "$tag" >/dev/null
"${docker[@]}" save -o "$out" "$tag"
echo "$tag: $out"
