import { levelPlan } from "../compose/plan";
import { getLevel, levelIds } from "../levels";
import { LevelDefinition } from "../levels/types";
import { dockerPlan } from "../plan/endpoints";
import { LevelOptions, parseOptions, RawOptions } from "../plan/options";
import { LevelPlan } from "../plan/types";

/** Flags of the commands that name a level: --stack and the schema's CLI keys (plan/config.ts). */
export type LevelFlags = RawOptions;

/** The same validation and plan the Pulumi program uses, from CLI flags, resolved for Docker. */
export function planFor(id: string, flags: LevelFlags): { level: LevelDefinition; options: LevelOptions; plan: LevelPlan } {
  const level = getLevel(id);
  const raw: RawOptions = { ...flags, level: id, target: "docker" };
  const options = parseOptions(raw, levelIds());
  return { level, options, plan: dockerPlan(levelPlan(level, options)) };
}
