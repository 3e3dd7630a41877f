'use strict';
// POST /api/uploads?name=<file name> (raw bytes) and GET /api/uploads.
// An upload is written to a temp file in the temp directory (UPLOAD_TMP_DIR,
// on the same filesystem as the uploads directory), then renamed into place:
// readers never see a half-written file.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { HttpError, readBody } = require('../lib/http');
const log = require('../lib/log');

const MAX_BYTES = 10 * 1024 * 1024; // 10 MiB

// basename only, characters [A-Za-z0-9._-] (others become "_"), no leading dots.
function sanitize(raw) {
  if (!raw) return null;
  const base = raw.replace(/\\/g, '/').split('/').pop();
  const name = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  if (!name || name.length > 200) return null;
  return name;
}

async function create(ctx) {
  const raw = ctx.url.searchParams.get('name');
  const name = sanitize(raw);
  if (!name) {
    throw new HttpError(400, raw
      ? `invalid file name "${raw}"`
      : 'query parameter "name" is required, e.g. POST /api/uploads?name=report.pdf');
  }
  const body = await readBody(ctx.req, MAX_BYTES);
  const target = path.join(ctx.config.uploadDir, name);
  const tmp = path.join(ctx.config.uploadTmpDir, `${name}.${crypto.randomBytes(6).toString('hex')}.part`);
  try {
    await fs.promises.writeFile(tmp, body, { flag: 'wx', mode: 0o644 });
    await fs.promises.rename(tmp, target);
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => {});
    log.error(`upload ${name} (${body.length} bytes) failed`, err);
    if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
      throw new HttpError(507, `no space left to store ${name}: ${err.message}`);
    }
    throw new HttpError(500, `could not store ${name}: ${err.message}`);
  }
  return [201, { name, size: body.length }];
}

async function list(ctx) {
  const dir = ctx.config.uploadDir;
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  const items = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = await fs.promises.stat(path.join(dir, e.name)).catch(() => null);
    if (st) items.push({ name: e.name, size: st.size, modified: st.mtime.toISOString() });
  }
  items.sort((a, b) => b.modified.localeCompare(a.modified) || a.name.localeCompare(b.name));
  return [200, { items }];
}

module.exports = { create, list, sanitize, MAX_BYTES };
