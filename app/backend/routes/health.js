'use strict';
// GET /api/health: 200 when `SELECT 1` works, else 503 with the error.

const TIMEOUT_MS = 3000;

function describe(err) {
  if (err && err.message) return err.message;
  if (err && Array.isArray(err.errors) && err.errors[0]) return describe(err.errors[0]);
  return (err && err.code) || String(err);
}

async function health(ctx) {
  let timer;
  try {
    await Promise.race([
      ctx.db.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`database did not answer within ${TIMEOUT_MS}ms`)), TIMEOUT_MS);
      }),
    ]);
    return [200, { status: 'ok', db: 'ok', engine: ctx.db.engine }];
  } catch (err) {
    return [503, { status: 'degraded', db: describe(err), engine: ctx.db.engine }];
  } finally {
    clearTimeout(timer);
  }
}

module.exports = { health, describe };
