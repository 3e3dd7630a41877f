import { DrillsError } from "../plan/errors";
import { LevelPlan } from "../plan/types";
import { Fault } from "./types";

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Lists keyed by their identity, so a change shows as one setting's path. */
function keyed(plan: LevelPlan): Json {
  const nodes: Record<string, Json> = {};
  for (const n of plan.nodes) {
    nodes[n.role] = {
      ...(JSON.parse(JSON.stringify(n)) as Record<string, Json>),
      ports: Object.fromEntries(n.ports.map((p) => [p.name, { internal: p.internal, host: p.host }])),
      volumes: Object.fromEntries(n.volumes.map((v) => [v.target, JSON.parse(JSON.stringify(v)) as Json])),
    };
  }
  const { actions: _actions, nodes: _nodes, ...rest } = plan;
  return { ...(JSON.parse(JSON.stringify(rest)) as Record<string, Json>), nodes };
}

/** Every setting of a plan as path -> JSON value (arrays are single settings). */
export function settings(plan: LevelPlan): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: Json, path: string): void => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, child] of Object.entries(v)) walk(child, path ? `${path}.${k}` : k);
    } else {
      out.set(path, JSON.stringify(v));
    }
  };
  walk(keyed(plan), "");
  return out;
}

/** Settings a fault's patch changes on the base plan: path -> new value ("<removed>" when dropped). */
export function changes(base: LevelPlan, fault: Fault): Map<string, string> {
  if (!fault.patch) return new Map();
  const before = settings(base);
  const after = settings(fault.patch(base));
  const diff = new Map<string, string>();
  for (const [k, v] of after) if (before.get(k) !== v) diff.set(k, v);
  for (const k of before.keys()) if (!after.has(k)) diff.set(k, "<removed>");
  return diff;
}

/**
 * Apply a level's faults to the base plan, in order. Two faults that set the
 * same setting to different values cannot both hold, so that fails here,
 * before anything is created, naming both faults and the setting.
 */
export function applyFaults(base: LevelPlan, faults: readonly Fault[]): LevelPlan {
  const seen = new Set<string>();
  for (const f of faults) {
    if (seen.has(f.id)) throw new DrillsError(`Fault "${f.id}" is listed twice in level ${base.level}; list each fault once.`);
    seen.add(f.id);
  }
  const diffs = faults.map((f) => ({ fault: f, diff: changes(base, f) }));
  for (let i = 0; i < diffs.length; i++) {
    for (let j = i + 1; j < diffs.length; j++) {
      for (const [key, a] of diffs[i].diff) {
        const b = diffs[j].diff.get(key);
        if (b !== undefined && b !== a) {
          throw new DrillsError(
            `Faults "${diffs[i].fault.id}" and "${diffs[j].fault.id}" in level ${base.level} both change ${key} ` +
              `(to ${a} and to ${b}); they cannot hold at once. Drop one of them or give them compatible parameters.`,
          );
        }
      }
    }
  }
  const patched = faults.reduce<LevelPlan>((plan, f) => (f.patch ? f.patch(plan) : plan), base);
  return { ...patched, actions: [...patched.actions, ...faults.flatMap((f) => (f.actions ? f.actions(patched) : []))] };
}
