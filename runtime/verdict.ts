import { CheckContext, CheckResult, ProbeResult } from "../faults/types";
import { ActionSpec, LevelPlan } from "../plan/types";
import { LevelDefinition } from "../levels/types";

/** The app answers through the proxy: every level's check requires it. */
async function appAnswers(ctx: CheckContext): Promise<CheckResult> {
  const r = await ctx.http(`${ctx.plan.appUrl}api/health`, { timeoutMs: 5000 });
  const ok = r.status === 200;
  return {
    ok,
    reasons: ok ? [] : [`The app's health endpoint does not answer OK through the proxy (${r.error ?? `status ${r.status}`}).`],
    figures: { healthMs: Math.round(r.ms) },
  };
}

/** Decide "fixed": the app answers and every fault's check passes. */
export async function checkLevel(level: LevelDefinition, ctx: CheckContext): Promise<CheckResult> {
  const results = [await appAnswers(ctx)];
  for (const f of level.faults) results.push(await f.check(ctx));
  return {
    ok: results.every((r) => r.ok),
    reasons: results.flatMap((r) => r.reasons),
    figures: Object.assign({}, ...results.map((r) => r.figures)) as CheckResult["figures"],
  };
}

/** Each fault's symptom, by fault id. */
export async function probeLevel(level: LevelDefinition, ctx: CheckContext): Promise<Record<string, ProbeResult>> {
  const out: Record<string, ProbeResult> = {};
  for (const f of level.faults) out[f.id] = await f.probe(ctx);
  return out;
}

/** The reference solution: every fault's, in the level's order. */
export function solutionActions(level: LevelDefinition, plan: LevelPlan): ActionSpec[] {
  return level.faults.flatMap((f) => f.solution(plan));
}
