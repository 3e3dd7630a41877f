'use strict';
// Log lines go to stdout and are appended to LOG_FILE. The file stays open
// (like most servers); SIGHUP reopens it after rotation. A failing write (for
// example a full disk) is reported once on stderr and never crashes the server.
const fs = require('fs');
const path = require('path');

let file = null;
let fd = null;
let writeFailed = false;

function open(logFile) {
  file = logFile;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const next = fs.openSync(file, 'a');
    if (fd !== null) fs.closeSync(fd);
    fd = next;
    writeFailed = false;
  } catch (err) {
    process.stderr.write(`${new Date().toISOString()} ERROR cannot open log file ${file}: ${err.message}\n`);
  }
}

function write(line) {
  process.stdout.write(line + '\n');
  if (fd === null) return;
  try {
    fs.writeSync(fd, line + '\n');
    writeFailed = false;
  } catch (err) {
    if (!writeFailed) {
      process.stderr.write(`${new Date().toISOString()} ERROR cannot write log file ${file}: ${err.message}\n`);
    }
    writeFailed = true;
  }
}

const stamp = () => new Date().toISOString();

module.exports = {
  open,
  reopen: () => file && open(file),
  info: (msg) => write(`${stamp()} INFO ${msg}`),
  warn: (msg) => write(`${stamp()} WARN ${msg}`),
  error: (msg, err) => write(`${stamp()} ERROR ${msg}${err ? `: ${err.stack || err.message || err}` : ''}`),
  // ISO time, method, path, status, duration, request id (nginx's $request_id)
  access: (method, url, status, ms, id) => write(`${stamp()} ${method} ${url} ${status} ${ms}ms rid=${id || '-'}`),
};
