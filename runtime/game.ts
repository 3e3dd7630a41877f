import { CheckContext, CheckResult, ProbeResult } from "../faults/types";
import { LevelDefinition } from "../levels/types";
import { requireRunning, runActions } from "../driver/deployer";
import { connect } from "../driver/engine";
import { Log } from "../driver/images";
import { ActionSpec, LevelPlan } from "../plan/types";
import { dockerContext } from "./context";
import { checkLevel, probeLevel, solutionActions } from "./verdict";
import { shortcutsOf } from "../levels";

/** Check a running level on the local engine: fixed or not, with reasons. */
export async function check(level: LevelDefinition, plan: LevelPlan): Promise<CheckResult> {
  return checkLevel(level, await contextOf(plan));
}

/** Each fault's symptom on a running level. */
export async function probe(level: LevelDefinition, plan: LevelPlan): Promise<Record<string, ProbeResult>> {
  return probeLevel(level, await contextOf(plan));
}

/** Apply the level's reference solution (instructors and CI). */
export async function solve(level: LevelDefinition, plan: LevelPlan, log: Log = () => undefined): Promise<void> {
  await run(plan, solutionActions(level, plan), log);
}

/** Run scripts on a running level's nodes, in order (solutions, shortcuts and their undo). */
export async function run(plan: LevelPlan, actions: ActionSpec[], log: Log = () => undefined): Promise<void> {
  const docker = await connect();
  await requireRunning(docker, plan);
  await runActions(docker, plan, actions, log);
}

export interface ShortcutVerdict {
  description: string;
  /** The check's verdict with the shortcut applied (a sound check says NO). */
  ok: boolean;
  reasons: string[];
}

/**
 * Apply each of the level's known shortcuts in turn, check, and undo it: the
 * verdicts a player in a hurry would get. The level is left as it was.
 */
export async function tryShortcuts(level: LevelDefinition, plan: LevelPlan, log: Log = () => undefined): Promise<ShortcutVerdict[]> {
  const out: ShortcutVerdict[] = [];
  for (const s of shortcutsOf(level)) {
    await run(plan, s.actions(plan), log);
    const v = await check(level, plan);
    out.push({ description: s.description, ok: v.ok, reasons: v.reasons });
    if (s.undo) await run(plan, s.undo(plan), log);
  }
  return out;
}

/** A check context on a running level (probes, checks, trainee tests). */
export async function contextOf(plan: LevelPlan): Promise<CheckContext> {
  const docker = await connect();
  await requireRunning(docker, plan);
  return dockerContext(docker, plan);
}
