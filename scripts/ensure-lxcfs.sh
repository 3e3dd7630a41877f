#!/usr/bin/env bash
# Make sure lxcfs serves /var/lib/lxcfs on the Docker host, so containers that
# bind-mount its files (driver/lxcfs.ts: LXCFS_MOUNTS) see their own memory,
# CPUs, uptime and load in free/top/uptime/vmstat instead of the host's.
# Idempotent, like scripts/ensure-docker.sh: installs Debian's lxcfs if
# missing, starts it in the background if it is not serving, else does nothing.
#
# Flags: -l (--enable-loadavg) gives each container its own load average;
# --enable-cfs makes /proc/cpuinfo, /proc/stat and /sys/devices/system/cpu/online
# follow the CFS quota (--cpus 0.5 -> 1 CPU, --cpus 1.5 -> 2).
#
# A live lxcfs is NEVER restarted: every running container's bind mounts point
# at the FUSE connection of the lxcfs that was serving when it started; a new
# lxcfs is a new connection, and those containers then read "Transport endpoint
# is not connected" from /proc/meminfo etc. until they are restarted (a
# `docker restart` picks up the new mount). So:
#   - lxcfs running and the mount answers: nothing to do.
#   - the mount is dead (lxcfs crashed or was killed) and no lxcfs runs: detach
#     the dead mount (umount -l), start lxcfs, and name the running containers
#     that still hold the dead mounts (they need a restart).
#   - an lxcfs process runs but the mount does not answer: give up with an
#     error rather than kill it (it may be starting, or serving containers).
# To pick up a new lxcfs library without a restart, send it SIGUSR1 (Debian's
# unit does the same for `systemctl reload lxcfs`).
set -euo pipefail

DIR=/var/lib/lxcfs
PIDFILE=/run/lxcfs.pid
LOG=/var/log/lxcfs.log
FLAGS=(-l --enable-cfs)

say() { echo "ensure-lxcfs: $*" >&2; }

# The mount answers: a file lxcfs serves can be read.
alive() { head -c1 "$DIR/proc/uptime" >/dev/null 2>&1; }

# A live lxcfs process: named lxcfs and not a zombie (a killed lxcfs lingers
# as <defunct> until its parent reaps it).
running() { [ "$(cat /proc/"$1"/comm 2>/dev/null)" = lxcfs ] && ! awk '{ exit !($3 == "Z") }' /proc/"$1"/stat 2>/dev/null; }
lxcfs_pid() {
  local pid
  for pid in $(cat "$PIDFILE" 2>/dev/null) $(pgrep -x lxcfs); do
    if running "$pid"; then echo "$pid"; return 0; fi
  done
  return 1
}

# Fast path, no root needed.
if alive; then exit 0; fi

if [ "$(id -u)" != 0 ]; then
  say "lxcfs is not serving $DIR and we are not root; run this script as root"; exit 1
fi

if ! command -v lxcfs >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lxcfs >/dev/null
fi

# One caller at a time: two concurrent starts would fight over the mount point.
exec 9>/run/lxcfs.ensure.lock
flock 9

# Someone may have started it while we waited for the lock, or it may be
# starting right now: give a live process a few seconds to answer.
pid=$(lxcfs_pid || true)
if [ -n "$pid" ]; then
  for _ in $(seq 1 20); do alive && exit 0; sleep 0.25; done
  say "lxcfs (pid $pid) runs but $DIR does not answer; not restarting it (that would break running containers)."
  say "If it is hung: kill $pid, then rerun this script and restart the containers that use lxcfs."
  exit 1
fi

# No lxcfs process. A dead FUSE mount may be left over ("Transport endpoint is
# not connected"); lxcfs refuses to mount over it, so detach it first.
stale=0
if grep -qs " $DIR fuse.lxcfs " /proc/self/mounts; then
  stale=1
  say "detaching the dead lxcfs mount at $DIR"
  umount -l "$DIR" 2>/dev/null || fusermount -u -z "$DIR" 2>/dev/null || true
fi
mkdir -p "$DIR"

setsid nohup lxcfs "${FLAGS[@]}" -p "$PIDFILE" "$DIR" >>"$LOG" 2>&1 </dev/null &
for _ in $(seq 1 40); do alive && break; sleep 0.25; done
if ! alive; then say "lxcfs did not start; see $LOG"; exit 1; fi
# Like Debian's init script: the host's OOM killer must not pick lxcfs.
pid=$(lxcfs_pid || true)
[ -n "$pid" ] && echo -1000 >/proc/"$pid"/oom_score_adj 2>/dev/null || true

if [ "$stale" = 1 ] && command -v docker >/dev/null 2>&1; then
  # Containers started against the dead lxcfs keep its dead mounts.
  holders=$(docker ps -q 2>/dev/null | xargs -r docker inspect -f '{{.Name}} {{range .Mounts}}{{.Source}} {{end}}' 2>/dev/null \
    | awk -v d="$DIR/" 'index($0, d) { sub(/^\//, "", $1); print $1 }' | sort -u | tr '\n' ' ')
  [ -n "$holders" ] && say "restart these containers to reconnect them to lxcfs: $holders"
fi
exit 0
