/**
 * A mistake by the person running drills (bad config, unknown level, Docker
 * not running). The CLI prints only the message, never a stack trace, and
 * exits non-zero; Pulumi shows it as a plain error before creating anything.
 */
export class DrillsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrillsError";
  }
}

export function isDrillsError(e: unknown): e is DrillsError {
  return e instanceof Error && e.name === "DrillsError";
}
