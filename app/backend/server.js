'use strict';
// drills backend: a small JSON API on Node's `http` module (Node 18, CommonJS).
// Dependencies pg and mysql2 come pre-bundled in ./vendor.js.
//
// Start-up: connect to the database (retrying up to 30 s), apply pending
// migrations, then listen on 0.0.0.0:PORT. Settings: see lib/config.js.
const fs = require('fs');
const http = require('http');
const config = require('./lib/config').load();
const log = require('./lib/log');
const dbLib = require('./lib/db');
const { migrate } = require('./lib/migrate');
const { HttpError, sendJson } = require('./lib/http');
const { InFlight } = require('./lib/inflight');
const { health, describe } = require('./routes/health');
const users = require('./routes/users');
const invoices = require('./routes/invoices');
const uploads = require('./routes/uploads');

const ROUTES = {
  '/api/health': { GET: health },
  '/api/users': { GET: users.list, POST: users.create },
  '/api/users/today': { GET: users.today },
  '/api/invoices': { GET: invoices.list },
  '/api/uploads': { GET: uploads.list, POST: uploads.create },
};

const DB_WAIT_MS = 30000;

// CORS_ORIGIN: the origins allowed to call the API from a browser, comma
// separated. A request from a listed origin gets it back; any other gets the
// first one (so `curl -i` shows what is configured), which a browser refuses.
const corsOrigins = config.corsOrigin.split(',').map((o) => o.trim()).filter(Boolean);

function corsHeaders(req) {
  if (!corsOrigins.length) return {};
  const origin = req.headers.origin;
  const allowed = corsOrigins.includes(origin) ? origin : corsOrigins[0];
  return { 'Access-Control-Allow-Origin': allowed, Vary: 'Origin' };
}

async function handle(req, res, db) {
  const url = new URL(req.url, 'http://localhost');
  const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const route = ROUTES[pathname];
  const cors = corsHeaders(req);

  if (req.method === 'OPTIONS' && route) {
    const allow = [...Object.keys(route), 'OPTIONS'].join(', ');
    res.writeHead(204, corsOrigins.length ? {
      ...cors,
      'Access-Control-Allow-Methods': allow,
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '600',
    } : { Allow: allow });
    res.end();
    return;
  }
  if (!route) {
    const what = pathname.startsWith('/api/') || pathname === '/api' ? 'unknown API path' : 'not found';
    sendJson(res, 404, { error: `${what}: ${pathname}` }, cors);
    return;
  }
  const fn = route[req.method];
  if (!fn) {
    const allow = Object.keys(route).join(', ');
    sendJson(res, 405, { error: `method ${req.method} not allowed; use ${allow}` }, { ...cors, Allow: allow });
    return;
  }
  try {
    const [status, body] = await fn({ req, url, db, config });
    sendJson(res, status, body, cors);
  } catch (err) {
    if (err instanceof HttpError) {
      if (err.status === 413) res.setHeader('Connection', 'close');
      sendJson(res, err.status, { error: err.message }, cors);
    } else {
      log.error(`${req.method} ${req.url} failed`, err);
      sendJson(res, 500, { error: describe(err) }, cors);
    }
    if (!req.complete) req.resume(); // drain an unread body so the client gets the answer
  }
}

async function waitForDb(db) {
  const deadline = Date.now() + DB_WAIT_MS;
  for (;;) {
    try {
      await db.query('SELECT 1');
      log.info('database connection ok');
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`database not reachable after ${DB_WAIT_MS / 1000}s: ${describe(err)}`);
      log.info(`waiting for database ${config.db.host}:${config.db.port}: ${describe(err)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function main() {
  log.open(config.logFile);
  process.on('SIGHUP', () => { log.reopen(); log.info('log file reopened'); });
  log.info(`backend starting: engine=${config.engine} db=${config.db.user}@${config.db.host}:${config.db.port}/${config.db.database} port=${config.port}`);
  try {
    fs.mkdirSync(config.uploadDir, { recursive: true });
  } catch (err) {
    log.error(`cannot create upload directory ${config.uploadDir}`, err);
  }

  // Requests still running after config.hangLogMs leave a line in the log while they hang.
  const requests = new InFlight(config.hangLogMs, (e, ms) =>
    log.warn(`request still running after ${Math.floor(ms / 1000)}s: ${e.method} ${e.url} (request ${e.id})`));

  const db = dbLib.create(config.engine, config.db);
  if (db.configured === false) {
    log.warn(`no database configured (${config.db.missing.join(', ')} empty): serving without one, every data request fails until they are set and the backend restarted`);
  } else {
    await waitForDb(db);
    await migrate(db, config.migrationsDir);
  }

  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const entry = requests.start(req, res);
    res.on('finish', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      requests.end(entry);
      log.access(req.method, req.url, res.statusCode, ms, entry.id);
      if (res.statusCode >= 500) log.error(`failed request ${req.method} ${req.url}: ${res.statusCode} after ${ms}ms (request ${entry.id})`);
      else if (ms >= config.slowRequestMs) log.warn(`slow request ${req.method} ${req.url}: ${res.statusCode} after ${ms}ms (request ${entry.id})`);
    });
    res.on('close', () => {
      if (res.writableFinished) return;
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      requests.end(entry);
      log.warn(`client closed the connection: ${req.method} ${req.url} unanswered after ${ms}ms (request ${entry.id})`);
    });
    handle(req, res, db).catch((err) => {
      log.error('request handler crashed', err);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('clientError', (err, socket) => socket.destroy(err));
  server.listen(config.port, '0.0.0.0', () => log.info(`listening on 0.0.0.0:${config.port}`));

  const stop = (signal) => {
    log.info(`${signal} received, shutting down`);
    server.close();
    requests.stop();
    db.end().catch(() => {});
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

process.on('unhandledRejection', (err) => log.error('unhandled promise rejection', err));

main().catch((err) => {
  log.error('startup failed', err);
  process.exit(1);
});
