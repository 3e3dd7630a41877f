import { applyFaults } from "../faults/compose";
import { LevelDefinition } from "../levels/types";
import { basePlan } from "../plan/app";
import { LevelOptions } from "../plan/options";
import { LevelPlan } from "../plan/types";

/** The plan of a level: the base app with the level's faults applied in order. */
export function levelPlan(level: LevelDefinition, options: LevelOptions): LevelPlan {
  return applyFaults(basePlan({ level: level.id, engine: level.engine, seed: level.seed }, options), level.faults);
}
