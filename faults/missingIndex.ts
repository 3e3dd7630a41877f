import { LevelPlan } from "../plan/types";
import { intParam, stringParam } from "./params";
import { adminSql } from "./scripts";
import { CheckContext, CheckResult, Fault } from "./types";

export interface MissingIndexParams {
  /** The index the invoice search needs (app/db/<engine>/migrations/001_init.sql). */
  index?: string;
  /** A search page slower than this counts as the symptom. */
  slowMs?: number;
  /** A search page must be faster than this to count as fixed. */
  fastMs?: number;
}

/** The customer searched by probes and checks; the seed spreads invoices over 10,000 customers. */
export const SEARCH_CUSTOMER = "customer-00042";

/** Median latency of the invoice search for one customer, through the proxy. */
export async function searchLatency(ctx: CheckContext, runs = 3): Promise<{ ms: number; status: number; error?: string }> {
  const url = `${ctx.plan.appUrl}api/invoices?customer=${SEARCH_CUSTOMER}&page=1&pageSize=20&sort=issued_at&order=desc`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await ctx.http(url, { timeoutMs: 30_000 });
    if (r.status !== 200) return { ms: r.ms, status: r.status, error: r.error ?? r.text.slice(0, 200) };
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  return { ms: Math.round(times[Math.floor(times.length / 2)]), status: 200 };
}

/** Does the search query's plan use an index on invoices? */
async function usesIndex(ctx: CheckContext): Promise<{ yes: boolean; plan: string }> {
  if (ctx.plan.engine === "postgres") {
    const rows = await ctx.sql("EXPLAIN SELECT * FROM invoices WHERE customer = $1 ORDER BY issued_at DESC LIMIT 20", [SEARCH_CUSTOMER]);
    const text = rows.map((r) => String(r["QUERY PLAN"])).join("\n");
    return { yes: /Index (Only )?Scan|Bitmap Index Scan/.test(text) && /on invoices|idx|invoices_/.test(text), plan: text };
  }
  const rows = await ctx.sql("EXPLAIN SELECT * FROM invoices WHERE customer = ? ORDER BY issued_at DESC LIMIT 20", [SEARCH_CUSTOMER]);
  const key = rows.map((r) => r.key).find((k) => k !== null && k !== undefined);
  return { yes: key !== undefined, plan: JSON.stringify(rows) };
}

/** The invoice search lost its index: seconds instead of milliseconds. */
export function missingIndex(params: MissingIndexParams = {}): Fault {
  const id = "missing-index";
  const index = stringParam(id, "index", params.index, "idx_invoices_customer", /^[a-z_][a-z0-9_]{0,62}$/, "an SQL identifier");
  const slowMs = intParam(id, "slowMs", params.slowMs, 1000, 100, 60_000);
  const fastMs = intParam(id, "fastMs", params.fastMs, 200, 10, 10_000);
  const dropSql = (plan: LevelPlan) =>
    plan.engine === "postgres" ? `DROP INDEX IF EXISTS ${index};` : `DROP INDEX IF EXISTS ${index} ON invoices;`;
  return {
    id,
    description: `Drops ${index}, so the invoice search by customer scans the whole table.`,
    spoilers: ["index", "explain", "seq scan", "full scan"],
    bounds: [`Drops one index (${index}) in the level's own datastore; no data is changed.`],
    actions: (plan) => [
      { id: `${id}-drop`, node: "datastore", description: `drop ${index}`, script: adminSql(plan.engine, dropSql(plan)) },
    ],
    probe: async (ctx) => {
      // Median of three, so a cold cache does not inflate the figure.
      const r = await searchLatency(ctx);
      return {
        present: r.status === 200 && r.ms >= slowMs,
        summary: r.status === 200 ? `invoice search took ${r.ms} ms (slow from ${slowMs} ms)` : `invoice search failed: ${r.error}`,
        figures: { searchMs: r.ms },
      };
    },
    check: async (ctx): Promise<CheckResult> => {
      const reasons: string[] = [];
      const idx = await usesIndex(ctx);
      if (!idx.yes) reasons.push("The invoice search by customer still reads the whole invoices table (EXPLAIN shows no index scan).");
      const r = await searchLatency(ctx);
      if (r.status !== 200) reasons.push(`The invoice search failed (${r.status || r.error}).`);
      else if (r.ms > fastMs) reasons.push(`The invoice search takes ${r.ms} ms through the proxy; it must take under ${fastMs} ms.`);
      return { ok: reasons.length === 0, reasons, figures: { searchMs: r.ms } };
    },
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
  };
}
