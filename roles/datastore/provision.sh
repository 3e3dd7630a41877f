#!/bin/bash
# Provision the datastore node: PostgreSQL 15 or MariaDB 10.11 (Debian 12
# packages) with the drills schema and seed data baked in, run by supervisor.
#
# Env (Docker build args):
#   DB_ENGINE      postgres | mysql                  (default postgres)
#   SEED_USERS     rows in users                     (default 50)
#   SEED_INVOICES  rows in invoices                  (default 20000)
#
# Credentials: database `drills`, user `drills`, password `drills`.
# These are TRAINING-ONLY values for throwaway nodes; never reuse them.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common/lib.sh"

DB_ENGINE="${DB_ENGINE:-postgres}"
SEED_USERS="${SEED_USERS:-50}"
SEED_INVOICES="${SEED_INVOICES:-20000}"
DB_NAME=drills DB_USER=drills DB_PASSWORD=drills

case "$DB_ENGINE" in postgres|mysql) ;; *) die "DB_ENGINE must be postgres or mysql, got '$DB_ENGINE'";; esac
for n in SEED_USERS SEED_INVOICES; do
  [[ "${!n}" =~ ^[0-9]+$ ]] || die "$n must be a non-negative integer, got '${!n}'"
done
MIGRATIONS_DIR="$DRILLS_SRC/app/db/$DB_ENGINE/migrations"
SEED_FILE="$DRILLS_SRC/app/db/$DB_ENGINE/seed.sql"
if [ ! -d "$MIGRATIONS_DIR" ] || [ ! -f "$SEED_FILE" ]; then die "missing $MIGRATIONS_DIR or $SEED_FILE"; fi

# Container images leave out LLVM, which PostgreSQL uses only for JIT (150 MB
# of a 500 MB image; off below). VMs keep the packages whole.
if [ "$DB_ENGINE" = postgres ] && ! has_systemd; then
  printf '%s\n' 'path-exclude /usr/lib/*/libLLVM-*' 'path-exclude /usr/lib/*/libz3.so*' \
    'path-exclude /usr/lib/postgresql/*/lib/llvmjit*' 'path-exclude /usr/lib/postgresql/*/lib/bitcode/*' \
    >/etc/dpkg/dpkg.cfg.d/drills-datastore
fi
case "$DB_ENGINE" in
  postgres) install_common datastore postgresql-15 postgresql-client-15 ;;
  mysql)    install_common datastore mariadb-server mariadb-client ;;
esac
echo "$DB_ENGINE" >/etc/drills/datastore.engine

seed_sql() {
  sed -e "s/@SEED_USERS@/$SEED_USERS/g" -e "s/@SEED_INVOICES@/$SEED_INVOICES/g" "$SEED_FILE"
}

