'use strict';
// One small interface over PostgreSQL (pg) and MariaDB/MySQL (mysql2).
// SQL is written with `?` placeholders; for PostgreSQL they become $1, $2...
// Queries are always parameterized.
const { pg, mysql2 } = require('../vendor');

const QUERY_TIMEOUT_MS = 30000;
// One migration run at a time (a deploy's runner, a starting backend): the run
// holds this advisory lock while it applies a file; another run never waits for it.
const MIGRATION_LOCK_PG = 4242001; // bigint key of pg_try_advisory_xact_lock
const MIGRATION_LOCK_MYSQL = 'drills.schema_migrations';

// PostgreSQL `timestamp` columns hold UTC: parse them as UTC, not local time.
pg.types.setTypeParser(1114, (s) => new Date(s.replace(' ', 'T') + 'Z'));

function toPg(sql) {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function create(engine, opts) {
  if (opts.missing && opts.missing.length) return createUnconfigured(engine, opts.missing);
  if (engine === 'postgres') return createPg(opts);
  return createMysql(opts);
}

function createPg(opts) {
  const connection = {
    host: opts.host, port: opts.port, user: opts.user, password: opts.password, database: opts.database,
    connectionTimeoutMillis: 5000, query_timeout: QUERY_TIMEOUT_MS,
  };
  const pool = new pg.Pool({ ...connection, max: 10, idleTimeoutMillis: 30000 });
  // An idle client losing its connection (database restarted) must not crash us.
  pool.on('error', (err) => require('./log').error('idle database connection lost', err));
  return {
    engine: 'postgres',
    async query(sql, params = []) {
      return (await pool.query(toPg(sql), params)).rows;
    },
    async insertUser(name, email) {
      const rows = await this.query(
        'INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email, created_at', [name, email]);
      return rows[0];
    },
    isDuplicate: (err) => err && err.code === '23505',
    // Is another migration run applying a file right now? Never waits.
    async migrationRunning() {
      const rows = await this.query('SELECT pg_try_advisory_xact_lock(?) AS free', [MIGRATION_LOCK_PG]);
      return !rows[0].free;
    },
    // Runs a migration file (may hold several statements) and records it, in one
    // transaction. Resolves false, changing nothing, when another run holds the
    // migration lock. No read timeout: a migration may rightly take minutes.
    async applyMigration(version, sqlText) {
      const client = new pg.Client({ ...connection, query_timeout: undefined });
      // A lost connection (session terminated) fails the pending query; without
      // a listener the client's 'error' event would crash the process instead.
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query('BEGIN');
        const [{ got }] = (await client.query('SELECT pg_try_advisory_xact_lock($1) AS got', [MIGRATION_LOCK_PG])).rows;
        if (!got) {
          await client.query('ROLLBACK');
          return false;
        }
        await client.query(sqlText);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
        return true;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        await client.end().catch(() => {});
      }
    },
    end: () => pool.end(),
  };
}

function createMysql(opts) {
  const connection = {
    host: opts.host, port: opts.port, user: opts.user, password: opts.password, database: opts.database,
    connectTimeout: 5000, timezone: 'Z', dateStrings: false, supportBigNumbers: true,
  };
  const pool = mysql2.createPool({ ...connection, connectionLimit: 10, waitForConnections: true });
  return {
    engine: 'mysql',
    async query(sql, params = []) {
      // query() (escaped client-side) rather than execute(): LIMIT ? works everywhere.
      const [rows] = await pool.query({ sql, values: params, timeout: QUERY_TIMEOUT_MS });
      return rows;
    },
    async insertUser(name, email) {
      const [res] = await pool.query('INSERT INTO users (name, email) VALUES (?, ?)', [name, email]);
      const rows = await this.query('SELECT id, name, email, created_at FROM users WHERE id = ?', [res.insertId]);
      return rows[0];
    },
    isDuplicate: (err) => err && (err.code === 'ER_DUP_ENTRY' || err.errno === 1062),
    async migrationRunning() {
      const rows = await this.query('SELECT IS_USED_LOCK(?) AS holder', [MIGRATION_LOCK_MYSQL]);
      return rows[0].holder !== null;
    },
    // DDL commits implicitly in MariaDB: statements run in order, then the version
    // is recorded. Resolves false when another run holds the migration lock.
    async applyMigration(version, sqlText) {
      const conn = await mysql2.createConnection({ ...connection, multipleStatements: true });
      conn.on('error', () => {});
      try {
        const [[{ got }]] = await conn.query('SELECT GET_LOCK(?, 0) AS got', [MIGRATION_LOCK_MYSQL]);
        if (got !== 1) return false;
        await conn.query(sqlText);
        await conn.query('INSERT INTO schema_migrations (version) VALUES (?)', [version]);
        return true;
      } finally {
        await conn.end().catch(() => {}); // ends the session: releases the lock
      }
    },
    end: () => pool.end(),
  };
}

// No connection settings: every query fails at once, naming what is missing.
function createUnconfigured(engine, missing) {
  const fail = async () => {
    throw new Error(`no database configured: ${missing.join(', ')} not set`);
  };
  return {
    engine,
    configured: false,
    query: fail,
    insertUser: fail,
    isDuplicate: () => false,
    migrationRunning: fail,
    applyMigration: fail,
    end: async () => {},
  };
}

module.exports = { create };
