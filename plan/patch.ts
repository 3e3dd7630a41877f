import { LevelPlan, NodeSpec, Role } from "./types";

/** Pure helpers for fault patches: return a new plan, never mutate. */
export function updateNode(plan: LevelPlan, role: Role, f: (n: NodeSpec) => NodeSpec): LevelPlan {
  if (!plan.nodes.some((n) => n.role === role)) throw new Error(`plan ${plan.stack} has no ${role} node`);
  return { ...plan, nodes: plan.nodes.map((n) => (n.role === role ? f(n) : n)) };
}

export function setEnv(plan: LevelPlan, role: Role, env: Record<string, string>): LevelPlan {
  return updateNode(plan, role, (n) => ({ ...n, env: { ...n.env, ...env } }));
}
