// Drills sample front end: plain JavaScript, no framework, no external URLs.
// Each section sets data-state="loaded" or "error" on its <section> after
// every load, so a browser test can wait on it.
(function () {
  'use strict';

  var config = window.DRILLS_CONFIG || {};
  // config.js without apiBase: not configured; say so rather than guess.
  var configured = typeof config.apiBase === 'string';
  var apiBase = String(config.apiBase || '').replace(/\/+$/, '');
  var $ = function (id) { return document.getElementById(id); };

  // fetch + JSON; throws Error(message from the API or the HTTP status).
  async function api(path, options) {
    if (!configured) throw new Error('no API address configured (config.js has no apiBase)');
    var res = await fetch(apiBase + path, options);
    var text = await res.text();
    var body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!res.ok) {
      var msg = body && body.error ? body.error : 'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : '');
      var err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  function show(el, text) { el.textContent = text || ''; el.hidden = !text; }
  function setState(sectionId, state) { $(sectionId).setAttribute('data-state', state); }
  function li(parts) {
    var item = document.createElement('li');
    parts.forEach(function (p) {
      var span = document.createElement('span');
      span.textContent = p.text;
      if (p.className) span.className = p.className;
      item.appendChild(span);
    });
    return item;
  }
  function fmtDate(iso) { return iso ? String(iso).replace('T', ' ').slice(0, 16) : ''; }
  function fmtSize(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MiB';
    if (n >= 1024) return (n / 1024).toFixed(1) + ' KiB';
    return n + ' B';
  }

  // ---- API status line
  async function loadHealth() {
    try {
      var h = await api('/api/health');
      $('api-status').textContent = 'API ok · database ' + h.engine + ' ok';
    } catch (err) {
      $('api-status').textContent = 'API problem: ' + err.message;
    }
  }

  // ---- Users
  function userItems(list, items, empty) {
    list.replaceChildren();
    items.forEach(function (u) {
      list.appendChild(li([{ text: u.name + ' <' + u.email + '>' }, { text: fmtDate(u.created_at), className: 'muted' }]));
    });
    if (!items.length) list.appendChild(li([{ text: empty, className: 'muted' }]));
  }

  async function loadUsers() {
    try {
      var data = await api('/api/users');
      userItems($('users-list'), data.items, 'No users yet.');
      // The day is the server's: it knows which day the stored times belong to.
      var today = await api('/api/users/today');
      $('users-today-title').textContent = 'Created today (' + today.day + ')';
      userItems($('users-today'), today.items, 'No users created today.');
      show($('users-error'), '');
      setState('users', 'loaded');
    } catch (err) {
      show($('users-error'), 'Could not load users: ' + err.message);
      setState('users', 'error');
    }
  }

  $('user-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var button = $('user-submit');
    button.disabled = true;
    show($('user-form-error'), '');
    show($('user-form-message'), '');
    try {
      var user = await api('/api/users', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: $('user-name').value, email: $('user-email').value }),
      });
      $('user-form').reset();
      await loadUsers();
      show($('user-form-message'), 'Created user ' + user.name + ' (#' + user.id + ').');
    } catch (err) {
      show($('user-form-error'), 'Could not create user: ' + err.message);
    } finally {
      button.disabled = false;
    }
  });

  // ---- Invoices
  function fmtCount(n) { return Number(n).toLocaleString('en-US'); }
  function fmtMoney(cents) { return (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  // "customer-00042: 512 invoices; open 103 (52,310.00), paid 360 (...), void 49 (...)"
  function summaryText(customer, summary) {
    var count = 0;
    var parts = ['open', 'paid', 'void'].map(function (s) {
      var x = summary[s] || { count: 0, amount_cents: 0 };
      count += x.count;
      return s + ' ' + fmtCount(x.count) + ' (' + fmtMoney(x.amount_cents) + ')';
    });
    return customer + ': ' + fmtCount(count) + ' invoices; ' + parts.join(', ');
  }

  // Next sends the last row's sort value and id (`after`) with the page
  // number; Prev goes back to the cursor that opened the previous page.
  var invoiceQuery = { page: 1, pageSize: 20, pages: 1, after: '', cursors: [''], last: null };

  function cursorOf(inv, sort) {
    if (!inv) return '';
    if (sort === 'number') return inv.number;
    return String(sort === 'amount_cents' ? inv.amount_cents : inv.issued_at) + ',' + inv.id;
  }

  function resetInvoicePaging() {
    invoiceQuery.page = 1;
    invoiceQuery.after = '';
    invoiceQuery.cursors = [''];
  }

  async function loadInvoices() {
    var params = new URLSearchParams({
      page: String(invoiceQuery.page),
      pageSize: String(invoiceQuery.pageSize),
      sort: $('invoice-sort').value,
      order: $('invoice-order').value,
    });
    var customer = $('invoice-customer').value.trim();
    var sequence = $('invoice-sequence').value.trim();
    var status = $('invoice-status').value;
    if (customer) params.set('customer', customer);
    if (sequence) params.set('sequence', sequence);
    if (status) params.set('status', status);
    if (invoiceQuery.after) params.set('after', invoiceQuery.after);
    try {
      var data = await api('/api/invoices?' + params.toString());
      var body = $('invoices-body');
      body.replaceChildren();
      data.items.forEach(function (inv) {
        var tr = document.createElement('tr');
        [
          [inv.number, ''],
          [inv.customer, ''],
          [(inv.amount_cents / 100).toFixed(2), 'num'],
          [inv.status, 'status status-' + inv.status],
          [fmtDate(inv.issued_at), ''],
        ].forEach(function (cell) {
          var td = document.createElement('td');
          td.textContent = cell[0];
          if (cell[1]) td.className = cell[1];
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      invoiceQuery.last = cursorOf(data.items[data.items.length - 1], params.get('sort'));
      invoiceQuery.pages = Math.max(1, Math.ceil(data.total / data.pageSize));
      // An unfiltered list on a big table comes with an estimated total.
      var about = data.totalIsEstimate ? 'about ' : '';
      $('invoices-page').textContent = 'page ' + fmtCount(data.page) + ' of ' + about + fmtCount(invoiceQuery.pages);
      $('invoices-total').textContent = about + fmtCount(data.total) + ' invoices';
      show($('invoices-summary'), data.customerSummary ? summaryText(customer, data.customerSummary) : '');
      $('invoices-prev').disabled = data.page <= 1;
      $('invoices-next').disabled = data.page >= invoiceQuery.pages || !data.items.length;
      show($('invoices-error'), '');
      setState('invoices', 'loaded');
    } catch (err) {
      show($('invoices-error'), 'Could not load invoices: ' + err.message);
      setState('invoices', 'error');
    }
  }

  $('invoice-filters').addEventListener('submit', function (ev) {
    ev.preventDefault();
    resetInvoicePaging();
    loadInvoices();
  });
  ['invoice-status', 'invoice-sort', 'invoice-order'].forEach(function (id) {
    $(id).addEventListener('change', function () { resetInvoicePaging(); loadInvoices(); });
  });
  $('invoices-prev').addEventListener('click', function () {
    if (invoiceQuery.page <= 1) return;
    invoiceQuery.page--;
    // After a jump there is no cursor for the page before: the page number alone.
    invoiceQuery.cursors.length = Math.max(1, Math.min(invoiceQuery.cursors.length, invoiceQuery.page));
    invoiceQuery.after = invoiceQuery.cursors[invoiceQuery.page - 1] || '';
    loadInvoices();
  });
  $('invoices-next').addEventListener('click', function () {
    if (invoiceQuery.page >= invoiceQuery.pages) return;
    invoiceQuery.cursors[invoiceQuery.page] = invoiceQuery.last;
    invoiceQuery.page++;
    invoiceQuery.after = invoiceQuery.last;
    loadInvoices();
  });
  // Jump to a page by number (no cursor: the API counts its way there); Next goes on from it.
  $('invoices-goto').addEventListener('change', function () {
    var n = Math.floor(Number($('invoices-goto').value));
    if (!(n >= 1)) return;
    invoiceQuery.page = Math.min(n, invoiceQuery.pages);
    invoiceQuery.after = '';
    invoiceQuery.cursors = [''];
    loadInvoices();
  });

  // ---- Uploads
  async function loadUploads() {
    try {
      var data = await api('/api/uploads');
      var list = $('uploads-list');
      list.replaceChildren();
      data.items.forEach(function (f) {
        list.appendChild(li([{ text: f.name }, { text: fmtSize(f.size) + ' · ' + fmtDate(f.modified), className: 'muted' }]));
      });
      if (!data.items.length) list.appendChild(li([{ text: 'No files uploaded yet.', className: 'muted' }]));
      show($('uploads-error'), '');
      setState('uploads', 'loaded');
    } catch (err) {
      show($('uploads-error'), 'Could not load uploads: ' + err.message);
      setState('uploads', 'error');
    }
  }

  $('upload-button').addEventListener('click', async function () {
    var file = $('upload-file').files[0];
    show($('upload-error'), '');
    show($('upload-message'), '');
    if (!file) { show($('upload-error'), 'Choose a file first.'); return; }
    var button = $('upload-button');
    button.disabled = true;
    try {
      var res = await api('/api/uploads?name=' + encodeURIComponent(file.name), {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: file,
      });
      $('upload-file').value = '';
      await loadUploads();
      show($('upload-message'), 'Uploaded ' + res.name + ' (' + fmtSize(res.size) + ').');
    } catch (err) {
      show($('upload-error'), 'Upload failed: ' + err.message);
    } finally {
      button.disabled = false;
    }
  });

  loadHealth();
  loadUsers();
  loadInvoices();
  loadUploads();
})();
