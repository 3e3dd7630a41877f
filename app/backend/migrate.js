'use strict';
// Migration runner: applies the pending migrations (lib/migrate.js) as its own
// process and exits. The deploy hook (drills-deploy) starts it in the
// background; by hand, as root:  runuser -u app -- node /opt/drills/backend/migrate.js
// Settings come from the environment or, when unset there, /etc/drills/backend.env.
// Logs go to stdout. Exit status: 0 up to date, 1 a migration failed (rolled
// back, not recorded), 75 another run was already applying (try again later).
const fs = require('fs');

const ENV_FILE = process.env.DRILLS_ENV_FILE || '/etc/drills/backend.env';

// The env file holds NAME='value' lines (roles/common/drills-start writes it).
function loadEnvFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)='(.*)'$/.exec(line);
    if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2].replace(/'\\''/g, "'");
  }
}

loadEnvFile(ENV_FILE);
// Sessions of this runner are named so in pg_stat_activity (node-postgres reads PGAPPNAME).
if (!process.env.PGAPPNAME) process.env.PGAPPNAME = 'drills-migrate';

const config = require('./lib/config').load();
const log = require('./lib/log');
const dbLib = require('./lib/db');
const { migrate } = require('./lib/migrate');

async function main() {
  log.info(`migrate: runner pid ${process.pid}, ${config.engine} ${config.db.user}@${config.db.host}:${config.db.port}/${config.db.database}`);
  const db = dbLib.create(config.engine, config.db);
  let code = 0;
  try {
    const r = await migrate(db, config.migrationsDir);
    if (r.busy) code = 75;
  } catch (err) {
    log.error(`migrate: stopped: ${err.message}`);
    code = 1;
  } finally {
    await db.end().catch(() => {});
  }
  log.info(`migrate: exit ${code}`);
  process.exit(code);
}

main();
