#!/bin/sh
# The entrypoint of prochook's node installer (the DaemonSet's container):
# privileged, in the host's pid namespace, the host's root at /host.
# Copies prochook to the host, runs `prochook install --root /host` for the
# node's engine, restarts containerd when its configuration changed, then
# sleeps; on SIGTERM (pod deleted) it uninstalls the same way.
set -u

HOST=/host
BIN=/usr/local/bin/prochook             # the same path in this image and on the host
ENGINE=${PROCHOOK_ENGINE:-auto}          # containerd, crio or auto
RESTART=${PROCHOOK_RESTART_CONTAINERD:-systemctl restart containerd}
ADDRESS=${PROCHOOK_CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}
READY=/tmp/prochook-installed            # the readiness probe's file

say() { echo "prochook-installer: $*"; }

# A process in the host's namespaces: its init. A command run in them
# sees the host's mounts, so its own binaries and systemd.
HOST_PID=${PROCHOOK_HOST_PID:-1}
on_host() { nsenter -t "$HOST_PID" -m -u -i -n -p -- "$@"; }

detect_engine() {
  if [ "$ENGINE" != auto ]; then echo "$ENGINE"; return; fi
  # The engine that runs (its socket) before one that is only installed.
  if [ -S "$HOST$ADDRESS" ]; then echo containerd; return; fi
  if [ -S "$HOST/run/crio/crio.sock" ]; then echo crio; return; fi
  if [ -e "$HOST/etc/containerd/config.toml" ]; then echo containerd; return; fi
  if [ -d "$HOST/etc/crio" ]; then echo crio; return; fi
  echo none
}

# The binary is replaced by rename: running renderers and hooks keep the
# inode they started from, and a half-copied file is never executed.
copied_new=no
copy_binary() {
  if cmp -s "$BIN" "$HOST$BIN"; then say "$BIN unchanged on the host"; return 0; fi
  [ -e "$HOST$BIN" ] || copied_new=yes
  mkdir -p "$HOST${BIN%/*}" &&
    cp "$BIN" "$HOST$BIN.prochook-new" && chmod 0755 "$HOST$BIN.prochook-new" &&
    mv -f "$HOST$BIN.prochook-new" "$HOST$BIN" && say "copied $BIN to the host"
}

containerd_answers() { on_host ctr --address "$ADDRESS" version >/dev/null 2>&1; }

# Whether containerd's CRI plugin (kubelet's side of it) loaded: a runtime
# table it cannot use makes it fail alone while containerd itself runs.
cri_loaded() {
  on_host ctr --address "$ADDRESS" plugins ls 2>/dev/null |
    grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$'
}

# containerd reads its configuration only when it starts. Restarting it
# (systemd's containerd.service has KillMode=process) stops the daemon
# only: the shims, and so every running container, this pod included, go
# on, and the new daemon reconnects to them. Before the restart containerd
# itself must parse the merged configuration and show $1 in it; after it,
# it must answer within 60 s with its CRI plugin loaded (`config dump`
# does not check a plugin's settings), or the caller takes the change back.
restarted=no
restart_containerd() {
  if ! dump=$(on_host containerd config dump 2>&1); then
    say "containerd refuses the configuration: $dump"
    return 1
  fi
  case "$dump" in
    *"$1"*) ;;
    *) say "containerd's merged configuration does not show: $1"; return 1 ;;
  esac
  say "restarting containerd ($RESTART)"
  restarted=yes
  on_host sh -c "$RESTART" || { say "restart failed"; return 1; }
  i=0
  until containerd_answers; do
    i=$((i + 1))
    if [ $i -ge 120 ]; then say "containerd does not answer at $ADDRESS"; return 1; fi
    sleep 0.5
  done
  if ! cri_loaded; then say "containerd's CRI plugin did not load"; return 1; fi
  say "containerd answers again, its CRI plugin loaded"
}

# prochook install|uninstall for the engine; restarts containerd when one
# of its files changed. $1: install or uninstall.
configure() {
  out=$("$BIN" "$1" --root "$HOST" --engines "$engine" 2>&1)
  status=$?
  echo "$out"
  [ $status -eq 0 ] || return $status
  [ "$engine" = containerd ] || return 0  # CRI-O reads hooks.d as it changes
  case "$out" in
    *"containerd: wrote"* | *"containerd: removed"*) ;;
    *) return 0 ;;
  esac
  if [ "$1" = install ]; then
    restart_containerd 'runtimes.prochook' && return 0
    say "rolling back"
    out=$("$BIN" uninstall --root "$HOST" --engines containerd 2>&1)
    echo "$out"
    # A restart was tried: containerd may run with the configuration.
    [ $restarted = yes ] && restart_containerd 'version'
    return 1
  fi
  restart_containerd 'version'
}

uninstall() {
  say "uninstalling"
  rm -f "$READY"
  configure uninstall
  if cmp -s "$BIN" "$HOST$BIN"; then rm -f "$HOST$BIN" && say "removed $BIN from the host"; fi
  say "uninstalled"
  exit 0
}

engine=$(detect_engine)
case "$engine" in
  containerd | crio) say "engine: $engine" ;;
  *) say "no containerd or CRI-O found under $HOST (set PROCHOOK_ENGINE)"; exit 1 ;;
esac
copy_binary || exit 1
trap uninstall TERM INT
if ! configure install; then
  # Nothing of prochook's stays configured: the binary goes too if it is ours.
  [ $copied_new = yes ] && rm -f "$HOST$BIN" && say "removed $BIN from the host"
  say "not installed"
  exit 1
fi
touch "$READY"
say "installed"
# sleep in the background: the shell runs its trap as soon as a signal
# arrives while it waits.
while :; do
  sleep 3600 &
  wait $!
done
