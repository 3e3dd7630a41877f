import { LevelPlan } from "../plan/types";
import { intParam } from "./params";
import { adminSql, RESTART_BACKEND } from "./scripts";
import { CheckContext, CheckResult, Fault } from "./types";

export interface NumberAsStringParams {
  /** A lookup slower than this (median over random sequence numbers) counts as the symptom. */
  slowMs?: number;
  /** A lookup must be faster than this (median over random sequence numbers) to count as fixed. */
  fastMs?: number;
}

const ROUTE = "/opt/drills/backend/routes/invoices.js";
const DEPLOY_LOG = "/var/log/drills/deploy.log";
const BACKEND_LOG = "/var/log/drills/backend.log";

/**
 * The healthy app reads the sequence filter as text (app/backend/routes/invoices.js);
 * the release's "refactor" validates it with the route's integer helper, which
 * returns a Number: mysql2 then inlines it as a numeric literal. Unit tests
 * hold HEALTHY_PARSE to the app's file.
 */
export const HEALTHY_PARSE =
  "  const sequence = (q.get('sequence') || '').trim();\n" +
  "  if (sequence && !SEQUENCE_RE.test(sequence)) throw new HttpError(400, `invalid sequence \"${sequence.slice(0, 30)}\": digits only, at most 20`);\n";
export const RELEASE_PARSE = "  const sequence = intIn('sequence', (q.get('sequence') || '').trim(), '', 1, 9999999999);\n";

/** The seed's sequence number of an invoice id (app/db/<engine>/seed.sql): zero-padded to 10 digits. */
export const seedSequence = (id: number): string => String((BigInt(id) * 48271n) % 2147483647n).padStart(10, "0");

/** The lookup the front end requests for a sequence number typed into the filter. */
export const lookupPath = (sequence: string): string => `api/invoices?page=1&pageSize=20&sort=issued_at&order=desc&sequence=${sequence}`;

/** Bash: replace one exact text of the route file by another (node, as the release pipeline patches). */
function replaceInRoute(from: string, to: string, what: string): string {
  return [
    "set -euo pipefail",
    "node - <<'DRILLS_JS'",
    "const fs = require('fs');",
    `const file = ${JSON.stringify(ROUTE)};`,
    `const from = ${JSON.stringify(from)};`,
    `const to = ${JSON.stringify(to)};`,
    "const s = fs.readFileSync(file, 'utf8');",
    `if (!s.includes(from)) { console.error(${JSON.stringify(`${ROUTE}: ${what}: expected text not found`)}); process.exit(1); }`,
    "fs.writeFileSync(file, s.replace(from, to));",
    "DRILLS_JS",
  ].join("\n");
}

/** Random invoice ids of the seed, with their sequence numbers and invoice numbers, read by primary key. */
async function randomInvoices(ctx: CheckContext, n: number): Promise<Array<{ sequence: string; number: string }>> {
  const [{ maxId }] = await ctx.sql("SELECT MAX(id) AS maxId FROM invoices");
  const out: Array<{ sequence: string; number: string }> = [];
  for (let i = 0; i < n; i++) {
    const id = 1 + Math.floor(Math.random() * Number(maxId));
    const rows = await ctx.sql("SELECT sequence_number, number FROM invoices WHERE id = ?", [id]);
    if (rows.length) out.push({ sequence: String(rows[0].sequence_number), number: String(rows[0].number) });
  }
  return out;
}

export interface LookupSample {
  ms: number;
  status: number;
  /** Lookups whose answer was not exactly the invoice with that sequence number. */
  wrong: string[];
  sequences: string[];
  error?: string;
}

