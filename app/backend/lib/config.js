'use strict';
// Run-time settings, from the environment (supervisor sources
// /etc/drills/backend.env before starting the server).

function int(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

function load() {
  const engine = process.env.DB_ENGINE || 'postgres';
  if (engine !== 'postgres' && engine !== 'mysql') {
    throw new Error(`DB_ENGINE must be postgres or mysql, got "${engine}"`);
  }
  // Connection settings present but empty: not configured yet; the API runs
  // without a database and says which are missing.
  const missing = ['DB_HOST', 'DB_USER', 'DB_PASSWORD'].filter((n) => process.env[n] === '');
  return {
    engine,
    db: {
      missing,
      host: process.env.DB_HOST || '127.0.0.1',
      port: int('DB_PORT', engine === 'postgres' ? 5432 : 3306),
      user: process.env.DB_USER || 'drills',
      password: process.env.DB_PASSWORD || 'drills',
      database: process.env.DB_NAME || 'drills',
    },
    port: int('PORT', 3000),
    uploadDir: process.env.UPLOAD_DIR || '/var/lib/drills/uploads',
    // Uploads are written here first, then renamed into uploadDir (same filesystem).
    uploadTmpDir: process.env.UPLOAD_TMP_DIR || '/var/lib/drills/uploads/.partial',
    logFile: process.env.LOG_FILE || '/var/log/drills/backend.log',
    corsOrigin: process.env.CORS_ORIGIN || '',
    // Requests slower than this are logged as slow; still running after hangLogMs, as hanging.
    slowRequestMs: int('SLOW_REQUEST_MS', 500),
    hangLogMs: int('HANG_LOG_MS', 5000),
    migrationsDir: process.env.MIGRATIONS_DIR || `/opt/drills/migrations/${engine}`,
  };
}

module.exports = { load };
