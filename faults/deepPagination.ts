import * as fs from "fs";
import * as path from "path";
import { LevelPlan } from "../plan/types";
import { intParam } from "./params";
import { adminSql, RESTART_BACKEND } from "./scripts";
import { CheckContext, CheckResult, Fault } from "./types";

export interface DeepPaginationParams {
  /** A deep page slower than this (median) counts as the symptom. */
  slowMs?: number;
  /** Page 1 and a deep page must each answer under this (median) to count as fixed. */
  fastMs?: number;
}

type ListQueries = (f: Record<string, unknown>) => { page: { sql: string; params: unknown[] } };
/** The backend's route module, found above this file (sources or dist/). */
function routeFile(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const f = path.join(dir, "app", "backend", "routes", "invoices.js");
    if (fs.existsSync(f)) return f;
    if (path.dirname(dir) === dir) throw new Error("drills: cannot find app/backend/routes/invoices.js");
  }
}
/** The backend's own SQL builder (plain CommonJS, pure): the check EXPLAINs exactly what the app runs. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const appQueries = (): ListQueries => (require(routeFile()) as { listQueries: ListQueries }).listQueries;

const INDEX = "idx_invoices_amount_cents";
const MIGRATION = "004_drop_unused_indexes";
const MIGRATIONS_DIR = "/opt/drills/migrations/postgres";
const DEPLOY_LOG = "/var/log/drills/deploy.log";
const BACKEND_LOG = "/var/log/drills/backend.log";
const ENV_FILE = "/etc/drills/backend.env";
const FLAG = "INVOICE_CURSOR_PAGING";
const PAGE_SIZE = 20;

/** The release's migration, as the DBA wrote it from a week of index statistics. */
const MIGRATION_SQL = `-- ${MIGRATION}: drop indexes nothing reads (DBA-227).
-- pg_stat_user_indexes since the stats reset of the 15.8 upgrade:
--   idx_invoices_amount_cents  idx_scan = 0  (about 110 MB)
-- Every write to invoices pays for it; the nightly import got 9 % faster on
-- staging without it.
DROP INDEX IF EXISTS ${INDEX};
`;

/** The list page the front end requests: page 1, or Next from page n-1 (page number plus the last row's cursor). */
export const listPath = (page: number, after?: string): string =>
  `api/invoices?page=${page}&pageSize=${PAGE_SIZE}&sort=amount_cents&order=desc${after ? `&after=${encodeURIComponent(after)}` : ""}`;

/** A random row of the table as a Next cursor "<amount_cents>,<id>" (by primary key: cheap on any state). */
async function randomCursor(ctx: CheckContext): Promise<{ amount: number; id: number }> {
  const [{ maxid }] = await ctx.sql("SELECT max(id) AS maxid FROM invoices");
  for (;;) {
    const id = 1 + Math.floor(Math.random() * Number(maxid));
    const rows = await ctx.sql("SELECT amount_cents FROM invoices WHERE id = $1", [id]);
    if (rows.length) return { amount: Number(rows[0].amount_cents), id };
  }
}

/** A deep page number, as users reach them (finance's month-end review sits around page 20 000). */
const deepPage = (): number => 15_000 + Math.floor(Math.random() * 10_000);

interface Sample {
  page1Ms: number;
  deepMs: number;
  status: number;
  /** Deep pages whose rows are not the ones right after the cursor sent. */
  wrong: string[];
  error?: string;
}

const median = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

/** Page 1 and Next from random deep positions, through the proxy; optionally each deep page's rows checked. */
async function sample(ctx: CheckContext, runs: number, verify: boolean): Promise<Sample> {
  const first: number[] = [];
  const deep: number[] = [];
  const wrong: string[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await ctx.http(`${ctx.plan.appUrl}${listPath(1)}`, { timeoutMs: 60_000 });
    if (r.status !== 200) return { page1Ms: Math.round(r.ms), deepMs: NaN, status: r.status, wrong, error: r.error ?? r.text.slice(0, 200) };
    first.push(r.ms);
  }
  for (let i = 0; i < runs; i++) {
    const c = await randomCursor(ctx);
    const cursor = `${c.amount},${c.id}`;
    const page = deepPage();
    const r = await ctx.http(`${ctx.plan.appUrl}${listPath(page, cursor)}`, { timeoutMs: 60_000 });
    if (r.status !== 200) return { page1Ms: median(first), deepMs: Math.round(r.ms), status: r.status, wrong, error: r.error ?? r.text.slice(0, 200) };
    deep.push(r.ms);
    if (verify) {
      const truth = await ctx.sql(
        `SELECT id FROM invoices WHERE amount_cents <= $1 AND (amount_cents, id) < ($1, $2) ORDER BY amount_cents DESC, id DESC LIMIT ${PAGE_SIZE}`,
        [c.amount, c.id],
      );
      let got: number[] = [];
      try {
        got = (JSON.parse(r.text) as { items: Array<{ id: number }> }).items.map((x) => Number(x.id));
      } catch {
        // not JSON: counts as wrong
      }
      if (got.join(",") !== truth.map((t) => Number(t.id)).join(",")) wrong.push(`page ${page} after ${cursor}`);
    }
  }
  return { page1Ms: median(first), deepMs: median(deep), status: 200, wrong };
}

