'use strict';
// GET /api/users (newest 100), POST /api/users {name, email} and
// GET /api/users/today (the users created today, newest 100).
const { HttpError, readJson } = require('../lib/http');

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const DAY_MS = 24 * 60 * 60 * 1000;

// created_at holds UTC (the database's clock): a day is a UTC day (YYYY-MM-DD).
const dayOf = (d) => d.toISOString().slice(0, 10);

const toUser = (r) => ({ id: Number(r.id), name: r.name, email: r.email, created_at: r.created_at });

async function list(ctx) {
  const rows = await ctx.db.query(
    'SELECT id, name, email, created_at FROM users ORDER BY created_at DESC, id DESC LIMIT 100');
  return [200, { items: rows.map(toUser) }];
}

async function today(ctx) {
  const day = dayOf(new Date());
  const next = dayOf(new Date(Date.parse(day) + DAY_MS));
  const rows = await ctx.db.query(
    'SELECT id, name, email, created_at FROM users WHERE created_at >= ? AND created_at < ? ' +
    'ORDER BY created_at DESC, id DESC LIMIT 100', [day, next]);
  return [200, { day, items: rows.map(toUser) }];
}

async function create(ctx) {
  const body = await readJson(ctx.req);
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  const email = typeof body.email === 'string' ? body.email.trim() : '';
  if (!name) throw new HttpError(400, 'name is required');
  if (name.length > 100) throw new HttpError(400, 'name must be at most 100 characters');
  if (!email) throw new HttpError(400, 'email is required');
  if (email.length > 255 || !EMAIL_RE.test(email)) throw new HttpError(400, `email is not a valid address: ${email}`);
  try {
    return [201, toUser(await ctx.db.insertUser(name, email))];
  } catch (err) {
    if (ctx.db.isDuplicate(err)) throw new HttpError(409, `a user with email ${email} already exists`);
    throw err;
  }
}

module.exports = { list, today, create };
