import { Fault, ProbeResult, Shortcut } from "../faults/types";
import { Engine, SeedSize } from "../plan/types";

/** Where the trouble of a level lives, for the game's certification rule. */
export type LevelCategory = "proxy" | "app" | "datastore" | "node";

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
    /** The alert that opened the incident (what fired, when), as an on-call engineer gets it. */
    alert?: string;
    /** What users see, exactly (status, timing, message). Symptoms only, never the cause. */
    symptoms: string[];
    /**
     * Holds the brief to what is really measured: given every fault's probe,
     * the statements of `symptoms` that the figures contradict (empty when the
     * brief is true). Tests run it against the live level.
     */
    contradictions?: (probes: Record<string, ProbeResult>) => string[];
  };
  objectives: string[];
  /** Staged hints; the last one is the solution. */
  hints: string[];
  /**
   * Shortcuts particular to this level, besides those its faults declare
   * (`Fault.shortcuts`); the check must refuse every one.
   */
  shortcuts?: Shortcut[];
  /** Where the trouble lives (the game's certification counts categories); default "app". */
  category?: LevelCategory;
  /** Played before the game (the tutorial): `drills play` never hands it out. */
  warmUp?: boolean;
  /** The game's time limit in minutes (default 45); past it `check` still grades but the record marks it late. */
  timeLimitMinutes?: number;
}
