import { LevelPlan } from "../plan/types";
import { Fault } from "./types";

export { Fault } from "./types";

/** Apply a level's faults to the base plan, in order. */
export function applyFaults(base: LevelPlan, faults: readonly Fault[]): LevelPlan {
  return faults.reduce<LevelPlan>((plan, fault) => {
    const patched = fault.patch ? fault.patch(plan) : plan;
    return { ...patched, actions: [...patched.actions, ...(fault.actions ?? [])] };
  }, base);
}
