#!/bin/bash
# Provision the backend node: Node 18 (Debian's nodejs) running the drills
# API (app/backend) under supervisor as the system user `app`.
# No npm at build or run time: app/backend/vendor.js bundles pg and mysql2
# (made on the build host by scripts/vendor-backend.js, `npm run build`).
# Run-time settings are in /etc/drills/backend.env (see roles/backend/env.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common/lib.sh"

APP_SRC="$DRILLS_SRC/app/backend"
[ -f "$APP_SRC/server.js" ] || die "missing $APP_SRC/server.js"
[ -f "$APP_SRC/vendor.js" ] || die "missing $APP_SRC/vendor.js: run 'npm run build' (scripts/vendor-backend.js) on the build host first"

install_common backend nodejs cron

# cron runs the node's scheduled jobs (/etc/cron.d): under systemd as its own
# service, in a container under supervisor. Containers have no login uid to
# set, which makes pam_loginuid refuse every job there.
if ! has_systemd; then
  sed -i 's/^\(session\s\+required\s\+pam_loginuid.so\)/# \1 (no login uid in a container)/' /etc/pam.d/cron
  supervisor_program cron <<'CONF'
[program:cron]
command=/usr/sbin/cron -f
autostart=true
autorestart=true
startsecs=1
redirect_stderr=true
stdout_logfile=/var/log/supervisor/cron.log
CONF
fi

id -u app >/dev/null 2>&1 || useradd --system --user-group --home-dir /opt/drills --shell /usr/sbin/nologin app

log "installing the backend into /opt/drills/backend"
rm -rf /opt/drills/backend /opt/drills/migrations
install -d -m 0755 /opt/drills/backend
(cd "$APP_SRC" && tar --exclude=node_modules -cf - .) | tar -C /opt/drills/backend --no-same-owner -xf -
for dir in "$DRILLS_SRC"/app/db/*/migrations; do
  engine="$(basename "$(dirname "$dir")")"
  install -d -m 0755 "/opt/drills/migrations/$engine"
  install -m 0644 "$dir"/*.sql "/opt/drills/migrations/$engine/"
done
chmod -R a+rX /opt/drills
install -d -o app -g app -m 0755 /var/lib/drills /var/lib/drills/uploads /var/lib/drills/uploads/.partial /var/log/drills
# The deploy hook a release pipeline runs after shipping a release (see the script).
install -m 0755 "$(dirname "${BASH_SOURCE[0]}")/drills-deploy" /usr/local/sbin/drills-deploy

supervisor_program backend <<'CONF'
[program:backend]
command=/bin/bash -c 'set -a; . /etc/drills/backend.env; set +a; exec /usr/bin/node /opt/drills/backend/server.js'
directory=/opt/drills/backend
user=app
environment=HOME="/opt/drills",USER="app",NODE_ENV="production"
autostart=true
autorestart=true
; RUNNING after 1 s up: what `supervisorctl restart` waits for (health is drills-health's)
startsecs=1
stopsignal=TERM
stopwaitsecs=10
redirect_stderr=true
stdout_logfile=/var/log/supervisor/backend.log
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=3
CONF

finish_provision
