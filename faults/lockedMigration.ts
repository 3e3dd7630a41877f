import { DrillsError } from "../plan/errors";
import { intParam, stringParam } from "./params";
import { adminSql, RESTART_BACKEND } from "./scripts";
import { CheckContext, Fault } from "./types";

export interface LockedMigrationParams {
  /** The table the stuck migration altered (and so locked). */
  table?: string;
  /** application_name of the stuck session, as a deploy tool would set it. */
  session?: string;
  /** The API must answer under this to count as fixed. */
  fastMs?: number;
}

const locksOn = (table: string) =>
  `SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation ` +
  `WHERE c.relname = '${table}' AND l.mode = 'AccessExclusiveLock' AND l.granted`;

async function holders(ctx: CheckContext, table: string): Promise<number[]> {
  return (await ctx.sql(locksOn(table))).map((r) => Number(r.pid));
}

/**
 * A deploy's migration opened a transaction, altered a table and never
 * committed: it holds an exclusive lock forever. The backend was restarted
 * by the deploy and now hangs on its first query of that table.
 */
export function lockedMigration(params: LockedMigrationParams = {}): Fault {
  const id = "locked-migration";
  const table = stringParam(id, "table", params.table, "users", /^(users|invoices)$/, "users or invoices");
  const session = stringParam(id, "session", params.session, "deploy-migrate-002", /^[a-z0-9_-]{1,60}$/, "a short name");
  const fastMs = intParam(id, "fastMs", params.fastMs, 1000, 50, 10_000);
  const path = table === "users" ? "api/users" : "api/invoices?pageSize=5";
  const holderScript = [
    "set -euo pipefail",
    "# The deploy's migration: BEGIN, ALTER, then the tool hung before COMMIT.",
    `setsid bash -c '{ printf "%s\\n" "BEGIN;" "ALTER TABLE ${table} ADD COLUMN last_seen_at timestamp;"; exec sleep 2147483647; } ` +
      `| PGAPPNAME=${session} PGPASSWORD=drills psql -X -q -h 127.0.0.1 -U drills -d drills' ` +
      "</dev/null >>/var/log/postgresql/deploy.log 2>&1 &",
    "for _ in $(seq 1 200); do",
    `  n=$(runuser -u postgres -- psql -X -Atq -d drills -c "SELECT count(*) FROM (${locksOn(table)}) x")`,
    '  [ "$n" -ge 1 ] && exit 0',
    "  sleep 0.05",
    "done",
    `echo "the migration session did not take its lock on ${table}" >&2; exit 1`,
  ].join("\n");
  const restartScript = [
    "set -euo pipefail",
    "# The deploy restarts the app after its migration step.",
    ...RESTART_BACKEND,
  ].join("\n");
  return {
    id,
    description: `A migration session (${session}) holds an exclusive lock on ${table} in an open transaction; the backend restarted into it.`,
    // "migration" is the story (a deploy ran one); the stuck lock is the cause.
    spoilers: ["lock", "pg_", "transaction", "alter table", "uncommitted"],
    bounds: [`One session in the level's own datastore holds a lock on ${table}; terminating it rolls everything back.`],
    patch: (plan) => {
      if (plan.engine !== "postgres") {
        throw new DrillsError(`Fault ${id} needs the postgres engine (level ${plan.level} uses ${plan.engine}).`);
      }
      return plan;
    },
    actions: () => [
      { id: `${id}-hold`, node: "datastore", description: `start ${session} holding a lock on ${table}`, script: holderScript },
      { id: `${id}-restart`, node: "backend", description: "restart the backend as the deploy did", script: restartScript },
    ],
    probe: async (ctx) => {
      const r = await ctx.http(`${ctx.plan.appUrl}${path}`, { timeoutMs: 3000 });
      const held = await holders(ctx, table);
      return {
        present: r.status === 0 && held.length > 0,
        summary: r.status === 0 ? `GET /${path}: ${r.error}; ${held.length} session(s) hold the lock` : `GET /${path}: ${r.status} in ${Math.round(r.ms)} ms`,
        figures: { apiMs: Math.round(r.ms), lockHolders: held.length },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const r = await ctx.http(`${ctx.plan.appUrl}${path}`, { timeoutMs: 5000 });
      if (r.status !== 200) reasons.push(`GET /${path} did not answer (${r.error ?? `status ${r.status}`}).`);
      else if (r.ms > fastMs) reasons.push(`GET /${path} took ${Math.round(r.ms)} ms; it must answer under ${fastMs} ms.`);
      const held = await holders(ctx, table);
      if (held.length > 0) reasons.push(`A session (pid ${held.join(", ")}) still holds an exclusive lock on ${table}.`);
      return { ok: reasons.length === 0, reasons, figures: { apiMs: Math.round(r.ms), lockHolders: held.length } };
    },
    solution: (plan) => [
      {
        id: `${id}-terminate`,
        node: "datastore",
        description: `terminate the session holding the lock on ${table}`,
        script: adminSql(plan.engine, `SELECT pg_terminate_backend(pid) FROM (${locksOn(table)}) x;`),
      },
    ],
  };
}
