import { ActionSpec, LevelPlan, Role } from "../plan/types";

/** What a running level offers to probes and checks, on any target. */
export interface CheckContext {
  plan: LevelPlan;
  /** Run a bash script as root on a node. */
  exec(role: Role, script: string): Promise<ExecResult>;
  /** An HTTP request with its latency; never throws (errors land in `error`). */
  http(url: string, init?: HttpInit): Promise<HttpResult>;
  /** A query on the level's datastore as the app's user. */
  sql(query: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /**
   * Open the front end (default: the plan's app URL) in a real headless browser and report each section;
   * then, once the sections loaded, act on the page as a user does (`steps`, in order).
   */
  browser(url?: string, steps?: BrowserStep[]): Promise<BrowserResult>;
  /**
   * Restart a node as its host would (power cycle): resolves once the node
   * runs again, not once it is healthy (what comes back is for the check to
   * judge). Docker: the container is restarted. AWS: `sudo systemctl reboot`
   * over SSH, then wait until SSH answers again.
   */
  restart(role: Role): Promise<void>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Give up after this long (default 10 s); a timeout is reported, not thrown. */
  timeoutMs?: number;
}

export interface HttpResult {
  status: number;
  ms: number;
  headers: Record<string, string>;
  text: string;
  /** Set when no response came (refused, timed out). */
  error?: string;
}

/**
 * What a user does on the page, by CSS selector: click, type into a field,
 * choose a file in a file input (as the file picker does), wait until an
 * element is visible (the first of several, comma separated), or read an
 * element's text (recorded in BrowserResult.texts; "" when hidden or absent).
 */
export type BrowserStep =
  | { click: string }
  | { fill: string; value: string }
  | { chooseFile: string; name: string; content: Buffer; mimeType?: string }
  | { waitFor: string; timeoutMs?: number }
  | { read: string };

/** One request the page made: its status, or 0 and the browser's error when no answer came. */
export interface BrowserRequest {
  method: string;
  url: string;
  status: number;
  error?: string;
}

/** Per front-end section: "loaded", "error" or "timeout", plus the page's messages. */
export interface BrowserResult {
  sections: Record<string, string>;
  messages: string[];
  /** Text of each element a `read` step named (by selector). */
  texts?: Record<string, string>;
  /** Every request the page made, in order (page load and steps). */
  requests?: BrowserRequest[];
  /** Steps that could not be done (element absent, wait timed out), with the reason. */
  failedSteps?: string[];
}

/** The verdict of a check: fixed or not, with reasons a player can act on. */
export interface CheckResult {
  ok: boolean;
  reasons: string[];
  /** Measured figures (latencies, free space), printed by tests and the CLI. */
  figures: Record<string, number | string>;
}

/** Whether a fault's symptom is present right now. */
export interface ProbeResult {
  present: boolean;
  summary: string;
  figures: Record<string, number | string>;
}

/**
 * What a player in a hurry tries instead of the real fix. The lifecycle test
 * applies each in order and requires the check to say NO with a reason, then
 * undoes it, before the reference solution runs. Faults declare their own;
 * a level may add more.
 */
export interface Shortcut {
  /** One line for instructors (`drills notes`); never shown to players. */
  description: string;
  /** Scripts that apply it on the nodes, as a player would (same shape as a solution). */
  actions: (plan: LevelPlan) => ActionSpec[];
  /** Scripts that put the level back as it was before the shortcut (default: none needed). */
  undo?: (plan: LevelPlan) => ActionSpec[];
}

/** What a real incident leaves behind (logs, notes, timestamps), and a check that it is there. */
export interface Story {
  /** Where each artifact is, described for instructors. */
  artifacts: string[];
  /** The artifacts that are missing (empty: the story holds). */
  verify: (ctx: CheckContext) => Promise<string[]>;
}

/**
 * A fault is a small module, `(params) => Fault`, that breaks a healthy level
 * in one way: a pure patch of the plan, actions run once every node is
 * healthy, a symptom probe, a check that decides "fixed", and a reference
 * solution. Levels list faults; they apply in order and compose.
 */
export interface Fault {
  id: string;
  /** One line for instructors; never shown to players. */
  description: string;
  /** What the fault promises not to touch or exceed (instructor notes). */
  bounds: string[];
  /**
   * Words that would give the cause away (the fault's name, the broken
   * thing). Tests hold every player-visible text of a level to them: the
   * rendered brief and what `up` prints. Matched case-insensitively.
   */
  spoilers: readonly string[];
  /** Pure: returns a new plan, never mutates its argument. */
  patch?: (plan: LevelPlan) => LevelPlan;
  /** Scripts run after readiness, in order (the break itself). */
  actions?: (plan: LevelPlan) => ActionSpec[];
  /** Is the symptom there? Used by tests to prove a level is really broken. */
  probe: (ctx: CheckContext) => Promise<ProbeResult>;
  /** Is it fixed? ok only when every condition holds; reasons say which failed. */
  check: (ctx: CheckContext) => Promise<CheckResult>;
  /** What a player in a hurry tries instead of the fix; the check refuses each (at least two where plausible). */
  shortcuts: Shortcut[];
  /** Reference solution: scripts an instructor's `drills solve` runs. */
  solution: (plan: LevelPlan) => ActionSpec[];
  /**
   * The history the fault's story implies, as a trainee finds it (instructor
   * notes list `artifacts`); `verify` returns the artifacts that are missing
   * on the running level (empty when the story holds).
   */
  story?: Story;
  /**
   * App paths (relative to the app URL) this fault makes slow or failing; every
   * other healthy path must stay fast (runtime/healthy.ts).
   */
  symptomPaths?: string[];
  /**
   * Terms a correct diagnosis of this fault uses (the game grades a
   * postmortem's root cause against them; never printed to players).
   * Unset: the game falls back to `spoilers`.
   */
  diagnosis?: string[];
}
