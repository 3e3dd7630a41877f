'use strict';
// GET /api/invoices?customer=&status=&page=1&pageSize=20&sort=issued_at&order=desc
const { HttpError } = require('../lib/http');

const STATUSES = ['paid', 'open', 'void'];
const SORTS = ['issued_at', 'amount_cents', 'number']; // whitelist: the only column names put in SQL
const ORDERS = ['asc', 'desc'];

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

async function list(ctx) {
  const q = ctx.url.searchParams;
  const customer = q.get('customer') || '';
  if (customer.length > 100) throw new HttpError(400, 'invalid customer: at most 100 characters');
  const status = oneOf('status', q.get('status'), STATUSES, '');
  const sort = oneOf('sort', q.get('sort'), SORTS, 'issued_at');
  const order = oneOf('order', q.get('order'), ORDERS, 'desc');
  const page = intIn('page', q.get('page'), 1, 1, 1000000);
  const pageSize = intIn('pageSize', q.get('pageSize'), 20, 1, 100);

  const where = [];
  const params = [];
  if (customer) { where.push('customer = ?'); params.push(customer); }
  if (status) { where.push('status = ?'); params.push(status); }
  const whereSql = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const dir = order === 'asc' ? 'ASC' : 'DESC';

  const [countRows, rows] = await Promise.all([
    ctx.db.query(`SELECT COUNT(*) AS total FROM invoices${whereSql}`, params),
    ctx.db.query(
      `SELECT id, number, customer, amount_cents, status, issued_at FROM invoices${whereSql}` +
        ` ORDER BY ${sort} ${dir}, id ${dir} LIMIT ? OFFSET ?`,
      [...params, pageSize, (page - 1) * pageSize]),
  ]);
  return [200, { items: rows.map(toInvoice), page, pageSize, total: Number(countRows[0].total) }];
}

module.exports = { list };