/** Plan nodes of a PostgreSQL JSON plan that read or sort the whole table. */
function wholeTable(node: Record<string, unknown>, out: string[] = []): string[] {
  const type = String(node["Node Type"] ?? "");
  if (type === "Seq Scan" || type === "Sort") out.push(type === "Sort" ? `Sort (${String(node["Sort Key"] ?? "")})` : `Seq Scan on ${String(node["Relation Name"])}`);
  for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) wholeTable(child, out);
  return out;
}

/** EXPLAIN the app's own SQL for page 1 and for Next from a random row: what still reads or sorts the whole table. */
async function planProblems(ctx: CheckContext): Promise<string[]> {
  const c = await randomCursor(ctx);
  const queries = {
    "page 1": appQueries()({ sort: "amount_cents", order: "desc", page: 1, pageSize: PAGE_SIZE }).page,
    [`Next after ${c.amount},${c.id}`]: appQueries()({ sort: "amount_cents", order: "desc", page: 2, pageSize: PAGE_SIZE, after: { value: c.amount, id: c.id } }).page,
  };
  const out: string[] = [];
  for (const [name, q] of Object.entries(queries)) {
    let i = 0;
    const rows = await ctx.sql(`EXPLAIN (FORMAT JSON) ${q.sql.replace(/\?/g, () => `$${++i}`)}`, q.params);
    const raw = rows[0]["QUERY PLAN"];
    const doc = (typeof raw === "string" ? JSON.parse(raw) : raw) as Array<{ Plan: Record<string, unknown> }>;
    const bad = wholeTable(doc[0].Plan);
    if (bad.length) out.push(`${name}: ${bad.join(", ")}`);
  }
  return out;
}

/** Bash: insert lines of an earlier release at the top of the deploy log, dated days ago. */
const EARLIER_RELEASE = [
  "set -euo pipefail",
  `touch ${DEPLOY_LOG}`,
  "E=$(( $(date +%s) - 86400 * 15 + 3600 ))",
  "R=$(date -u -d @$E +%Y.%m.%d).1",
  "ts() { date -u -d @$((E + $1)) +%Y-%m-%dT%H:%M:%S.000Z; }",
  "{",
  `  echo "$(ts 0) INFO deploy $R: pipeline: shipped backend/routes/invoices.js, frontend/app.js (BILL-311: the pager sends the last row as after=<value>,<id>; the API pages from it when ${FLAG}=on in ${ENV_FILE}, off until finance signs off)"`,
  '  echo "$(ts 0) INFO deploy $R: starting"',
  '  echo "$(ts 1) INFO deploy $R: migrations done"',
  '  echo "$(ts 1) INFO deploy $R: restarting the backend"',
  '  echo "$(ts 3) INFO deploy $R: backend healthy after 1.6s"',
  '  echo "$(ts 3) INFO deploy $R: done"',
  `  cat ${DEPLOY_LOG}`,
  `} >${DEPLOY_LOG}.new`,
  `chown app:app ${DEPLOY_LOG}.new && mv ${DEPLOY_LOG}.new ${DEPLOY_LOG}`,
].join("\n");

/** Bash: set or remove the flag in the backend's env file, then restart the backend. */
const flagScript = (on: boolean): string =>
  [
    "set -euo pipefail",
    `sed -i '/^${FLAG}=/d' ${ENV_FILE}`,
    ...(on ? [`echo '${FLAG}=on' >>${ENV_FILE}`] : []),
    ...RESTART_BACKEND,
  ].join("\n");

const createIndex = (name: string, def: string) => adminSql("postgres", `CREATE INDEX ${name} ON invoices ${def};\nANALYZE invoices;`);
const dropIndex = (name: string) => adminSql("postgres", `DROP INDEX IF EXISTS ${name};`);

/**
 * A release dropped the "unused" index on the amount sort (its statistics
 * were reset a week before), so the invoice list sorted by amount sorts the
 * whole table for every page; and the list pages by OFFSET (the cursor paging
 * shipped weeks ago stays behind its flag), so a deep page reads and throws
 * away every row before it even with the index back.
 */
