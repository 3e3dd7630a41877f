import { Engine, LevelPlan } from "../plan/types";
import { intParam, stringParam } from "./params";
import { adminSql } from "./scripts";
import { CheckContext, CheckResult, Fault } from "./types";

export interface MissingIndexParams {
  /** The index the invoice search needs (app/db/<engine>/migrations/001_init.sql). */
  index?: string;
  /** A search page slower than this (median over random customers) counts as the symptom. */
  slowMs?: number;
  /** A search page must be faster than this (median over random customers) to count as fixed. */
  fastMs?: number;
}

/** The seed spreads invoices over customer-00001 .. customer-10000 (app/db/<engine>/seed.sql). */
export const SEED_CUSTOMERS = 10_000;

/** A customer picked at random, as users pick them: every run measures other rows. */
export function randomCustomer(): string {
  return `customer-${String(1 + Math.floor(Math.random() * SEED_CUSTOMERS)).padStart(5, "0")}`;
}

/** The search page the front end requests for a customer. */
export const searchPath = (customer: string): string =>
  `api/invoices?customer=${customer}&page=1&pageSize=20&sort=issued_at&order=desc`;

/**
 * The SQL the backend runs for that page (app/backend/routes/invoices.js,
 * listQueries; tests/unit/appSql.test.ts holds the two to each other), `?`
 * placeholders, the customer as the only parameter besides LIMIT/OFFSET.
 */
export const SEARCH_SQL = {
  page: "SELECT id, number, customer, amount_cents, status, issued_at FROM invoices WHERE customer = ? ORDER BY issued_at DESC, id DESC LIMIT ? OFFSET ?",
  count: "SELECT COUNT(*) AS total FROM invoices WHERE customer = ?",
  summary: "SELECT status, COUNT(*) AS n, SUM(amount_cents) AS amount_cents FROM invoices WHERE customer = ? GROUP BY status",
} as const;

const toPg = (sql: string): string => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

export interface SearchSample {
  /** Median over the customers, ms (the slowest request stands for a failed one). */
  ms: number;
  /** 200 when every request answered 200, else the first other status (0: no answer). */
  status: number;
  customers: string[];
  error?: string;
}

/** Median latency of the customer search page through the proxy, each run for another random customer. */
export async function searchLatency(ctx: CheckContext, runs = 5): Promise<SearchSample> {
  const times: number[] = [];
  const customers: string[] = [];
  for (let i = 0; i < runs; i++) {
    const customer = randomCustomer();
    customers.push(customer);
    const r = await ctx.http(`${ctx.plan.appUrl}${searchPath(customer)}`, { timeoutMs: 30_000 });
    if (r.status !== 200) return { ms: Math.round(r.ms), status: r.status, customers, error: r.error ?? r.text.slice(0, 200) };
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  return { ms: Math.round(times[Math.floor(times.length / 2)]), status: 200, customers };
}

/** Indexes on invoices whose first column is customer: what a customer search can seek. */
async function customerIndexes(ctx: CheckContext): Promise<string[]> {
  const rows =
    ctx.plan.engine === "postgres"
      ? await ctx.sql(
          "SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid " +
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] " +
            "WHERE i.indrelid = 'invoices'::regclass AND a.attname = 'customer' AND i.indisvalid",
        )
      : await ctx.sql(
          "SELECT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() " +
            "AND TABLE_NAME = 'invoices' AND SEQ_IN_INDEX = 1 AND COLUMN_NAME = 'customer'",
        );
  return rows.map((r) => String(r.name));
}

/** Index names a PostgreSQL JSON plan seeks with a condition on customer. */
function pgCustomerSeeks(node: Record<string, unknown>, out: string[] = []): string[] {
  const type = String(node["Node Type"] ?? "");
  if (/^(Index Scan|Index Only Scan|Bitmap Index Scan)$/.test(type) && /\bcustomer\b/.test(String(node["Index Cond"] ?? ""))) {
    out.push(String(node["Index Name"]));
  }
  for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) pgCustomerSeeks(child, out);
  return out;
}

/**
 * EXPLAIN each query the app runs for a customer's search page: which of them
 * still read invoices without seeking an index by customer.
 */
