'use strict';
// Applies every MIGRATIONS_DIR/*.sql file not yet recorded in
// schema_migrations, in name order (version = file name without .sql).
const fs = require('fs');
const path = require('path');
const log = require('./log');

const TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version varchar(255) PRIMARY KEY, applied_at timestamp DEFAULT current_timestamp)`;

async function migrate(db, dir) {
  await db.query(TABLE_SQL);
  let files;
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  } catch (err) {
    throw new Error(`cannot read migrations directory ${dir}: ${err.message}`);
  }
  const done = new Set((await db.query('SELECT version FROM schema_migrations')).map((r) => r.version));
  let applied = 0;
  for (const file of files) {
    const version = file.slice(0, -'.sql'.length);
    if (done.has(version)) continue;
    log.info(`migration ${version}: applying`);
    const started = Date.now();
    await db.applyMigration(version, fs.readFileSync(path.join(dir, file), 'utf8'));
    log.info(`migration ${version}: applied in ${Date.now() - started}ms`);
    applied++;
  }
  log.info(`migrations: ${applied} applied, ${files.length - applied} already up to date (${dir})`);
}

module.exports = { migrate };
