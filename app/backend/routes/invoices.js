'use strict';
// GET /api/invoices?customer=&status=&page=1&pageSize=20&sort=issued_at&order=desc
//
// Fast on millions of rows: every sort column has an index (001 and
// 002_sort_indexes), a filtered list counts its rows (the filter's index keeps
// that cheap), and the unfiltered list takes its total from the table's
// statistics (`totalIsEstimate: true`) instead of counting every row.
// A customer search also returns the customer's balance per status.
const { HttpError } = require('../lib/http');

const STATUSES = ['paid', 'open', 'void'];
const SORTS = ['issued_at', 'amount_cents', 'number']; // whitelist: the only column names put in SQL
const ORDERS = ['asc', 'desc'];
// Below this many rows an exact COUNT(*) is cheap; above it, the estimate.
const ESTIMATE_FROM_ROWS = 200000;

function oneOf(name, raw, allowed, fallback) {
  if (raw === null || raw === '') return fallback;
  if (!allowed.includes(raw)) throw new HttpError(400, `invalid ${name} "${raw}": must be one of ${allowed.join(', ')}`);
  return raw;
}

function intIn(name, raw, fallback, min, max) {
  if (raw === null || raw === '') return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new HttpError(400, `invalid ${name} "${raw}": must be an integer from ${min} to ${max}`);
  return n;
}

const toInvoice = (r) => ({
  id: Number(r.id),
  number: r.number,
  customer: r.customer,
  amount_cents: Number(r.amount_cents),
  status: r.status,
  issued_at: r.issued_at,
});

// Rows in invoices according to the table's statistics (kept by autovacuum /
// InnoDB), or null when there are none yet.
async function estimatedRows(db) {
  const rows = db.engine === 'postgres'
    ? await db.query("SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'invoices'::regclass")
    : await db.query("SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'invoices'");
  const n = rows.length ? Number(rows[0].n) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

async function total(db, sql) {
  if (!sql.whereSql) {
    const estimate = await estimatedRows(db);
    if (estimate !== null && estimate >= ESTIMATE_FROM_ROWS) return { total: estimate, totalIsEstimate: true };
  }
  const rows = await db.query(sql.count.sql, sql.count.params);
  return { total: Number(rows[0].total), totalIsEstimate: false };
}

// The customer's invoices and amounts per status (the search page's balance line).
const SUMMARY_SQL = 'SELECT status, COUNT(*) AS n, SUM(amount_cents) AS amount_cents FROM invoices WHERE customer = ? GROUP BY status';

async function customerSummary(db, query) {
  const rows = await db.query(query.sql, query.params);
  const summary = {};
  for (const s of STATUSES) summary[s] = { count: 0, amount_cents: 0 };
  for (const r of rows) summary[r.status] = { count: Number(r.n), amount_cents: Number(r.amount_cents) };
  return summary;
}

// The SQL of one list request (placeholders `?`), pure so tests and checks
// can hold it to what the app really runs.
function listQueries({ customer = '', status = '', sort = 'issued_at', order = 'desc', page = 1, pageSize = 20 }) {
  const where = [];
  const params = [];
  if (customer) { where.push('customer = ?'); params.push(customer); }
  if (status) { where.push('status = ?'); params.push(status); }
  const whereSql = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  // id breaks ties so pages never overlap; number is unique and needs none.
  const orderSql = sort === 'number' ? `number ${dir}` : `${sort} ${dir}, id ${dir}`;
  return {
    whereSql,
    params,
    page: {
      sql: `SELECT id, number, customer, amount_cents, status, issued_at FROM invoices${whereSql} ORDER BY ${orderSql} LIMIT ? OFFSET ?`,
      params: [...params, pageSize, (page - 1) * pageSize],
    },
    count: { sql: `SELECT COUNT(*) AS total FROM invoices${whereSql}`, params },
    summary: customer ? { sql: SUMMARY_SQL, params: [customer] } : null,
  };
}

async function list(ctx) {
  const q = ctx.url.searchParams;
  const customer = q.get('customer') || '';
  if (customer.length > 100) throw new HttpError(400, 'invalid customer: at most 100 characters');
  const filters = {
    customer,
    status: oneOf('status', q.get('status'), STATUSES, ''),
    sort: oneOf('sort', q.get('sort'), SORTS, 'issued_at'),
    order: oneOf('order', q.get('order'), ORDERS, 'desc'),
    page: intIn('page', q.get('page'), 1, 1, 1000000),
    pageSize: intIn('pageSize', q.get('pageSize'), 20, 1, 100),
  };
  const sql = listQueries(filters);
  const [counted, rows, summary] = await Promise.all([
    total(ctx.db, sql),
    ctx.db.query(sql.page.sql, sql.page.params),
    sql.summary ? customerSummary(ctx.db, sql.summary) : null,
  ]);
  const body = {
    items: rows.map(toInvoice), page: filters.page, pageSize: filters.pageSize,
    total: counted.total, totalIsEstimate: counted.totalIsEstimate,
  };
  if (summary) body.customerSummary = summary;
  return [200, body];
}

module.exports = { list, listQueries };
