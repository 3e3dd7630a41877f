import { LevelPlan, NodeSpec, Role } from "./types";

/** Label keys on every resource a level creates; `down` and `status` select by them. */
export const LABEL_MANAGED = "drills.managed";
export const LABEL_LEVEL = "drills.level";
export const LABEL_STACK = "drills.stack";
export const LABEL_ROLE = "drills.role";
/** Who manages the stack's resources: "cli" (drills up) or "pulumi"; neither touches the other's. */
export const LABEL_DEPLOYER = "drills.deployer";

export type Deployer = "cli" | "pulumi";

/** The plan as a deployer renders it: every resource labelled with who manages it. */
export function deployedBy(plan: LevelPlan, deployer: Deployer): LevelPlan {
  return { ...plan, labels: { ...plan.labels, [LABEL_DEPLOYER]: deployer } };
}

/** The stack a level runs under unless told otherwise. */
export function defaultStack(levelId: string): string {
  return `level-${levelId}`;
}

/** " --stack NAME" when the plan's stack is not the level's default, for commands printed to users. */
export function stackFlag(plan: Pick<LevelPlan, "level" | "stack">): string {
  return plan.stack === defaultStack(plan.level) ? "" : ` --stack ${plan.stack}`;
}

/** Prefix of every resource name of a stack. */
export function resourcePrefix(stack: string): string {
  return `drills-${stack}`;
}

/** The node of a role; a plan without it is a programming error. */
export function nodeOf(plan: Pick<LevelPlan, "nodes" | "stack">, role: Role): NodeSpec {
  const n = plan.nodes.find((x) => x.role === role);
  if (!n) throw new Error(`plan ${plan.stack} has no ${role} node`);
  return n;
}
