import { CheckContext } from "../faults/types";
import { LevelDefinition } from "../levels/types";

/**
 * Everything but the symptom answers fast: the paths a user takes through
 * the proxy, each timed several times (p50), except those a fault of the
 * level declares as its symptom (Fault.symptomPaths). Inputs are chosen at
 * random per run, as users pick them.
 */
export interface PathTiming {
  path: string;
  p50Ms: number;
  status: number;
}

const pick = (n: number) => 1 + Math.floor(Math.random() * n);
const customer = () => `customer-${String(pick(1000)).padStart(5, "0")}`;

/** The healthy paths of the app, with fresh random inputs. */
export function healthyPaths(): string[] {
  return [
    "",
    "api/health",
    "api/users",
    `api/invoices?page=${pick(5)}&pageSize=20`,
    `api/invoices?page=1&pageSize=20&sort=amount_cents&order=${Math.random() < 0.5 ? "asc" : "desc"}`,
    `api/invoices?page=${pick(5)}&pageSize=20&sort=${Math.random() < 0.5 ? "number" : "issued_at"}&order=asc`,
    `api/invoices?customer=${customer()}&page=1&pageSize=20`,
    "api/uploads",
  ];
}

/** p50 of each healthy path of a level (symptom paths left out). */
export async function timeHealthyPaths(level: LevelDefinition, ctx: CheckContext, runs = 5): Promise<PathTiming[]> {
  const symptoms = level.faults.flatMap((f) => f.symptomPaths ?? []);
  const paths = healthyPaths().filter((p) => !symptoms.some((s) => p.startsWith(s)));
  const out: PathTiming[] = [];
  for (const path of paths) {
    const times: number[] = [];
    let status = 0;
    for (let i = 0; i < runs; i++) {
      const r = await ctx.http(`${ctx.plan.appUrl}${path}`, { timeoutMs: 10_000 });
      status = r.status;
      times.push(r.ms);
    }
    times.sort((a, b) => a - b);
    out.push({ path: `/${path}`, p50Ms: Math.round(times[Math.floor(times.length / 2)]), status });
  }
  return out;
}
