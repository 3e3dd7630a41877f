'use strict';
// One small interface over PostgreSQL (pg) and MariaDB/MySQL (mysql2).
// SQL is written with `?` placeholders; for PostgreSQL they become $1, $2...
// Queries are always parameterized.
const { pg, mysql2 } = require('../vendor');

const QUERY_TIMEOUT_MS = 30000;

// PostgreSQL `timestamp` columns hold UTC: parse them as UTC, not local time.
pg.types.setTypeParser(1114, (s) => new Date(s.replace(' ', 'T') + 'Z'));

function toPg(sql) {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function create(engine, opts) {
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
    // Runs a migration file (may hold several statements) and records it, in one transaction.
    async applyMigration(version, sqlText) {
      const client = new pg.Client(connection);
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(sqlText);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
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
    // DDL commits implicitly in MariaDB: statements run in order, then the version is recorded.
    async applyMigration(version, sqlText) {
      const conn = await mysql2.createConnection({ ...connection, multipleStatements: true });
      try {
        await conn.query(sqlText);
        await conn.query('INSERT INTO schema_migrations (version) VALUES (?)', [version]);
      } finally {
        await conn.end().catch(() => {});
      }
    },
    end: () => pool.end(),
  };
}

module.exports = { create };
