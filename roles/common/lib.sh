#!/bin/bash
# Shared provisioning helpers, sourced by roles/<role>/provision.sh.
# Works the same in a `docker build` (no init system) and on a Debian 12 VM
# with systemd (EC2 user data); only systemctl calls are guarded.
set -euo pipefail

DRILLS_COMMON_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DRILLS_SRC="$(cd "$DRILLS_COMMON_DIR/../.." && pwd)"   # repo root (or /opt/drills-src)
export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8

log() { echo "[provision $(date -u +%H:%M:%S)] $*"; }
die() { echo "[provision] ERROR: $*" >&2; exit 1; }
has_systemd() { [ -d /run/systemd/system ]; }

# apt-get install without recommends. Without systemd, a temporary
# policy-rc.d stops package scripts from starting daemons during the build;
# supervisor starts them later.
apt_install() {
  if [ -z "${DRILLS_APT_UPDATED:-}" ]; then
    apt-get update -qq
    DRILLS_APT_UPDATED=1
  fi
  local guard=""
  if ! has_systemd && [ ! -e /etc/dpkg/dpkg.cfg.d/drills-slim ]; then
    # Image builds: skip docs, man pages and translations (as Debian's slim images do).
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
      >/etc/dpkg/dpkg.cfg.d/drills-slim
  fi
  if ! has_systemd && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    guard=1
  fi
  apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "$@"
  if [ -n "$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi
}

# install_common ROLE [EXTRA_PACKAGE...]: the tools every node has, supervisor,
# the role's own packages (one apt run), the entrypoint, env spec and health check.
install_common() {
  local role="$1"; shift
  # Re-run on a live host: stop the supervised services while provisioning.
  if has_systemd && systemctl is-active --quiet supervisor; then systemctl stop supervisor; fi
  log "installing base tools, supervisor${*:+ and $*}"
  apt_install supervisor procps coreutils curl less iproute2 lsof vim-tiny nano ca-certificates openssh-server sudo "$@"
  # supervisord without setuptools' pkg_resources: ~6.5 MiB less on every node.
  python3 "$DRILLS_COMMON_DIR/supervisor-importlib.py"
  install -d -m 0755 /etc/drills /usr/local/lib/drills
  echo "$role" >/etc/drills/role
  install -m 0755 "$DRILLS_COMMON_DIR/drills-start" /usr/local/sbin/drills-start
  install -m 0644 "$DRILLS_SRC/roles/$role/env.sh" /usr/local/lib/drills/env.sh
  install -m 0755 "$DRILLS_SRC/roles/$role/drills-health" /usr/local/bin/drills-health
  install_player_ssh
}

# --- SSH: the player's way in (every role) ---------------------------------
# The on-call user PLAYER_USER logs in with a key only and may sudo. Its key is
# never in the image: `drills up` installs the stack's key after start
# (runtime/sshKeys.ts), EC2 user data writes it. In a container, supervisor
# runs sshd and the host keys are made at first start, not at build.
PLAYER_USER=oncall
install_player_ssh() {
  id -u "$PLAYER_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$PLAYER_USER"
  install -d -o "$PLAYER_USER" -g "$PLAYER_USER" -m 0700 "/home/$PLAYER_USER/.ssh"
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$PLAYER_USER" >/etc/sudoers.d/90-oncall
  chmod 0440 /etc/sudoers.d/90-oncall
  install -d -m 0755 /etc/ssh/sshd_config.d
  printf '%s\n' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'PermitRootLogin no' \
    'AllowTcpForwarding yes' >/etc/ssh/sshd_config.d/drills.conf
  if has_systemd; then
    # Debian's own ssh.service; a failure here must not stop provisioning (readiness then says so).
    systemctl reload ssh 2>/dev/null || systemctl restart ssh || log "WARNING: ssh.service did not (re)start"
    return
  fi
  rm -f /etc/ssh/ssh_host_*
  # Containers have no login uid to set: pam_loginuid would refuse every login.
  sed -i 's/^\(session\s\+required\s\+pam_loginuid.so\)/# \1 (no login uid in a container)/' /etc/pam.d/sshd
  supervisor_program sshd <<'CONF'
[program:sshd]
command=/bin/bash -c 'ssh-keygen -A >/dev/null && install -d -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e'
autostart=true
autorestart=true
startsecs=1
redirect_stderr=true
stdout_logfile=/var/log/supervisor/sshd.log
CONF
}
# --- end SSH ----------------------------------------------------------------

# supervisor_program NAME < conf : install /etc/supervisor/conf.d/NAME.conf
supervisor_program() {
  cat >"/etc/supervisor/conf.d/$1.conf"
}

# Last step of every provision.sh. With systemd, supervisor.service runs
# `drills-start --prepare` first (writes the env file, creates /run dirs) and
# is (re)started now; otherwise (image build) drop apt caches.
finish_provision() {
  if has_systemd; then
    install -d /etc/systemd/system/supervisor.service.d
    printf '[Service]\nExecStartPre=/usr/local/sbin/drills-start --prepare\n' \
      >/etc/systemd/system/supervisor.service.d/drills.conf
    systemctl daemon-reload
    systemctl enable supervisor
    systemctl restart supervisor
  else
    apt-get clean
    rm -rf /var/lib/apt/lists/*
  fi
  log "provisioning done"
}