async function unindexedQueries(ctx: CheckContext, customer: string): Promise<{ missing: string[]; plans: Record<string, string> }> {
  const indexes = await customerIndexes(ctx);
  const missing: string[] = [];
  const plans: Record<string, string> = {};
  for (const [name, sql] of Object.entries(SEARCH_SQL)) {
    const params: unknown[] = name === "page" ? [customer, 20, 0] : [customer];
    let seeks: string[];
    if (ctx.plan.engine === "postgres") {
      const rows = await ctx.sql(`EXPLAIN (FORMAT JSON) ${toPg(sql)}`, params);
      const raw = rows[0]["QUERY PLAN"];
      const doc = (typeof raw === "string" ? JSON.parse(raw) : raw) as Array<{ Plan: Record<string, unknown> }>;
      seeks = pgCustomerSeeks(doc[0].Plan);
      plans[name] = JSON.stringify(doc[0].Plan).slice(0, 400);
    } else {
      const rows = await ctx.sql(`EXPLAIN ${sql}`, params);
      seeks = rows.filter((r) => r.table === "invoices" && (r.type === "ref" || r.type === "range")).map((r) => String(r.key));
      plans[name] = JSON.stringify(rows).slice(0, 400);
    }
    if (!seeks.some((s) => indexes.includes(s))) missing.push(name);
  }
  return { missing, plans };
}

/** Bash: "last night" at HH:MM:SS as epoch seconds in $E0 (today if that is over an hour ago, else yesterday). */
const LAST_NIGHT = [
  'E0=$(date -d "$(date +%F) 02:10:03" +%s)',
  'if [ $(( $(date +%s) - E0 )) -lt 3600 ]; then E0=$(date -d "$(date -d yesterday +%F) 02:10:03" +%s); fi',
  'at() { date -d "@$((E0 + $1))" "+%F %T"; }',
].join("\n");

/** Where the nightly maintenance job lives and logs on the datastore. */
const JOB = "/usr/local/sbin/db-nightly-maintenance";
const JOB_LOG_DIR = (engine: Engine) => (engine === "postgres" ? "/var/log/postgresql" : "/var/log/mysql");

/** The job as the ops team wrote it: drop, then recreate; a failure is logged and the run goes on. */
function jobScript(engine: Engine, index: string): string {
  // [client, "print one value" flag, "run a statement" flag]
  const [client, valueFlag, runFlag] =
    engine === "postgres"
      ? ["runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d drills", "-Atc", "-c"]
      : ["mariadb --batch drills", "-N -e", "-e"];
  const [defSql, dropSql, createPrefix, vacuum] =
    engine === "postgres"
      ? [
          `SELECT pg_get_indexdef('$idx'::regclass)`,
          `DROP INDEX $idx`,
          `SET lock_timeout = '60s'; `,
          "VACUUM ANALYZE",
        ]
      : [
          `SELECT CONCAT('CREATE INDEX ', INDEX_NAME, ' ON invoices (', GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX), ')') FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = '$idx' GROUP BY INDEX_NAME`,
          `DROP INDEX $idx ON invoices`,
          `SET SESSION lock_wait_timeout = 60; `,
          "ANALYZE TABLE invoices",
        ];
  return `#!/bin/bash
# Nightly database maintenance, run by the ops scheduler (job
# "db-nightly-maintenance", window 02:00-02:30): rebuild the indexes the weekly
# bloat report lists, then refresh the planner statistics.
# Log: ${JOB_LOG_DIR(engine)}/maintenance-YYYY-MM-DD.log
set -u
LOG=${JOB_LOG_DIR(engine)}/maintenance-$(date +%F).log
INDEXES="${index}"   # weekly bloat report, ticket OPS-1182
db() { ${client} "$@"; }
say() { echo "$(date '+%F %T') $*" >>"$LOG"; }
errors=0
say "db-nightly-maintenance: start (rebuild: $INDEXES)"
for idx in $INDEXES; do
  def=$(db ${valueFlag} "${defSql}" 2>/dev/null)
  if [ -z "$def" ]; then say "  $idx: not found, skipped"; continue; fi
  say "  rebuild $idx: $def"
  # Drop and create instead of a rebuild in place: faster on a quiet night.
  db ${runFlag} "${dropSql}" >>"$LOG" 2>&1 || { errors=$((errors + 1)); continue; }
  if ! db ${runFlag} "${createPrefix}$def" >>"$LOG" 2>&1; then
    say "  rebuild of $idx failed; continuing"
    errors=$((errors + 1))
  fi
done
say "  ${vacuum}"
db ${runFlag} "${vacuum}" >/dev/null 2>>"$LOG" || errors=$((errors + 1))
say "db-nightly-maintenance: done, $errors error(s)"
`;
}

