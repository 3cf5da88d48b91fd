#!/bin/bash
# Builds a cgroup-v2-only guest from Debian packages, for the VM lane
# (tests/vm/run.sh): Debian 12's own cloud kernel, an initramfs (static
# busybox, the virtio, loop and XFS modules) and an ext4 disk image holding
# the host's /usr (so real runc, crun, podman, procps, sysstat, htop,
# python3-psutil and busybox run in the guest) and a few files of /etc.
# Made without mounting anything (mke2fs -d). What is under test (prochook,
# the test binaries) goes on a second disk, made by run.sh for every run.
# Usage: build.sh OUT_DIR
set -euo pipefail
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)

# 1. The kernel: the package linux-image-cloud-amd64 depends on (its
#    drivers are modules, the virtio ones among them; no 9p).
if [[ ! -f $out/kernel/ok ]]; then
  pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  [[ -n $pkg ]] || { echo "vm: no kernel package for linux-image-cloud-amd64" >&2; exit 1; }
  rm -rf "$out/kernel" "$out"/linux-image-*.deb
  (cd "$out" && apt-get download "$pkg" 2>/dev/null)
  dpkg-deb -x "$out"/linux-image-*.deb "$out/kernel"
  touch "$out/kernel/ok"
fi
kver=$(ls "$out/kernel/lib/modules")
moddir=$out/kernel/lib/modules/$kver/kernel

# 2. The initramfs: loads the modules, mounts the disk and switches to it.
init=$out/initramfs
rm -rf "$init"
mkdir -p "$init"/{bin,dev,proc,sys,newroot,modules}
cp /usr/bin/busybox "$init/bin/busybox"
# In dependency order (modinfo -F depends).
modules=(drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
         drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko
         drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko drivers/block/loop.ko
         lib/libcrc32c.ko fs/xfs/xfs.ko fs/overlayfs/overlay.ko)
for m in "${modules[@]}"; do
  cp "$moddir/$m" "$init/modules/"
  echo "$(basename "$m")" >> "$init/modules/order"
done
cat > "$init/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do insmod /modules/$m || echo "vm: insmod $m failed"; done
mount -t ext4 /dev/vda /newroot || { echo "vm: cannot mount the root disk"; poweroff -f; }
mount -t ext4 /dev/vdb /newroot/prochook || { echo "vm: cannot mount the payload disk"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /prochook/guest-init.sh
INIT
chmod 755 "$init/init"
(cd "$init" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$out/initramfs.gz")

# 3. The root disk: the host's /usr by hard links (no copy until mke2fs
#    reads it) and /etc's few files the tools need. Made again only when
#    the host's packages or this script change.
stamp=$( (dpkg-query -W; cat "$0") | sha256sum | cut -c1-16)
if [[ -f $out/root.img && $(cat "$out/root.stamp" 2>/dev/null) == "$stamp" ]]; then
  echo "vm: guest in $out (kernel $kver, root disk unchanged)"
  exit 0
fi
root=$out/root
rm -rf "$root"
mkdir -p "$root"/{usr,etc,proc,sys,dev,run,tmp,var/tmp,var/lib,root,prochook,mnt}
for d in bin sbin libexec lib64 lib/x86_64-linux-gnu lib/python3 lib/python3.11 lib/sysstat \
         lib/os-release lib/terminfo lib/locale share/zoneinfo share/containers share/terminfo; do
  [[ -e /usr/$d ]] || continue
  mkdir -p "$root/usr/$(dirname "$d")"
  cp -a --link "/usr/$d" "$root/usr/$d" 2>/dev/null || cp -a "/usr/$d" "$root/usr/$d"
done
for l in bin sbin lib lib64; do ln -s "usr/$l" "$root/$l"; done
for f in passwd group shadow nsswitch.conf ld.so.cache ld.so.conf ld.so.conf.d hosts \
         alternatives containers subuid subgid os-release localtime; do
  [[ -e /etc/$f ]] && cp -a "/etc/$f" "$root/etc/" || true
done
echo "prochook-vm" > "$root/etc/hostname"
size=$(( $(du -sm "$root" | cut -f1) * 12 / 10 + 512 ))
rm -f "$out/root.img" "$out/root.stamp"
mke2fs -q -t ext4 -L prochook-vm -d "$root" "$out/root.img" "${size}M"
rm -rf "$root"
echo "$stamp" > "$out/root.stamp"
echo "vm: guest ready in $out (kernel $kver, root disk ${size} MiB)"