/** Median latency of lookups of random sequence numbers through the proxy; each answer checked against the table. */
export async function lookupLatency(ctx: CheckContext, runs = 5): Promise<LookupSample> {
  const picks = await randomInvoices(ctx, runs);
  const times: number[] = [];
  const wrong: string[] = [];
  for (const p of picks) {
    const r = await ctx.http(`${ctx.plan.appUrl}${lookupPath(p.sequence)}`, { timeoutMs: 30_000 });
    if (r.status !== 200) return { ms: Math.round(r.ms), status: r.status, wrong, sequences: picks.map((x) => x.sequence), error: r.error ?? r.text.slice(0, 200) };
    times.push(r.ms);
    try {
      const items = (JSON.parse(r.text) as { items: Array<{ number: string }> }).items;
      if (items.length !== 1 || items[0].number !== p.number) wrong.push(`${p.sequence} (expected ${p.number}, got ${items.map((x) => x.number).join(", ") || "nothing"})`);
    } catch {
      wrong.push(`${p.sequence} (not JSON)`);
    }
  }
  times.sort((a, b) => a - b);
  return { ms: Math.round(times[Math.floor(times.length / 2)]), status: 200, wrong, sequences: picks.map((p) => p.sequence) };
}

/**
 * The statements the app really sends for one lookup: MariaDB's general log
 * around one request through the proxy (mysql2 inlines the values, so the log
 * holds the exact text). Restores the log settings afterwards.
 */
async function capturedStatements(ctx: CheckContext, sequence: string): Promise<string[]> {
  const file = `/tmp/general-${Date.now()}-${Math.floor(Math.random() * 1e6)}.log`;
  const on = await ctx.exec(
    "datastore",
    `set -e; mariadb -N -e "SELECT @@general_log_file, @@log_output" ; mariadb -e "SET GLOBAL general_log_file = '${file}'; SET GLOBAL log_output = 'FILE'; SET GLOBAL general_log = ON"`,
  );
  const [oldFile, oldOutput] = on.stdout.trim().split("\t");
  try {
    await ctx.http(`${ctx.plan.appUrl}${lookupPath(sequence)}`, { timeoutMs: 30_000 });
  } finally {
    await ctx.exec(
      "datastore",
      `mariadb -e "SET GLOBAL general_log = OFF; SET GLOBAL general_log_file = '${oldFile ?? ""}'; SET GLOBAL log_output = '${oldOutput || "FILE"}'"`,
    );
  }
  const r = await ctx.exec("datastore", `cat '${file}' 2>/dev/null; rm -f '${file}'`);
  // "<time>\t<thread> Query\t<statement>"; a statement may span lines (not the app's).
  return r.stdout
    .split("\n")
    .map((l) => l.match(/\bQuery\t(.*)$/)?.[1] ?? "")
    .filter((s) => /^SELECT\b/i.test(s) && /\bsequence_number\b/.test(s) && /\bFROM invoices\b/i.test(s));
}

/** EXPLAIN a captured statement: does MariaDB seek an index that starts with sequence_number? */
async function seeksSequence(ctx: CheckContext, statement: string): Promise<{ ok: boolean; plan: string }> {
  const rows = await ctx.sql(`EXPLAIN ${statement}`);
  const idx = await ctx.sql(
    "SELECT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() " +
      "AND TABLE_NAME = 'invoices' AND SEQ_IN_INDEX = 1 AND COLUMN_NAME = 'sequence_number'",
  );
  const names = idx.map((r) => String(r.name));
  const inv = rows.filter((r) => r.table === "invoices");
  const ok = inv.length > 0 && inv.every((r) => ["ref", "const", "eq_ref", "range"].includes(String(r.type)) && names.includes(String(r.key)));
  return { ok, plan: inv.map((r) => `type ${String(r.type)}, key ${String(r.key ?? "none")}, rows ${String(r.rows)}`).join("; ") };
}

/**
 * A release "refactored" the invoice filter's validation: the sequence number
 * (VARCHAR, indexed) is now parsed to a number, so the app's SQL compares a
 * text column to a numeric literal. MariaDB then converts every row's value
 * to a number: a full read of invoices per lookup instead of an index seek.
 */