export function deepPagination(params: DeepPaginationParams = {}): Fault {
  const id = "deep-pagination";
  const slowMs = intParam(id, "slowMs", params.slowMs, 1500, 100, 60_000);
  const fastMs = intParam(id, "fastMs", params.fastMs, 150, 10, 10_000);
  return {
    id,
    description:
      `A release's migration dropped ${INDEX} as unused; the amount-sorted list sorts the whole invoices table per page and pages by OFFSET (cursor paging is shipped but off), so deep pages take a second or more.`,
    spoilers: ["index", "offset", "keyset", "cursor", "explain", "seq scan", "sort key", "unused"],
    bounds: [
      `Drops one index (${INDEX}) in the level's own datastore through a migration file on the backend; no data is changed.`,
      "Adds an earlier release's lines to the backend's deploy log.",
    ],
    actions: (_plan: LevelPlan) => [
      { id: `${id}-history`, node: "backend", description: "the deploy log's earlier release", script: EARLIER_RELEASE },
      {
        id: `${id}-release`,
        node: "backend",
        description: "ship the release's migration and run the deploy hook",
        script: [
          "set -euo pipefail",
          `install -o app -g app -m 0644 /dev/stdin ${MIGRATIONS_DIR}/${MIGRATION}.sql <<'DRILLS_MIGRATION'`,
          MIGRATION_SQL + "DRILLS_MIGRATION",
          'REL="$(date -u +%Y.%m.%d).1"',
          `printf '%s INFO deploy %s: pipeline: shipped migrations/postgres/${MIGRATION}.sql (DBA-227)\\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$REL" >>${DEPLOY_LOG}`,
          'drills-deploy "$REL" >/dev/null',
          // The runner is quick here (one DROP); wait for it so the level starts broken.
          "for _ in $(seq 1 100); do grep -q 'migrations done' " + DEPLOY_LOG + " && break; sleep 0.2; done",
        ].join("\n"),
      },
      {
        id: `${id}-review`,
        node: "proxy",
        description: "finance's month-end review: the amount list, opened deep",
        // One deep page, not several: each sorts the whole table, seconds of setup.
        script: [
          "set -uo pipefail",
          "p=$(( RANDOM % 10000 + 15000 ))",
          `curl -s -o /dev/null -m 60 "http://127.0.0.1/api/invoices?page=$p&pageSize=${PAGE_SIZE}&sort=amount_cents&order=desc" || true`,
        ].join("\n"),
      },
    ],
    probe: async (ctx) => {
      const s = await sample(ctx, 3, false);
      return {
        present: s.status === 200 && s.deepMs >= slowMs,
        summary:
          s.status === 200
            ? `amount-sorted list: page 1 median ${s.page1Ms} ms, Next from page 15 000-25 000 median ${s.deepMs} ms (slow from ${slowMs} ms)`
            : `amount-sorted list failed: ${s.error ?? s.status}`,
        figures: { page1Ms: s.page1Ms, deepMs: s.deepMs, status: s.status },
      };
    },
    check: async (ctx): Promise<CheckResult> => {
      const reasons: string[] = [];
      const plans = await planProblems(ctx);
      for (const p of plans) reasons.push(`The app's query for ${p.split(":")[0]} still reads or sorts the whole invoices table (${p.slice(p.indexOf(":") + 2)}).`);
      const s = await sample(ctx, 5, plans.length === 0);
      if (s.status !== 200) reasons.push(`The amount-sorted invoice list failed (${s.error ?? s.status}).`);
      else {
        if (s.page1Ms > fastMs) reasons.push(`Page 1 of the amount-sorted list takes ${s.page1Ms} ms (median); it must take under ${fastMs} ms.`);
        if (s.deepMs > fastMs) reasons.push(`Next from a deep page (15 000-25 000) takes ${s.deepMs} ms (median); it must take under ${fastMs} ms however deep.`);
        if (s.wrong.length) {
          reasons.push(
            `Next from a deep page did not show the rows right after the last one shown (${s.wrong.slice(0, 2).join("; ")}): ` +
              "the API counted its way to the page number instead of starting after that row.",
          );
        }
      }
      return { ok: reasons.length === 0, reasons, figures: { page1Ms: s.page1Ms, deepMs: s.deepMs, status: s.status, wrongPages: s.wrong.length, planProblems: plans.length } };
    },
    shortcuts: [
      {
        description: "recreate the index only (the list still pages by OFFSET)",
        actions: () => [{ id: `${id}-sc-index`, node: "datastore", description: "index back", script: createIndex(INDEX, "(amount_cents)") }],
        undo: () => [{ id: `${id}-sc-index-undo`, node: "datastore", description: "drop it", script: dropIndex(INDEX) }],
      },
      {
        description: "refuse deep page numbers in the proxy (page >= 1000 answers 400)",
        actions: () => [
          {
            id: `${id}-sc-cap`,
            node: "proxy",
            description: "cap the page number",
            script: [
              "set -euo pipefail",
              "f=/etc/nginx/sites-available/drills",
              `sed -i 's|^\\(\\s*location /api/ {\\)$|\\1\\n        if ($arg_page ~ "^[0-9]{4,}$") { return 400; }|' "$f"`,
              'grep -q "arg_page" "$f"',
              "nginx -t -q && nginx -s reload && sleep 1",
            ].join("\n"),
          },
        ],
        undo: () => [
          {
            id: `${id}-sc-cap-undo`,
            node: "proxy",
            description: "remove the cap",
            script: ["set -euo pipefail", "sed -i '/arg_page/d' /etc/nginx/sites-available/drills", "nginx -t -q && nginx -s reload && sleep 1"].join("\n"),
          },
        ],
      },
      {
        description: "flag on, with an index on the wrong columns (id, amount_cents)",
        actions: () => [
          { id: `${id}-sc-wrong`, node: "datastore", description: "wrong index", script: createIndex("idx_invoices_id_amount", "(id, amount_cents)") },
          { id: `${id}-sc-wrong-flag`, node: "backend", description: "flag on", script: flagScript(true) },
        ],
        undo: () => [
          { id: `${id}-sc-wrong-undo`, node: "datastore", description: "drop it", script: dropIndex("idx_invoices_id_amount") },
          { id: `${id}-sc-wrong-flag-undo`, node: "backend", description: "flag off", script: flagScript(false) },
        ],
      },
      {
        description: "flag on, with a partial index for the first pages only (amount_cents >= 90000)",
        actions: () => [
          { id: `${id}-sc-partial`, node: "datastore", description: "partial index", script: createIndex("idx_invoices_amount_top", "(amount_cents) WHERE amount_cents >= 90000") },
          { id: `${id}-sc-partial-flag`, node: "backend", description: "flag on", script: flagScript(true) },
        ],
        undo: () => [
          { id: `${id}-sc-partial-undo`, node: "datastore", description: "drop it", script: dropIndex("idx_invoices_amount_top") },
          { id: `${id}-sc-partial-flag-undo`, node: "backend", description: "flag off", script: flagScript(false) },
        ],
      },
    ],
    solution: () => [
      { id: `${id}-fix-index`, node: "datastore", description: `recreate ${INDEX}`, script: createIndex(INDEX, "(amount_cents)") },
      { id: `${id}-fix-paging`, node: "backend", description: `page from the last row shown: ${FLAG}=on`, script: flagScript(true) },
    ],
    story: {
      artifacts: [
        `${MIGRATIONS_DIR}/${MIGRATION}.sql on the backend: the release's migration (drops ${INDEX}, citing a week of index statistics)`,
        `${DEPLOY_LOG}: the release, and one from two weeks before (BILL-311: the pager's after=<value>,<id>, off behind ${FLAG})`,
        "the datastore's log: the deep page's statement with its duration",
        `${BACKEND_LOG}: a slow request for a deep page of the amount-sorted list`,
      ],
      verify: async (ctx) => {
        const missing: string[] = [];
        if ((await ctx.exec("backend", `grep -q 'DROP INDEX' ${MIGRATIONS_DIR}/${MIGRATION}.sql`)).code !== 0) missing.push(`${MIGRATION}.sql`);
        if ((await ctx.exec("backend", `grep -q 'BILL-311' ${DEPLOY_LOG} && grep -q 'DBA-227' ${DEPLOY_LOG}`)).code !== 0) missing.push(`${DEPLOY_LOG}: the releases`);
        const applied = await ctx.sql("SELECT count(*) AS n FROM schema_migrations WHERE version = $1", [MIGRATION]);
        if (Number(applied[0].n) !== 1) missing.push(`schema_migrations: ${MIGRATION}`);
        if ((await ctx.exec("datastore", "grep -Eqs 'duration: [0-9.]+ ms .*ORDER BY amount_cents DESC' /var/log/postgresql/postgresql.log")).code !== 0) {
          missing.push("slow list statements in the datastore's log");
        }
        if ((await ctx.exec("backend", `grep -Eqs 'WARN slow request GET /api/invoices\\?page=[0-9]+.*sort=amount_cents' ${BACKEND_LOG}`)).code !== 0) {
          missing.push("slow deep-page requests in the backend's log");
        }
        return missing;
      },
    },
    symptomPaths: ["api/invoices?page=1&pageSize=20&sort=amount_cents"],
  };
}
