'use strict';
// Requests in flight, each with its request id: nginx's $request_id arrives as
// X-Request-Id (a direct client may send none: we make one). A request still
// running after `hangMs` is reported through `onHang` while it hangs: once at
// hangMs, then every 30 s, so a stuck request leaves a trace before any timeout.
const crypto = require('crypto');

const REPEAT_MS = 30000;
const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

function requestId(req) {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && ID_RE.test(given) ? given : crypto.randomBytes(16).toString('hex');
}

class InFlight {
  constructor(hangMs, onHang) {
    this.hangMs = hangMs;
    this.onHang = onHang;
    this.entries = new Set();
    this.timer = setInterval(() => this.sweep(), Math.min(1000, hangMs)).unref();
  }

  start(req, res) {
    const entry = { id: requestId(req), method: req.method, url: req.url, started: Date.now(), nextReport: Date.now() + this.hangMs };
    res.setHeader('X-Request-Id', entry.id);
    this.entries.add(entry);
    return entry;
  }

  end(entry) {
    this.entries.delete(entry);
  }

  sweep() {
    const now = Date.now();
    for (const e of this.entries) {
      if (now < e.nextReport) continue;
      e.nextReport = now + REPEAT_MS;
      this.onHang(e, now - e.started);
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}

module.exports = { InFlight, requestId };