/** What last night's run of the job left in its log (the drop went through, the create waited for a lock and gave up). */
function jobLogScript(engine: Engine, index: string): string {
  const def =
    engine === "postgres"
      ? `CREATE INDEX ${index} ON public.invoices USING btree (customer)`
      : `CREATE INDEX ${index} ON invoices (customer)`;
  const lockError =
    engine === "postgres"
      ? "ERROR:  canceling statement due to lock timeout"
      : "ERROR 1205 (HY000) at line 1: Lock wait timeout exceeded; try restarting transaction";
  const vacuum = engine === "postgres" ? "VACUUM ANALYZE" : "ANALYZE TABLE invoices";
  const dir = JOB_LOG_DIR(engine);
  const owner = engine === "postgres" ? "postgres:adm" : "mysql:adm";
  return [
    "set -euo pipefail",
    LAST_NIGHT,
    `log="${dir}/maintenance-$(date -d "@$E0" +%F).log"`,
    "{",
    `  echo "$(at 0) db-nightly-maintenance: start (rebuild: ${index})"`,
    `  echo "$(at 1)   rebuild ${index}: ${def}"`,
    // psql's own error line, as the job appends it: no timestamp.
    `  echo "${lockError}"`,
    `  echo "$(at 62)   rebuild of ${index} failed; continuing"`,
    `  echo "$(at 62)   ${vacuum}"`,
    `  echo "$(at 588) db-nightly-maintenance: done, 1 error(s)"`,
    '} >"$log"',
    `chown ${owner} "$log"; chmod 0640 "$log"`,
    'touch -d "@$((E0 + 588))" "$log"',
  ].join("\n");
}

/**
 * A user searched this morning: one real search through the proxy leaves its
 * time in every log (one, not several: each costs the level seconds of setup).
 */
const morningSearch = (): string =>
  [
    "set -uo pipefail",
    "# The customer is picked at run time (the plan, and so this script, stays the same).",
    `c=$(printf 'customer-%05d' $(( RANDOM % ${SEED_CUSTOMERS} + 1 )))`,
    `curl -s -o /dev/null -m 60 "http://127.0.0.1/${searchPath("$c")}" || true`,
  ].join("\n");

/** A line in a node's file matching a pattern (grep -E). */
async function hasLine(ctx: CheckContext, role: "datastore" | "backend" | "proxy", file: string, pattern: string): Promise<boolean> {
  const r = await ctx.exec(role, `grep -Eqs -- '${pattern}' ${file}`);
  return r.code === 0;
}