export function numberAsString(params: NumberAsStringParams = {}): Fault {
  const id = "number-as-string";
  const slowMs = intParam(id, "slowMs", params.slowMs, 700, 100, 60_000);
  const fastMs = intParam(id, "fastMs", params.fastMs, 300, 10, 10_000);
  return {
    id,
    description:
      "A release parses the sequence-number filter to an integer; MariaDB compares the VARCHAR column to a numeric literal, converts every row and cannot use its index.",
    spoilers: ["string", "varchar", "implicit", "conversion", "cast", "numeric literal", "full scan", "type all", "explain", "index"],
    bounds: [
      `Changes two lines of ${ROUTE} on the backend (and restarts it through the node's deploy hook); no data or schema is changed.`,
      "The check turns MariaDB's general log on for one request (to a temporary file, removed after) and restores its settings.",
    ],
    actions: (plan: LevelPlan) => [
      {
        id: `${id}-release`,
        node: "backend",
        description: "ship the morning's release of the invoice route and run the deploy hook",
        script: [
          replaceInRoute(HEALTHY_PARSE, RELEASE_PARSE, "release"),
          'REL="$(date -u +%Y.%m.%d).1"',
          `printf '%s INFO deploy %s: pipeline: shipped backend/routes/invoices.js (BILL-402: validate the sequence filter like page and pageSize, reuse intIn)\\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$REL" >>${DEPLOY_LOG}`,
          'drills-deploy "$REL" >/dev/null',
        ].join("\n"),
      },
      {
        id: `${id}-lookups`,
        node: "proxy",
        description: "finance's first lookup of the morning",
        // One lookup, not several: each reads the whole table, seconds of setup.
        script: [
          "set -uo pipefail",
          "# The sequence number is picked at run time, from the seed's numbering (the plan stays the same).",
          "i=$(( (RANDOM * 32768 + RANDOM) % 1000000 + 1 ))",
          "s=$(printf '%010d' $(( i * 48271 % 2147483647 )))",
          `curl -s -o /dev/null -m 60 "http://127.0.0.1/${lookupPath("$s")}" || true`,
        ].join("\n"),
      },
    ],
    probe: async (ctx) => {
      const r = await lookupLatency(ctx, 3);
      return {
        present: r.status === 200 && r.ms >= slowMs,
        summary:
          r.status === 200
            ? `lookup by sequence number: median ${r.ms} ms over ${r.sequences.length} random numbers (slow from ${slowMs} ms)`
            : `lookup by sequence number failed: ${r.error ?? r.status}`,
        figures: { lookupMs: r.ms, status: r.status, wrong: r.wrong.length },
      };
    },
    check: async (ctx): Promise<CheckResult> => {
      const reasons: string[] = [];
      const figures: Record<string, number | string> = {};
      // The column still holds the provider's references, zeros included.
      const col = await ctx.sql(
        "SELECT DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'invoices' AND COLUMN_NAME = 'sequence_number'",
      );
      const type = String(col[0]?.t ?? "missing");
      figures.columnType = type;
      if (!/char/i.test(type)) {
        reasons.push(
          `invoices.sequence_number is now ${type}: sequence numbers are the provider's zero-padded references (e.g. ${seedSequence(1234567)}), ` +
            "not quantities; the column must keep them as they were issued.",
        );
      }
      const [sample] = await randomInvoices(ctx, 1);
      const statements = sample ? await capturedStatements(ctx, sample.sequence) : [];
      figures.statements = statements.length;
      if (!statements.length) {
        reasons.push(`A lookup of ${sample?.sequence ?? "a sequence number"} through the app sent no query on invoices.sequence_number to the database (a cache cannot answer every number).`);
      }
      for (const s of statements) {
        const e = await seeksSequence(ctx, s);
        if (!e.ok) reasons.push(`The app's lookup query \`${s.slice(0, 160)}\` reads the invoices table without a seek by sequence number (${e.plan}).`);
      }
      const r = await lookupLatency(ctx);
      figures.lookupMs = r.ms;
      figures.status = r.status;
      if (r.status !== 200) reasons.push(`The lookup by sequence number failed (${r.error ?? r.status}).`);
      else {
        if (r.wrong.length) reasons.push(`Lookups returned the wrong invoices: ${r.wrong.join("; ")}.`);
        if (r.ms > fastMs) reasons.push(`A lookup by sequence number takes ${r.ms} ms (median over random numbers) through the proxy; it must take under ${fastMs} ms.`);
      }
      return { ok: reasons.length === 0, reasons, figures };
    },
    shortcuts: [
      {
        description: "add a second index on invoices.sequence_number",
        actions: (plan) => [
          { id: `${id}-sc-index`, node: "datastore", description: "second index", script: adminSql(plan.engine, `CREATE INDEX idx_invoices_seq2 ON invoices (sequence_number);`) },
        ],
        undo: (plan) => [
          { id: `${id}-sc-index-undo`, node: "datastore", description: "drop it", script: adminSql(plan.engine, `DROP INDEX idx_invoices_seq2 ON invoices;`) },
        ],
      },
      {
        description: "give MariaDB a bigger buffer pool (256 MB) so the table stays in memory",
        actions: (plan) => [
          {
            id: `${id}-sc-pool`,
            node: "datastore",
            description: "bigger buffer pool",
            // Keep the configured size for the undo (roles/datastore/provision.sh names it, once).
            script: "mariadb -N -e 'SELECT @@innodb_buffer_pool_size' >/tmp/drills-pool-size\n" +
              adminSql(plan.engine, "SET GLOBAL innodb_buffer_pool_size = 268435456;") + "sleep 3\n",
          },
        ],
        undo: () => [
          {
            id: `${id}-sc-pool-undo`,
            node: "datastore",
            description: "buffer pool back to its configured size",
            script: 'set -euo pipefail\nmariadb -e "SET GLOBAL innodb_buffer_pool_size = $(cat /tmp/drills-pool-size)"\nrm -f /tmp/drills-pool-size\nsleep 3\n',
          },
        ],
      },
      {
        description: "in the app, compare the column as a number explicitly (CAST(sequence_number AS UNSIGNED) = ?)",
        actions: () => [
          {
            id: `${id}-sc-cast`,
            node: "backend",
            description: "cast the column in the query",
            script: [replaceInRoute("where.push('sequence_number = ?')", "where.push('CAST(sequence_number AS UNSIGNED) = ?')", "cast"), ...RESTART_BACKEND].join("\n"),
          },
        ],
        undo: () => [
          {
            id: `${id}-sc-cast-undo`,
            node: "backend",
            description: "undo the cast",
            script: [replaceInRoute("where.push('CAST(sequence_number AS UNSIGNED) = ?')", "where.push('sequence_number = ?')", "cast undo"), ...RESTART_BACKEND].join("\n"),
          },
        ],
      },
    ],
    solution: () => [
      {
        id: `${id}-fix`,
        node: "backend",
        description: "read the sequence filter as text again, restart the backend",
        script: [replaceInRoute(RELEASE_PARSE, HEALTHY_PARSE, "fix"), ...RESTART_BACKEND].join("\n"),
      },
    ],
    story: {
      artifacts: [
        `${DEPLOY_LOG} on the backend: this morning's release (BILL-402, the sequence filter validated like page and pageSize), the migration runner and the restart`,
        `${ROUTE}: the release's code (the filter parsed with intIn), its file time the deploy's`,
        "MariaDB's slow log on the datastore: the lookup's statement with the sequence number as a bare numeric literal, reading about every row",
        `${BACKEND_LOG}: a slow request for the lookup by sequence number, with its duration and request id`,
      ],
      verify: async (ctx) => {
        const missing: string[] = [];
        if ((await ctx.exec("backend", `grep -q 'BILL-402' ${DEPLOY_LOG} && grep -Eq 'INFO deploy [0-9.]+: done' ${DEPLOY_LOG}`)).code !== 0) missing.push(`${DEPLOY_LOG}: the release`);
        if ((await ctx.exec("backend", `grep -q "intIn('sequence'" ${ROUTE}`)).code !== 0) missing.push(`${ROUTE}: the release's code`);
        if ((await ctx.exec("datastore", "grep -Eqs 'sequence_number = [0-9]+ ' /var/log/mysql/mariadb-slow.log")).code !== 0) missing.push("slow lookup statements in MariaDB's slow log");
        if ((await ctx.exec("backend", `grep -Eqs 'WARN slow request GET /api/invoices\\?.*sequence=[0-9]+.*ms \\(request [A-Za-z0-9]+\\)' ${BACKEND_LOG}`)).code !== 0) {
          missing.push("slow lookup requests in the backend's log");
        }
        return missing;
      },
    },
    symptomPaths: ["api/invoices?page=1&pageSize=20&sort=issued_at&order=desc&sequence="],
  };
}
