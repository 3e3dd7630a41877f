import { DrillsError } from "../plan/errors";
import { Role } from "../plan/types";
import { intParam, stringParam } from "./params";
import { adminSql, RESTART_BACKEND, waitFor } from "./scripts";
import { CheckContext, Fault } from "./types";

export interface LockedMigrationParams {
  /** The table the release's migration alters (users: the user list hangs; invoices: the invoice list). */
  table?: string;
  /** The API must answer under this to count as fixed. */
  fastMs?: number;
}

/** application_name of the app's migration runner (app/backend/migrate.js). */
export const RUNNER_SESSION = "drills-migrate";
/** The runner's command line, as ps shows it on the backend. */
export const RUNNER_CMD = "/usr/bin/node /opt/drills/backend/migrate.js";
const MIGRATIONS_DIR = "/opt/drills/migrations/postgres";
const DEPLOY_LOG = "/var/log/drills/deploy.log";
const BACKEND_LOG = "/var/log/drills/backend.log";

/**
 * The release's migration: a new column plus a batched backfill in the same
 * transaction. The backfill's exit test never holds (rows the lookup cannot
 * match stay NULL and are picked again), so it loops, pausing between
 * batches, with the ALTER's exclusive lock held: idle CPU, a table nobody can read.
 */
const MIGRATIONS: Record<"users" | "invoices", { version: string; sql: string; path: string }> = {
  users: {
    version: "003_users_last_seen_at",
    path: "api/users",
    sql: `-- 003_users_last_seen_at: when each user was last active, for the dormant
-- accounts report (accounts idle for a year get a reminder email).
-- Backfill: the user's latest invoice. Batches of 500 with a pause between
-- them, so the app keeps its share of the database while it runs.
ALTER TABLE users ADD COLUMN last_seen_at timestamp;

DO $$
DECLARE
  batch integer;
BEGIN
  LOOP
    UPDATE users u
       SET last_seen_at = (SELECT max(i.issued_at) FROM invoices i WHERE i.customer = u.name)
     WHERE u.id IN (SELECT id FROM users WHERE last_seen_at IS NULL ORDER BY id LIMIT 500);
    GET DIAGNOSTICS batch = ROW_COUNT;
    EXIT WHEN batch = 0;
    PERFORM pg_sleep(1);
  END LOOP;
END
$$;

CREATE INDEX users_last_seen_at_idx ON users (last_seen_at);
`,
  },
  invoices: {
    version: "003_invoices_customer_id",
    path: "api/invoices?pageSize=5",
    sql: `-- 003_invoices_customer_id: link each invoice to its customer's user
-- account, for the "my invoices" page.
-- Backfill: match by name. Batches of 1000 with a pause between them, so the
-- app keeps its share of the database while it runs.
ALTER TABLE invoices ADD COLUMN customer_id integer;

DO $$
DECLARE
  batch integer;
BEGIN
  LOOP
    UPDATE invoices i
       SET customer_id = (SELECT u.id FROM users u WHERE u.name = i.customer)
     WHERE i.id IN (SELECT id FROM invoices WHERE customer_id IS NULL ORDER BY id LIMIT 1000);
    GET DIAGNOSTICS batch = ROW_COUNT;
    EXIT WHEN batch = 0;
    PERFORM pg_sleep(1);
  END LOOP;
END
$$;

CREATE INDEX invoices_customer_id_idx ON invoices (customer_id);
`,
  },
};

const locksOn = (table: string) =>
  `SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation ` +
  `WHERE c.relname = '${table}' AND l.mode = 'AccessExclusiveLock' AND l.granted`;

async function holders(ctx: CheckContext, table: string): Promise<number[]> {
  return (await ctx.sql(locksOn(table))).map((r) => Number(r.pid));
}

/** PIDs of migration runners still alive on the backend. */
async function runners(ctx: CheckContext): Promise<number[]> {
  const r = await ctx.exec("backend", `pgrep -u app -x -f '${RUNNER_CMD}' || true`);
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** The API's error message (JSON `error`), or the start of the body. */
function apiError(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 120);
}

