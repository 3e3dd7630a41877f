import { DrillsError } from "./errors";
import { SeedSize, Target, TARGETS } from "./types";

/** Config as it arrives: Pulumi config values or CLI flags, all strings. */
export interface RawOptions {
  level?: string;
  target?: string;
  stack?: string;
  baseImage?: string;
  seedInvoices?: string;
  seedUsers?: string;
  basePort?: string;
}

/** Validated options for one level deployment. */
export interface LevelOptions {
  level: string;
  target: Target;
  /** Stack name; names, labels and ports derive from it. Default level-<id>. */
  stack: string;
  /** Image every role Dockerfile starts FROM. */
  baseImage: string;
  /** Overrides of the level's seed size. */
  seed: Partial<SeedSize>;
  /** First of the 127.0.0.1 ports this stack publishes; derived from the stack when unset. */
  basePort?: number;
}

export const DEFAULT_BASE_IMAGE = "debian:bookworm-slim";
export const MAX_SEED_INVOICES = 10_000_000;
export const MAX_SEED_USERS = 100_000;
/** Ports the stack may publish: base .. base+PORTS_PER_STACK-1. */
export const PORTS_PER_STACK = 10;

const STACK_RE = /^[a-z0-9][a-z0-9-]{0,40}$/;
const IMAGE_RE = /^[a-z0-9][a-z0-9._\-/:@]*$/;

function integer(name: string, raw: string, min: number, max: number): number {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min || Number(trimmed) > max) {
    throw new DrillsError(
      `Invalid ${name} "${raw}": it must be a whole number from ${min} to ${max} ` +
        `(for example ${name === "drills:basePort" ? "21000" : "20000"}).`,
    );
  }
  return Number(trimmed);
}

/**
 * Validate raw options. Pure: throws DrillsError with the bad value and the
 * valid ones, before any resource exists. `knownLevels` is passed in so the
 * level registry stays out of this module.
 */
export function parseOptions(raw: RawOptions, knownLevels: readonly string[]): LevelOptions {
  const level = raw.level?.trim();
  if (!level) {
    throw new DrillsError(
      `Missing config key drills:level: name the level this stack runs ` +
        `(valid levels: ${knownLevels.join(", ")}), e.g. \`pulumi config set drills:level baseline\`.`,
    );
  }
  if (!knownLevels.includes(level)) {
    throw new DrillsError(
      `Unknown level "${level}" in drills:level. Valid levels: ${knownLevels.join(", ")}.`,
    );
  }
  const target = (raw.target?.trim() || "docker") as Target;
  if (!TARGETS.includes(target)) {
    throw new DrillsError(
      `Unknown target "${raw.target}" in drills:target. Valid targets: ${TARGETS.join(", ")} (default docker).`,
    );
  }
  const stack = raw.stack?.trim() || `level-${level}`;
  if (!STACK_RE.test(stack)) {
    throw new DrillsError(
      `Invalid stack name "${stack}": use lower-case letters, digits and dashes, at most 41 characters ` +
        "(it names containers, networks and volumes).",
    );
  }
  const baseImage = raw.baseImage?.trim() || DEFAULT_BASE_IMAGE;
  if (!IMAGE_RE.test(baseImage)) {
    throw new DrillsError(
      `Invalid drills:baseImage "${raw.baseImage}": give an image reference like debian:bookworm-slim ` +
        "or registry.example.com/debian:bookworm-slim.",
    );
  }
  const seed: Partial<SeedSize> = {};
  if (raw.seedInvoices !== undefined && raw.seedInvoices !== "") {
    seed.invoices = integer("drills:seedInvoices", raw.seedInvoices, 0, MAX_SEED_INVOICES);
  }
  if (raw.seedUsers !== undefined && raw.seedUsers !== "") {
    seed.users = integer("drills:seedUsers", raw.seedUsers, 0, MAX_SEED_USERS);
  }
  const options: LevelOptions = { level, target, stack, baseImage, seed };
  if (raw.basePort !== undefined && raw.basePort !== "") {
    options.basePort = integer("drills:basePort", raw.basePort, 1024, 65535 - PORTS_PER_STACK);
  }
  return options;
}