/** The invoice search lost its index in last night's maintenance: seconds instead of milliseconds. */
export function missingIndex(params: MissingIndexParams = {}): Fault {
  const id = "missing-index";
  const index = stringParam(id, "index", params.index, "idx_invoices_customer", /^[a-z_][a-z0-9_]{0,62}$/, "an SQL identifier");
  const slowMs = intParam(id, "slowMs", params.slowMs, 1000, 100, 60_000);
  const fastMs = intParam(id, "fastMs", params.fastMs, 200, 10, 10_000);
  const dropSql = (plan: LevelPlan) =>
    plan.engine === "postgres" ? `DROP INDEX IF EXISTS ${index};` : `DROP INDEX IF EXISTS ${index} ON invoices;`;
  return {
    id,
    description: `Last night's maintenance job dropped ${index} and failed to recreate it, so the customer search scans the whole table.`,
    spoilers: ["index", "explain", "seq scan", "full scan"],
    bounds: [`Drops one index (${index}) in the level's own datastore; no data is changed. Adds the job's script and log on the datastore.`],
    actions: (plan) => [
      { id: `${id}-drop`, node: "datastore", description: `drop ${index}`, script: adminSql(plan.engine, dropSql(plan)) },
      {
        id: `${id}-job`,
        node: "datastore",
        description: "install the nightly maintenance job and last night's log",
        script: [
          "set -euo pipefail",
          `cat >${JOB} <<'DRILLS_JOB'\n${jobScript(plan.engine, index)}DRILLS_JOB`,
          `chmod 0755 ${JOB}`,
          LAST_NIGHT,
          `touch -d "@$((E0 - 86400 * 9))" ${JOB}`,
          jobLogScript(plan.engine, index),
        ].join("\n"),
      },
      { id: `${id}-searches`, node: "proxy", description: "a customer search, as users made this morning", script: morningSearch() },
    ],
    probe: async (ctx) => {
      const r = await searchLatency(ctx);
      return {
        present: r.status === 200 && r.ms >= slowMs,
        summary:
          r.status === 200
            ? `customer search: median ${r.ms} ms over ${r.customers.length} random customers (slow from ${slowMs} ms)`
            : `customer search failed: ${r.error ?? r.status}`,
        figures: { searchMs: r.ms, status: r.status, customers: r.customers.length },
      };
    },
    check: async (ctx): Promise<CheckResult> => {
      const reasons: string[] = [];
      const customer = randomCustomer();
      const q = await unindexedQueries(ctx, customer);
      if (q.missing.length) {
        reasons.push(
          `For ${customer} the search page's queries (${q.missing.join(", ")}) still read the whole invoices table: ` +
            "their plans seek no index by customer.",
        );
      }
      const r = await searchLatency(ctx);
      if (r.status !== 200) reasons.push(`The customer search failed (${r.error ?? r.status}).`);
      else if (r.ms > fastMs) reasons.push(`The customer search takes ${r.ms} ms (median over random customers) through the proxy; it must take under ${fastMs} ms.`);
      return { ok: reasons.length === 0, reasons, figures: { searchMs: r.ms, status: r.status, unindexedQueries: q.missing.length } };
    },
    shortcuts: [
      {
        description: "An index only for the customer the hints use as an example (customer-00042): other customers still scan.",
        actions: (plan) => [
          {
            id: `${id}-shortcut-one-customer`,
            node: "datastore",
            description: "index one customer",
            script: adminSql(
              plan.engine,
              plan.engine === "postgres"
                ? "CREATE INDEX shortcut_one_customer ON invoices (customer) WHERE customer = 'customer-00042';\nANALYZE invoices;"
                : // MariaDB has no partial index: the closest hurried variant indexes a prefix every customer shares.
                  "CREATE INDEX shortcut_one_customer ON invoices (customer(8));\nANALYZE TABLE invoices;",
            ),
          },
        ],
        undo: (plan) => [
          {
            id: `${id}-undo-one-customer`,
            node: "datastore",
            description: "drop it",
            script: adminSql(plan.engine, plan.engine === "postgres" ? "DROP INDEX shortcut_one_customer;" : "DROP INDEX shortcut_one_customer ON invoices;"),
          },
        ],
      },
      {
        description: "An index led by another column, (status, customer): the search cannot seek it by customer.",
        actions: (plan) => [
          {
            id: `${id}-shortcut-wrong-lead`,
            node: "datastore",
            description: "index (status, customer)",
            script: adminSql(
              plan.engine,
              `CREATE INDEX shortcut_status_customer ON invoices (status, customer);\n${plan.engine === "postgres" ? "ANALYZE invoices;" : "ANALYZE TABLE invoices;"}`,
            ),
          },
        ],
        undo: (plan) => [
          {
            id: `${id}-undo-wrong-lead`,
            node: "datastore",
            description: "drop it",
            script: adminSql(plan.engine, plan.engine === "postgres" ? "DROP INDEX shortcut_status_customer;" : "DROP INDEX shortcut_status_customer ON invoices;"),
          },
        ],
      },
    ],
    solution: (plan) => [
      {
        id: `${id}-create`,
        node: "datastore",
        description: `recreate ${index}`,
        script: adminSql(
          plan.engine,
          plan.engine === "postgres"
            ? `CREATE INDEX IF NOT EXISTS ${index} ON invoices (customer);\nANALYZE invoices;`
            : `CREATE INDEX ${index} ON invoices (customer);\nANALYZE TABLE invoices;`,
        ),
      },
    ],
    story: {
      artifacts: [
        `${JOB}: the nightly maintenance job (drops, then recreates the indexes of the bloat report; goes on after an error)`,
        "maintenance-<last night>.log next to the datastore's log: the recreate gave up on a lock timeout, backdated to 02:10",
        "the datastore's own log: the morning's customer search as a slow statement with its duration",
        "the backend's log: a slow request for the customer search, with its duration and request id",
      ],
      verify: async (ctx) => {
        const missing: string[] = [];
        const dir = JOB_LOG_DIR(ctx.plan.engine);
        if ((await ctx.exec("datastore", `test -x ${JOB} && grep -q 'INDEXES="${index}"' ${JOB}`)).code !== 0) missing.push(`${JOB} (the job)`);
        // The log names the index and the failure, and was last written at least 10 minutes ago (last night).
        const log = await ctx.exec(
          "datastore",
          `f=$(ls -1 ${dir}/maintenance-*.log 2>/dev/null | tail -n1); [ -n "$f" ] || exit 1; ` +
            `grep -q 'rebuild of ${index} failed' "$f" && grep -q 'ERROR' "$f" && [ $(( $(date +%s) - $(stat -c %Y "$f") )) -ge 600 ]`,
        );
        if (log.code !== 0) missing.push(`${dir}/maintenance-<date>.log from last night`);
        const slowStatement =
          ctx.plan.engine === "postgres"
            ? await hasLine(ctx, "datastore", "/var/log/postgresql/postgresql.log", "duration: [0-9.]+ ms .*customer = ")
            : await hasLine(ctx, "datastore", "/var/log/mysql/mariadb-slow.log", "customer = ");
        if (!slowStatement) missing.push("slow customer-search statements in the datastore's log");
        if (!(await hasLine(ctx, "backend", "/var/log/drills/backend.log", "WARN slow request GET /api/invoices\\?customer=.*ms \\(request [A-Za-z0-9]+\\)"))) {
          missing.push("slow customer-search requests in the backend's log");
        }
        return missing;
      },
    },
    symptomPaths: ["api/invoices?customer="],
  };
}
