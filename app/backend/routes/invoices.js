'use strict';
// GET /api/invoices?customer=&status=&sequence=&page=1&pageSize=20&sort=issued_at&order=desc[&after=<value>,<id>]
//
// sequence: the payment provider's sequence number, as printed on bank
// statements (zero-padded digits; 003_invoices_sequence_number).
//
// after: the sort value and id of the last row of the previous page, sent by
// the front end's Next button. With INVOICE_CURSOR_PAGING=on (backend.env,
// BILL-311) the page starts right after that row (keyset paging); otherwise,
// and without `after`, the page is read at OFFSET (page - 1) * pageSize.
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
const SEQUENCE_RE = /^\d{1,20}$/;
const cursorPaging = () => process.env.INVOICE_CURSOR_PAGING === 'on';

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

// `after` for a sort: "<value>,<id>" (issued_at: ISO time; number: the number alone).
function parseAfter(sort, raw) {
  if (raw === null || raw === '') return null;
  const bad = () => new HttpError(400, `invalid after "${raw.slice(0, 60)}": must be <${sort}>,<id> of the last row shown`);
  if (sort === 'number') {
    if (raw.length > 32) throw bad();
    return { value: raw };
  }
  const i = raw.lastIndexOf(',');
  const value = raw.slice(0, i);
  const id = raw.slice(i + 1);
  if (i < 1 || !/^\d{1,10}$/.test(id)) throw bad();
  if (sort === 'amount_cents' && !/^-?\d{1,10}$/.test(value)) throw bad();
  if (sort === 'issued_at' && Number.isNaN(Date.parse(value))) throw bad();
  return { value: sort === 'amount_cents' ? Number(value) : sort === 'issued_at' ? new Date(value) : value, id: Number(id) };
}

// The SQL of one list request (placeholders `?`), pure so tests and checks
// can hold it to what the app really runs. With a cursor the page seeks past
// the previous page's last row instead of skipping OFFSET rows; `col <= v`
// (or >=) lets a one-column index on the sort column seek, the row comparison
// settles ties by id.
function listQueries({ customer = '', status = '', sequence = '', sort = 'issued_at', order = 'desc', page = 1, pageSize = 20, after = null }) {
  const where = [];
  const params = [];
  if (customer) { where.push('customer = ?'); params.push(customer); }
  if (status) { where.push('status = ?'); params.push(status); }
  if (sequence) { where.push('sequence_number = ?'); params.push(sequence); }
  const whereSql = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  // id breaks ties so pages never overlap; number is unique and needs none.
  const orderSql = sort === 'number' ? `number ${dir}` : `${sort} ${dir}, id ${dir}`;
  const columns = 'id, number, customer, amount_cents, status, issued_at';
  let page_;
  if (after) {
    const [cmp, edge] = dir === 'ASC' ? ['>', '>='] : ['<', '<='];
    const seek = sort === 'number' ? [`number ${cmp} ?`] : [`${sort} ${edge} ?`, `(${sort}, id) ${cmp} (?, ?)`];
    const seekParams = sort === 'number' ? [after.value] : [after.value, after.value, after.id];
    const w = [...where, ...seek];
    page_ = {
      sql: `SELECT ${columns} FROM invoices WHERE ${w.join(' AND ')} ORDER BY ${orderSql} LIMIT ?`,
      params: [...params, ...seekParams, pageSize],
    };
  } else {
    page_ = {
      sql: `SELECT ${columns} FROM invoices${whereSql} ORDER BY ${orderSql} LIMIT ? OFFSET ?`,
      params: [...params, pageSize, (page - 1) * pageSize],
    };
  }
  return {
    whereSql,
    params,
    page: page_,
    count: { sql: `SELECT COUNT(*) AS total FROM invoices${whereSql}`, params },
    summary: customer ? { sql: SUMMARY_SQL, params: [customer] } : null,
  };
}

async function list(ctx) {
  const q = ctx.url.searchParams;
  const customer = q.get('customer') || '';
  if (customer.length > 100) throw new HttpError(400, 'invalid customer: at most 100 characters');
  const sequence = (q.get('sequence') || '').trim();
  if (sequence && !SEQUENCE_RE.test(sequence)) throw new HttpError(400, `invalid sequence "${sequence.slice(0, 30)}": digits only, at most 20`);
  const sort = oneOf('sort', q.get('sort'), SORTS, 'issued_at');
  const filters = {
    customer,
    sequence,
    status: oneOf('status', q.get('status'), STATUSES, ''),
    sort,
    order: oneOf('order', q.get('order'), ORDERS, 'desc'),
    page: intIn('page', q.get('page'), 1, 1, 1000000),
    pageSize: intIn('pageSize', q.get('pageSize'), 20, 1, 100),
    after: cursorPaging() ? parseAfter(sort, q.get('after')) : null,
  };
  const sql = listQueries(filters);
  // A sequence number names one invoice: its page is its count.
  const [counted, rows, summary] = await Promise.all([
    filters.sequence ? null : total(ctx.db, sql),
    ctx.db.query(sql.page.sql, sql.page.params),
    sql.summary ? customerSummary(ctx.db, sql.summary) : null,
  ]);
  const body = {
    items: rows.map(toInvoice), page: filters.page, pageSize: filters.pageSize,
    total: counted ? counted.total : rows.length, totalIsEstimate: counted ? counted.totalIsEstimate : false,
  };
  if (summary) body.customerSummary = summary;
  return [200, body];
}

module.exports = { list, listQueries };