migration_versions() { # prints "version<TAB>file" in name order
  local f v
  for f in "$MIGRATIONS_DIR"/*.sql; do
    [ -e "$f" ] || continue
    v="$(basename "$f" .sql)"
    [[ "$v" =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad migration file name: $f"
    printf '%s\t%s\n' "$v" "$f"
  done
}

MIGRATIONS_TABLE_SQL="CREATE TABLE IF NOT EXISTS schema_migrations (
  version varchar(255) PRIMARY KEY, applied_at timestamp DEFAULT current_timestamp)"

# apply_migrations RUN QUERY: apply every migration not yet recorded, in name
# order. RUN executes SQL from stdin (in one transaction where the engine
# can); QUERY prints the result of one statement. One loop for both engines.
apply_migrations() {
  local run="$1" query="$2" v f
  "$query" "$MIGRATIONS_TABLE_SQL" >/dev/null
  while IFS=$'\t' read -r v f; do
    if [ -n "$("$query" "SELECT 1 FROM schema_migrations WHERE version = '$v'")" ]; then
      log "migration $v already applied"; continue
    fi
    log "applying migration $v"
    { cat "$f"; echo; echo "INSERT INTO schema_migrations (version) VALUES ('$v');"; } | "$run"
  done < <(migration_versions)
}

# ---------------------------------------------------------------- PostgreSQL
PG_BIN=/usr/lib/postgresql/15/bin
PG_DATA=/var/lib/postgresql/15/main
PG_CONF=/etc/postgresql/15/main

provision_postgres() {
  if has_systemd; then
    # Supervisor runs the server, not the distro's units. The cluster runs in
    # postgresql@15-main, which stops AFTER postgresql.service (PartOf=,
    # Before=): `disable --now postgresql` returns while it is still shutting
    # down, so stop it too (systemctl waits for that job) before pg_ctl below.
    systemctl disable --now postgresql
    systemctl stop postgresql@15-main
  fi
  [ -d "$PG_DATA" ] || pg_createcluster --locale C.UTF-8 15 main

  # shared_buffers 16 MB, not 128: a big seed's scans copy through the node's
  # page cache (reclaimable) instead of pinning 128 MB of shared memory in
  # every running level. The file's own comments are what an admin would
  # write (players read it).
  cat >"$PG_CONF/conf.d/drills.conf" <<'CONF'
# drills: small node, reachable from the other nodes.
listen_addresses = '*'
port = 5432
shared_buffers = 16MB               # small node: the OS page cache does the rest
max_connections = 100
log_min_duration_statement = 1000   # log queries slower than 1 s
log_line_prefix = '%m [%p] %q%u@%d '
CONF
  if [ -e /etc/dpkg/dpkg.cfg.d/drills-datastore ]; then
    echo "jit = off                           # no LLVM on this node" >>"$PG_CONF/conf.d/drills.conf"
  fi
  if ! grep -q '^# drills' "$PG_CONF/pg_hba.conf"; then
    cat >>"$PG_CONF/pg_hba.conf" <<'HBA'
# drills: the application user may connect from any address (password auth)
host    drills          drills          0.0.0.0/0               scram-sha-256
host    drills          drills          ::/0                    scram-sha-256
HBA
  fi
  install -d -o postgres -g postgres -m 2775 /run/postgresql
  install -d -o postgres -g adm -m 2750 /var/log/postgresql

  log "starting PostgreSQL temporarily to load schema and seed"
  # Bulk-load settings for this temporary server only (data is checkpointed
  # and the server stopped cleanly before the image layer is committed).
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 120 \
    -l /var/log/postgresql/provision.log \
    -o "-c config_file=$PG_CONF/postgresql.conf -c listen_addresses=127.0.0.1 \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c wal_level=minimal -c max_wal_senders=0 -c shared_buffers=256MB \
        -c maintenance_work_mem=256MB -c log_min_duration_statement=-1" start

  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL

  export PGHOST=127.0.0.1 PGPORT=5432 PGUSER="$DB_USER" PGPASSWORD="$DB_PASSWORD" PGDATABASE="$DB_NAME"
  local q="psql -q -X -v ON_ERROR_STOP=1"
  pg_run() { psql -q -X -v ON_ERROR_STOP=1 -1 -f -; }
  pg_query() { psql -q -X -v ON_ERROR_STOP=1 -Atc "$1"; }
  apply_migrations pg_run pg_query

  if [ "$($q -Atc 'SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM invoices)')" = f ]; then
    log "seeding $SEED_USERS users and $SEED_INVOICES invoices"
    seed_sql | $q -f -
  else
    log "tables already hold data: seed skipped"
  fi
  unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE

  # PARALLEL 0: a build container has only 64 MB of /dev/shm for parallel workers.
  log "vacuum analyze"
  runuser -u postgres -- psql -q -X -v ON_ERROR_STOP=1 -d "$DB_NAME" -c 'VACUUM (ANALYZE, PARALLEL 0)'
  runuser -u postgres -- psql -q -c CHECKPOINT
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 120 stop
  log "PostgreSQL stopped; data dir $(du -sh "$PG_DATA" | cut -f1)"

  # Convenience for an interactive root shell on the node: plain `psql`
  # connects as drills to the drills database.
  printf '*:*:%s:%s:%s\n' "$DB_NAME" "$DB_USER" "$DB_PASSWORD" >/root/.pgpass
  chmod 0600 /root/.pgpass
  if ! grep -q 'drills: psql' /root/.bashrc 2>/dev/null; then
    echo "export PGHOST=127.0.0.1 PGUSER=$DB_USER PGDATABASE=$DB_NAME  # drills: psql defaults" >>/root/.bashrc
  fi

  supervisor_program postgresql <<'CONF'
[program:postgresql]
command=/bin/bash -c 'set -a; . /etc/drills/datastore.env; set +a; exec /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf'
user=postgres
environment=HOME="/var/lib/postgresql",USER="postgres"
autostart=true
autorestart=true
; RUNNING after 1 s up: what `supervisorctl restart` waits for (health is drills-health's)
startsecs=1
; INT = PostgreSQL "fast" shutdown (TERM would wait for clients to leave)
stopsignal=INT
stopwaitsecs=30
redirect_stderr=true
stdout_logfile=/var/log/postgresql/postgresql.log
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=3
CONF
}

# ------------------------------------------------------------------- MariaDB
provision_mysql() {
  if has_systemd; then systemctl disable --now mariadb; fi

  # A 32M pool read through the page cache (fsync, not O_DIRECT) and 8M for
  # the buffers the app does not use (their 128M defaults fill up over time):
  # a big seed's scans are cached by the kernel, reclaimable, not pinned in
  # every running level. The file's comments are an admin's (players read it).
  cat >/etc/mysql/mariadb.conf.d/60-drills.cnf <<'CONF'
# drills: small node, reachable from the other nodes.
[mysqld]
bind-address            = 0.0.0.0
port                    = 3306
skip-name-resolve
# small node: a small pool, reads go through the OS page cache
innodb_buffer_pool_size = 32M
innodb_flush_method     = fsync
# the app's tables are InnoDB: MyISAM and Aria (system, temp tables) need little
key_buffer_size            = 8M
aria_pagecache_buffer_size = 8M
innodb_log_buffer_size     = 8M
performance_schema      = OFF
log_error               = /var/log/mysql/error.log
slow_query_log          = ON
slow_query_log_file     = /var/log/mysql/mariadb-slow.log
long_query_time         = 1
CONF
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  install -d -o mysql -g adm -m 2750 /var/log/mysql
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  fi

  log "starting MariaDB temporarily to load schema and seed"
  /usr/sbin/mariadbd --user=mysql --skip-networking --skip-slow-query-log \
    --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=0 \
    --innodb-doublewrite=0 &
  local pid=$!
  for _ in $(seq 1 120); do
    mariadb-admin ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "mariadbd exited; see /var/log/mysql/error.log"
    sleep 0.5
  done
  mariadb-admin ping >/dev/null 2>&1 || die "mariadbd did not start"

  mariadb <<SQL
CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'%';
SQL
  local q="mariadb --batch --skip-column-names $DB_NAME"
  my_run() { mariadb --batch --skip-column-names "$DB_NAME"; }
  my_query() { mariadb --batch --skip-column-names "$DB_NAME" -e "$1"; }
  apply_migrations my_run my_query

  if [ "$($q -e 'SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM invoices)')" = 0 ]; then
    log "seeding $SEED_USERS users and $SEED_INVOICES invoices"
    seed_sql | $q
    $q -e 'ANALYZE TABLE users, invoices' >/dev/null
  else
    log "tables already hold data: seed skipped"
  fi

  # Slow (full) shutdown so the image holds clean, purged InnoDB files.
  mariadb -e 'SET GLOBAL innodb_fast_shutdown = 0'
  mariadb-admin shutdown
  wait "$pid" || true
  log "MariaDB stopped; data dir $(du -sh /var/lib/mysql | cut -f1)"

  supervisor_program mariadb <<'CONF'
[program:mariadb]
command=/bin/bash -c 'set -a; . /etc/drills/datastore.env; set +a; exec /usr/sbin/mariadbd'
user=mysql
environment=HOME="/var/lib/mysql",USER="mysql"
autostart=true
autorestart=true
; RUNNING after 1 s up: what `supervisorctl restart` waits for (health is drills-health's)
startsecs=1
stopsignal=TERM
stopwaitsecs=30
redirect_stderr=true
stdout_logfile=/var/log/mysql/mariadbd.log
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=3
CONF
}

"provision_$DB_ENGINE"
finish_provision