/** CPU busy % of a node over `seconds` (all its processes, against its CPUs), as top would sum it. */
async function cpuBusyPct(ctx: CheckContext, role: Role, seconds = 2): Promise<number> {
  const ticks = "cat /proc/[0-9]*/stat 2>/dev/null | sed 's/.*) //' | awk '{ s += $12 + $13 } END { print s + 0 }'";
  const r = await ctx.exec(role, `a=$(${ticks}); sleep ${seconds}; b=$(${ticks}); echo $((b - a)) $(getconf CLK_TCK) $(nproc)`);
  const [delta, hz, cpus] = r.stdout.trim().split(/\s+/).map(Number);
  if (!(hz > 0 && cpus > 0)) return NaN;
  return Math.round((Math.max(0, delta) / (hz * seconds * cpus)) * 1000) / 10;
}

/**
 * A deploy shipped a migration and ran the app's own migration runner in the
 * background, then restarted the backend. The migration altered a table and
 * then loops in its backfill inside the same transaction: it holds an
 * exclusive lock on the table forever, so every read of it waits until the
 * backend's 30 s query timeout. Terminating the runner's session rolls it back.
 */
export function lockedMigration(params: LockedMigrationParams = {}): Fault {
  const id = "locked-migration";
  const table = stringParam(id, "table", params.table, "users", /^(users|invoices)$/, "users or invoices") as "users" | "invoices";
  const fastMs = intParam(id, "fastMs", params.fastMs, 1000, 50, 10_000);
  const m = MIGRATIONS[table];
  const file = `${MIGRATIONS_DIR}/${m.version}.sql`;
  const otherPaths = ["api/health", table === "users" ? "api/invoices?pageSize=20" : "api/users", "api/uploads"];

  const deployScript = [
    "set -euo pipefail",
    "# The release pipeline: ship the release's new migration, then run the node's deploy hook.",
    `install -m 0644 /dev/stdin ${file} <<'DRILLS_MIGRATION'`,
    m.sql + "DRILLS_MIGRATION",
    'drills-deploy "$(date -u +%Y.%m.%d).2" >/dev/null',
  ].join("\n");
  // Instructor-side guard: the runner, not the restarted backend, must be the one applying it.
  const underWayScript = waitFor(
    `[ "$(runuser -u postgres -- psql -X -Atq -d drills -c "SELECT count(*) FROM pg_stat_activity a JOIN (${locksOn(table)}) l ON l.pid = a.pid WHERE a.application_name = '${RUNNER_SESSION}'")" -ge 1 ]`,
    `the migration runner's session does not hold ${table} (see ${DEPLOY_LOG} on the backend)`,
  );
  const runnerGoneScript = waitFor(
    `! pgrep -u app -x -f '${RUNNER_CMD}' >/dev/null`,
    `the migration runner is still running: $(pgrep -u app -x -f '${RUNNER_CMD}' | tr '\\n' ' ')`,
  );

  return {
    id,
    description:
      `A deploy ships ${m.version}.sql and runs the app's migration runner in the background; its backfill loops ` +
      `inside the migration's transaction, holding an exclusive lock on ${table}. The backend restarted into it.`,
    // "migration" and "deploy" are the story; the held lock and the open transaction are the cause.
    spoilers: ["lock", "pg_", "transaction", "alter table", "uncommitted", "backfill", "blocked", "last_seen_at", "customer_id"],
    bounds: [
      `One session of the level's own datastore holds ${table} in an open transaction; terminating it rolls everything back.`,
      `Adds one file (${file}) and one log (${DEPLOY_LOG}) on the backend; the migration never commits.`,
    ],
    symptomPaths: [m.path.split("?")[0]],
    patch: (plan) => {
      if (plan.engine !== "postgres") {
        throw new DrillsError(`Fault ${id} needs the postgres engine (level ${plan.level} uses ${plan.engine}).`);
      }
      return plan;
    },
    actions: () => [
      { id: `${id}-deploy`, node: "backend", description: `ship ${m.version}.sql and run the deploy hook (runner in the background, backend restart)`, script: deployScript },
      { id: `${id}-under-way`, node: "datastore", description: `make sure the runner's session holds ${table}`, script: underWayScript },
    ],
    probe: async (ctx) => {
      const r = await ctx.http(`${ctx.plan.appUrl}${m.path}`, { timeoutMs: 45_000 });
      const message = r.status === 0 ? (r.error ?? "no answer") : r.status === 200 ? "" : apiError(r.text);
      // The rest of the app, as users feel it: p50 of 5 tries per path.
      const others: Array<{ status: number; p50: number }> = [];
      for (const p of otherPaths) {
        const tries = [];
        for (let i = 0; i < 5; i++) tries.push(await ctx.http(`${ctx.plan.appUrl}${p}`, { timeoutMs: 10_000 }));
        const ms = tries.map((t) => t.ms).sort((a, b) => a - b);
        const failed = tries.find((t) => t.status !== 200);
        others.push({ status: failed ? failed.status : 200, p50: ms[2] });
      }
      const cpu: number[] = [];
      for (const n of ctx.plan.nodes) cpu.push(await cpuBusyPct(ctx, n.role));
      const held = await holders(ctx, table);
      return {
        present: r.status >= 500 && held.length > 0,
        summary: `GET /${m.path}: ${r.status || r.error} after ${(r.ms / 1000).toFixed(1)} s${message ? ` ("${message}")` : ""}; ${held.length} session(s) hold ${table}`,
        figures: {
          symptomStatus: r.status,
          symptomMs: Math.round(r.ms),
          symptomMessage: message,
          // What the front end prints for a failed load (app/frontend/app.js): "Could not load <section>: <API error>".
          pageMessage: message ? `Could not load ${table}: ${message}` : "",
          otherPaths: otherPaths.map((p) => `/${p}`).join(" "),
          otherStatuses: others.map((o) => o.status).join(" "),
          otherP50MaxMs: Math.round(Math.max(...others.map((o) => o.p50))),
          cpuBusyMaxPct: Math.max(...cpu),
          lockHolders: held.length,
        },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const r = await ctx.http(`${ctx.plan.appUrl}${m.path}`, { timeoutMs: 5000 });
      if (r.status !== 200) reasons.push(`GET /${m.path} did not answer (${r.error ?? `status ${r.status}`}).`);
      else if (r.ms > fastMs) reasons.push(`GET /${m.path} took ${Math.round(r.ms)} ms; it must answer under ${fastMs} ms.`);
      const held = await holders(ctx, table);
      if (held.length > 0) reasons.push(`A database session (pid ${held.join(", ")}) still holds an exclusive lock on ${table}.`);
      const left = await runners(ctx);
      if (left.length > 0) reasons.push(`The deploy's migration runner is still running on the backend (pid ${left.join(", ")}).`);
      return {
        ok: reasons.length === 0,
        reasons,
        figures: { apiMs: Math.round(r.ms), lockHolders: held.length, runners: left.length },
      };
    },
    shortcuts: [
      {
        description: "Restart the backend's app: the deploy's runner is a separate process, its session keeps the lock.",
        actions: () => [{ id: `${id}-shortcut-restart`, node: "backend", description: "restart the backend program", script: ["set -euo pipefail", ...RESTART_BACKEND].join("\n") }],
      },
      {
        description: "Kill the migration runner on the backend (kill -9): its database session lives on and still holds the lock.",
        actions: () => [
          {
            id: `${id}-shortcut-kill-runner`,
            node: "backend",
            description: "SIGKILL the runner",
            script: `set -euo pipefail\npkill -KILL -u app -x -f '${RUNNER_CMD}'\n${runnerGoneScript}`,
          },
        ],
      },
    ],
    solution: (plan) => [
      {
        id: `${id}-terminate`,
        node: "datastore",
        description: `terminate the runner's session holding ${table} (its transaction rolls back)`,
        script: adminSql(plan.engine, `SELECT pg_terminate_backend(pid) FROM (${locksOn(table)}) x;`),
      },
      { id: `${id}-runner-exits`, node: "backend", description: "wait until the migration runner has logged the failure and exited", script: runnerGoneScript },
    ],
    story: {
      artifacts: [
        `backend: ${file}, shipped by the deploy (ALTER TABLE ${table} + a batched backfill)`,
        `backend: ${DEPLOY_LOG}: the deploy started the runner in the background, restarted the backend, "done"; the runner logged "migration ${m.version}: applying" and nothing after`,
        `backend: the runner process \`${RUNNER_CMD}\` (user app, parent PID 1), started at the deploy`,
        `backend: ${BACKEND_LOG}: restarted by the deploy, "${m.version}" pending while another migration run is in progress`,
        `datastore: the runner's session in pg_stat_activity (application_name ${RUNNER_SESSION}, client address = the backend), active since the deploy, holding ${table}`,
        `datastore: schema_migrations lists the shipped migrations only (${m.version} is not committed)`,
        "no shell pipeline, psql or sleep left on any node",
      ],
      verify: async (ctx) => {
        const missing: string[] = [];
        const fileOk = await ctx.exec("backend", `test -s ${file} && grep -q '^ALTER TABLE ${table} ' ${file}`);
        if (fileOk.code !== 0) missing.push(`${file} on the backend`);

        const deploy = (await ctx.exec("backend", `cat ${DEPLOY_LOG} 2>/dev/null || true`)).stdout;
        const want = [
          /INFO deploy \S+: migration runner started in the background \(pid \d+\)/,
          new RegExp(`INFO migration ${m.version}: applying`),
          /INFO deploy \S+: restarting the backend/,
          /INFO deploy \S+: done/,
        ];
        for (const re of want) if (!re.test(deploy)) missing.push(`${DEPLOY_LOG}: a line matching ${re}`);
        if (new RegExp(`migration ${m.version}: (applied|failed)`).test(deploy)) missing.push(`${DEPLOY_LOG}: no outcome yet for ${m.version}`);

        const ps = await ctx.exec("backend", `pgrep -u app -x -f '${RUNNER_CMD}' | while read p; do ps -o ppid= -p "$p"; done`);
        const parents = ps.stdout.split(/\s+/).filter(Boolean);
        if (parents.length !== 1 || parents[0] !== "1") missing.push(`one runner process \`${RUNNER_CMD}\` (parent PID 1) on the backend (found ${parents.length})`);

        const backendLog = (await ctx.exec("backend", `cat ${BACKEND_LOG} 2>/dev/null || true`)).stdout;
        if (!/SIGTERM received, shutting down/.test(backendLog) || !new RegExp(`pending: ${m.version}\\)`).test(backendLog)) {
          missing.push(`${BACKEND_LOG}: the restart and "${m.version}" pending behind another run`);
        }

        const addrs = (await ctx.exec("backend", "hostname -I")).stdout.split(/\s+/).filter(Boolean);
        const sessions = await ctx.sql(
          `SELECT host(a.client_addr) AS addr, a.state, a.xact_start IS NOT NULL AS in_xact, a.query FROM pg_stat_activity a ` +
            `JOIN (${locksOn(table)}) l ON l.pid = a.pid WHERE a.application_name = $1`,
          [RUNNER_SESSION],
        );
        const s = sessions[0];
        if (sessions.length !== 1 || !addrs.includes(String(s.addr)) || s.state !== "active" || s.in_xact !== true || !String(s.query).includes(m.version)) {
          missing.push(`one ${RUNNER_SESSION} session from the backend (${addrs.join(", ")}) running ${m.version}, holding ${table} (found ${JSON.stringify(sessions.map((x) => x.addr))})`);
        }

        const versions = (await ctx.sql("SELECT version FROM schema_migrations ORDER BY version")).map((r) => String(r.version));
        if (versions.includes(m.version) || !versions.includes("001_init")) missing.push(`schema_migrations without ${m.version} (found [${versions.join(", ")}])`);

        for (const role of ["backend", "datastore"] as const) {
          const strays = await ctx.exec(role, "pgrep -a -x 'psql|sleep' || true");
          if (strays.stdout.trim() !== "") missing.push(`no psql or sleep on the ${role} (found: ${strays.stdout.trim()})`);
        }
        return missing;
      },
    },
  };
}
