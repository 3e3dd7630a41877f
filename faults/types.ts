import { ActionSpec, LevelPlan } from "../plan/types";

/**
 * A fault is a small module that breaks a healthy level in one way: a pure
 * patch of the plan (env, limits, volumes) plus actions run on a node once
 * every node is healthy. Levels list faults; they are applied in order.
 */
export interface Fault {
  id: string;
  /** One line for instructors; never shown to players. */
  description: string;
  /** Pure: returns a new plan, never mutates its argument. */
  patch?: (plan: LevelPlan) => LevelPlan;
  /** Scripts run after readiness, in order. */
  actions?: ActionSpec[];
}
