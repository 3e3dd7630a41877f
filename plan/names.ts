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

/** Label on a game's resources: the neutral game id (the level stays in the record, never on the engine). */
export const LABEL_GAME = "drills.game";

const GAME_RE = /^g-[a-z0-9]{5}$/;
const GAME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/**
 * A neutral game id such as `g-7f3k2`, from random bytes (crypto's, given by
 * the caller so plan/ stays pure). It is also the game's stack name.
 */
export function gameId(bytes: Uint8Array): string {
  if (bytes.length < 5) throw new Error("gameId needs 5 random bytes");
  return `g-${Array.from(bytes.slice(0, 5), (b) => GAME_ALPHABET[b % GAME_ALPHABET.length]).join("")}`;
}

export function isGameId(s: string): boolean {
  return GAME_RE.test(s);
}

/**
 * A level's plan as a game deploys it: its stack is the game id and nothing
 * on the engine names the level (no drills.level label; plan.level is the
 * game id, so messages that name "the level" name the game).
 */
export function neutralPlan(plan: LevelPlan): LevelPlan {
  if (!isGameId(plan.stack)) throw new Error(`neutralPlan: stack ${plan.stack} is not a game id`);
  const { [LABEL_LEVEL]: _level, ...labels } = plan.labels;
  return { ...plan, level: plan.stack, labels: { ...labels, [LABEL_GAME]: plan.stack } };
}

/** A game's plan (neutralPlan): its stack, "level" and drills.game label are all the game id. */
export function isGamePlan(plan: Pick<LevelPlan, "level" | "stack" | "labels">): boolean {
  return isGameId(plan.stack) && plan.level === plan.stack && plan.labels[LABEL_GAME] === plan.stack;
}

/** The command that starts the plan again, for messages: a game's is `drills play` (a new game). */
export function upCommand(plan: Pick<LevelPlan, "level" | "stack" | "labels">): string {
  return isGamePlan(plan) ? "drills play" : `drills up ${plan.level}${stackFlag(plan)}`;
}

/** The command that removes what the plan's stack left on the engine: a game's is `drills down <game id>`. */
export function downCommand(plan: Pick<LevelPlan, "level" | "stack" | "labels">): string {
  return isGamePlan(plan) ? `drills down ${plan.stack}` : `drills down ${plan.level}${stackFlag(plan)}`;
}
