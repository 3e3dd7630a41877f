import { getLevel, levelIds } from "../levels";
import { LevelDefinition } from "../levels/types";
import { buildPlan } from "../plan/build";
import { dockerPlan } from "../plan/endpoints";
import { LevelOptions, parseOptions } from "../plan/options";
import { LevelPlan } from "../plan/types";

/** Flags shared by the commands that name a level. */
export interface LevelFlags {
  stack?: string;
  baseImage?: string;
  seedInvoices?: string;
  seedUsers?: string;
  basePort?: string;
}

/** The same validation and plan the Pulumi program uses, from CLI flags, resolved for Docker. */
export function planFor(id: string, flags: LevelFlags): { level: LevelDefinition; options: LevelOptions; plan: LevelPlan } {
  const level = getLevel(id);
  const options = parseOptions({ level: id, target: "docker", ...flags }, levelIds());
  return { level, options, plan: dockerPlan(buildPlan(level, options)) };
}
