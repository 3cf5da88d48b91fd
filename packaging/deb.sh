#!/bin/bash
# Builds prochook_<version>_<arch>.deb with dpkg-deb from the static binary.
#
#   bash packaging/deb.sh [--binary PATH] [--out DIR]
#
# Without --binary it builds one (bazel build -c opt //:prochook). The
# version is the binary's own (`prochook version`, kVersion in main.cc),
# and packaging/changelog's top entry must say the same. The package is
# written to DIR (default: the current directory); its path is the last
# line of the output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary="" out=$PWD
while (($#)); do
  case $1 in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: bash packaging/deb.sh [--binary PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [[ -z $binary ]]; then
  (cd "$here/.." && bazel build -c opt //:prochook)
  binary=$here/../bazel-bin/prochook
fi

version=$("$binary" version | awk '$1 == "prochook" {print $2}')
logged=$(sed -n '1s/^prochook (\([^)]*\)).*/\1/p' "$here/changelog")
if [[ -z $version || $version != "$logged" ]]; then
  echo "deb.sh: the binary says version '$version', packaging/changelog '$logged': make them agree" >&2
  exit 1
fi
# Nothing to depend on: the binary loads no shared library.
if ldd "$binary" >/dev/null 2>&1; then
  echo "deb.sh: $binary is dynamically linked; the package declares no library dependencies" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
# Every file's time is the changelog's, so the package is reproducible.
epoch=$(date -d "$(sed -n 's/^ -- .*>  //p' "$here/changelog" | head -n 1)" +%s)

stage=$(mktemp -d /tmp/prochook-deb-XXXXXX)
trap 'rm -rf "$stage"' EXIT
umask 022
doc=$stage/usr/share/doc/prochook
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/man/man8" "$doc" \
  "$stage/usr/share/containers/oci/hooks.d" "$stage/usr/share/lintian/overrides"
install -m 0755 "$binary" "$stage/usr/bin/prochook"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/prochook"
sed "s/@VERSION@/$version/" "$here/prochook.8" | gzip -9n >"$stage/usr/share/man/man8/prochook.8.gz"
install -m 0644 "$here/copyright" "$doc/copyright"
gzip -9nc "$here/changelog" >"$doc/changelog.gz"
# The hooks.d file `prochook install` writes for /usr/bin/prochook (the
# example is checked to be what it writes for /usr/local/bin).
sed 's|"/usr/local/bin/prochook"|"/usr/bin/prochook"|' "$here/../examples/hooks.d/prochook.json" \
  >"$stage/usr/share/containers/oci/hooks.d/prochook.json"
install -m 0644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/prochook"
install -m 0755 "$here/prerm" "$here/postrm" "$stage/DEBIAN/"

size=$(du -sk --apparent-size "$stage/usr" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$here/control" >"$stage/DEBIAN/control"
(cd "$stage" && find usr -type f -printf '%P\n' | sort | sed 's|^|usr/|' | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums" "$stage"/usr/share/man/man8/* "$doc"/* \
  "$stage"/usr/share/containers/oci/hooks.d/*
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -exec touch -h -d "@$epoch" {} +

mkdir -p "$out"
deb=$(cd "$out" && pwd)/prochook_${version}_${arch}.deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
