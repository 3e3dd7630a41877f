#!/bin/bash
# Provision the proxy node: nginx (Debian) serving the front end (app/frontend)
# and proxying /api/ to the backend, run by supervisor in the foreground.
# Run-time settings are in /etc/drills/proxy.env (see roles/proxy/env.sh);
# /usr/local/lib/drills/nginx-run renders the site from them at each start.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common/lib.sh"

FRONTEND_SRC="$DRILLS_SRC/app/frontend"
[ -f "$FRONTEND_SRC/index.html" ] || die "missing $FRONTEND_SRC/index.html"

install_common proxy nginx
if has_systemd; then systemctl disable --now nginx; fi

log "installing the front end into /usr/share/drills/frontend"
rm -rf /usr/share/drills/frontend
install -d -m 0755 /usr/share/drills/frontend
cp -r "$FRONTEND_SRC"/. /usr/share/drills/frontend/
chmod -R a+rX /usr/share/drills/frontend

install -m 0644 "$DRILLS_SRC/roles/proxy/nginx-site.conf.template" /usr/local/lib/drills/nginx-site.conf.template
install -m 0755 "$DRILLS_SRC/roles/proxy/nginx-run" /usr/local/lib/drills/nginx-run
rm -f /etc/nginx/sites-enabled/default

supervisor_program nginx <<'CONF'
[program:nginx]
command=/usr/local/lib/drills/nginx-run
autostart=true
autorestart=true
; RUNNING after 1 s up: what `supervisorctl restart` waits for (health is drills-health's)
startsecs=1
startretries=10
; QUIT = graceful shutdown (finish requests in flight)
stopsignal=QUIT
stopwaitsecs=10
; A master still up after stopwaitsecs is SIGKILLed: take its workers along,
; or they live on, orphaned, holding port 80 so no new nginx can bind.
killasgroup=true
redirect_stderr=true
stdout_logfile=/var/log/supervisor/nginx.log
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=3
CONF

finish_provision
