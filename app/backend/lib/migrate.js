'use strict';
// Applies every MIGRATIONS_DIR/*.sql file not yet recorded in
// schema_migrations, in name order (version = file name without .sql), each in
// its own transaction. Used by the backend at start and by the deploy's
// migration runner (../migrate.js). One run at a time: when another run is
// applying a file, this one logs what is pending and returns without waiting.
const fs = require('fs');
const path = require('path');
const log = require('./log');

const TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version varchar(255) PRIMARY KEY, applied_at timestamp DEFAULT current_timestamp)`;

const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

/**
 * Resolves { applied, pending, busy }: the versions applied by this run, those
 * still pending, and whether another run was in progress. Rejects when a
 * migration fails (its transaction rolled back, nothing recorded).
 */
async function migrate(db, dir) {
  await db.query(TABLE_SQL);
  let files;
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  } catch (err) {
    throw new Error(`cannot read migrations directory ${dir}: ${err.message}`);
  }
  const done = new Set((await db.query('SELECT version FROM schema_migrations')).map((r) => r.version));
  const pending = files.map((f) => f.slice(0, -'.sql'.length)).filter((v) => !done.has(v));
  if (pending.length === 0) {
    log.info(`migrations: 0 applied, ${files.length} already up to date (${dir})`);
    return { applied: [], pending: [], busy: false };
  }
  log.info(`migrations: ${pending.length} pending (${pending.join(', ')}), ${files.length - pending.length} already applied (${dir})`);
  const applied = [];
  const left = () => pending.slice(applied.length);
  const busy = () => {
    log.info(`migrations: another migration run is in progress; not waiting for it (pending: ${left().join(', ')})`);
    return { applied, pending: left(), busy: true };
  };
  if (await db.migrationRunning()) return busy();
  for (const version of pending) {
    log.info(`migration ${version}: applying`);
    const started = Date.now();
    let ok;
    try {
      ok = await db.applyMigration(version, fs.readFileSync(path.join(dir, `${version}.sql`), 'utf8'));
    } catch (err) {
      log.error(`migration ${version}: failed after ${seconds(Date.now() - started)}, rolled back, not recorded: ${err.message}`);
      throw err;
    }
    if (!ok) return busy();
    log.info(`migration ${version}: applied in ${Date.now() - started}ms`);
    applied.push(version);
  }
  log.info(`migrations: ${applied.length} applied, ${files.length - applied.length} already up to date (${dir})`);
  return { applied, pending: [], busy: false };
}

module.exports = { migrate };
