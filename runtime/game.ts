import { CheckContext, CheckResult, ProbeResult } from "../faults/types";
import { LevelDefinition } from "../levels/types";
import { requireRunning, runActions } from "../driver/deployer";
import { connect } from "../driver/engine";
import { Log } from "../driver/images";
import { LevelPlan } from "../plan/types";
import { dockerContext } from "./context";
import { checkLevel, probeLevel, solutionActions } from "./verdict";

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
  const docker = await connect();
  await requireRunning(docker, plan);
  await runActions(docker, plan, solutionActions(level, plan), log);
}

/** A check context on a running level (probes, checks, trainee tests). */
export async function contextOf(plan: LevelPlan): Promise<CheckContext> {
  const docker = await connect();
  await requireRunning(docker, plan);
  return dockerContext(docker, plan);
}
