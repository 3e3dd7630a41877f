import { Fault } from "../faults/types";
import { Engine, SeedSize } from "../plan/types";

/**
 * A level is data: which app it runs, which faults break it, and what the
 * player is told. Everything else (nodes, names, ports) is derived.
 */
export interface LevelDefinition {
  /** Kebab-case id; the stack is level-<id>. */
  id: string;
  title: string;
  /** One line for `drills list`. */
  summary: string;
  engine: Engine;
  /** Default seed size; the drills:seedInvoices / seedUsers config override it. */
  seed: SeedSize;
  faults: Fault[];
  brief: {
    /** What the player is told happened, from the users' side. */
    situation: string;
    /** What users see. Symptoms only, never the cause. */
    symptoms: string[];
  };
  objectives: string[];
  /** Staged hints; the last one is the solution. */
  hints: string[];
}
