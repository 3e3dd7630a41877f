import { CONFIG, ConfigKey, configKey, PORTS_PER_STACK } from "./config";
import { DrillsError } from "./errors";
import { defaultStack } from "./names";
import { Engine, Role, SeedSize, Target } from "./types";

/** Config as it arrives: Pulumi config values or CLI flags, all strings; `stack` is the stack name. */
export type RawOptions = { stack?: string } & { [key: string]: string | undefined };

/** Settings of the AWS target, validated only when drills:target is aws. */
export interface AwsOptions {
  /** Who may reach the app and SSH: an IPv4 CIDR. */
  allowedCidr: string;
  /** The instructor's explicit "yes, open SSH to the world" (allowedCidr 0.0.0.0/0). */
  allowWorldSsh: boolean;
  /** The account's default VPC, or a new one for the level. */
  vpc: "default" | "new";
  /** Instances power off (and terminate) this long after first boot. */
  ttlHours: number;
  /** Who plays; tagged on every instance. */
  player: string;
  /** A pinned AMI; unset: the latest Debian 12 AMI when first deployed. */
  ami?: string;
  instanceTypes: Record<Role, string>;
}

/** Validated options for one level deployment. */
export interface LevelOptions {
  level: string;
  target: Target;
  /** Stack name; names, labels and ports derive from it. Default level-<id>. */
  stack: string;
  /** Datastore engine override; unset: the level's own. */
  engine?: Engine;
  /** Image every role Dockerfile starts FROM. */
  baseImage: string;
  /** Overrides of the level's seed size. */
  seed: Partial<SeedSize>;
  /** First of the 127.0.0.1 ports this stack publishes; derived from the stack when unset. */
  basePort?: number;
  /** Present when target is aws. */
  aws?: AwsOptions;
}

export const DEFAULT_BASE_IMAGE = String(configKey("baseImage").default);
export { PORTS_PER_STACK };

const STACK_RE = /^[a-z0-9][a-z0-9-]{0,40}$/;

type Value = string | number | boolean;

/**
 * One key, validated by its schema: the default when unset, else a typed
 * value, else a DrillsError naming the key, the bad value and what is valid.
 */
export function readKey(k: ConfigKey, raw: string | undefined): Value | undefined {
  // Unset or empty: the default. Whitespace alone is a mistake, reported below.
  if (raw === undefined || raw === "") return k.default;
  const v = raw.trim();
  const bad = (what: string): DrillsError => new DrillsError(`Invalid drills:${k.key} "${raw}": ${what}.`);
  switch (k.type) {
    case "integer": {
      const n = Number(v);
      if (!/^\d+$/.test(v) || (k.min !== undefined && n < k.min) || (k.max !== undefined && n > k.max)) {
        throw bad(`it must be a whole number from ${k.min ?? 0} to ${k.max ?? Number.MAX_SAFE_INTEGER} (for example ${k.default ?? k.min ?? 0})`);
      }
      return n;
    }
    case "boolean":
      if (v !== "true" && v !== "false") throw bad(`use true or false (default ${String(k.default ?? false)})`);
      return v === "true";
    case "string":
      if (k.oneOf && !k.oneOf.includes(v)) {
        throw bad(`use one of ${k.oneOf.join(", ")}${k.default === undefined ? "" : ` (default ${String(k.default)})`}`);
      }
      if (k.pattern && !k.pattern.test(v)) throw bad(`give ${k.what ?? "a valid value"}, for example ${k.example ?? String(k.default)}`);
      return v;
  }
}

/** Every key of the schema read from raw options (undefined where unset and without default). */
function readAll(raw: RawOptions, target: Target): Record<string, Value | undefined> {
  const out: Record<string, Value | undefined> = {};
  for (const k of CONFIG) if (k.targets.includes(target)) out[k.key] = readKey(k, raw[k.key]);
  return out;
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
    throw new DrillsError(`Unknown level "${level}" in drills:level. Valid levels: ${knownLevels.join(", ")}.`);
  }
  const target = readKey(configKey("target"), raw.target) as Target;
  const v = readAll(raw, target);
  const stack = raw.stack?.trim() || defaultStack(level);
  if (!STACK_RE.test(stack)) {
    throw new DrillsError(
      `Invalid stack name "${stack}": use lower-case letters, digits and dashes, at most 41 characters ` +
        "(it names containers, networks and volumes).",
    );
  }
  const seed: Partial<SeedSize> = {};
  if (v.seedInvoices !== undefined) seed.invoices = v.seedInvoices as number;
  if (v.seedUsers !== undefined) seed.users = v.seedUsers as number;
  const options: LevelOptions = {
    level,
    target,
    stack,
    baseImage: (v.baseImage as string | undefined) ?? DEFAULT_BASE_IMAGE,
    seed,
  };
  if (v.engine !== undefined) options.engine = v.engine as Engine;
  if (v.basePort !== undefined) options.basePort = v.basePort as number;
  if (target === "aws") options.aws = awsOptions(raw, v);
  return options;
}

const ARM_FAMILY_RE = /^[a-z]+\d+[a-z-]*g[a-z-]*\./;

/** The AWS target's settings: checks that span keys; the secure choice is the default. */
function awsOptions(raw: RawOptions, v: Record<string, Value | undefined>): AwsOptions {
  if (v.allowedCidr === undefined) {
    throw new DrillsError(
      "Missing config key drills:allowedCidr: the aws target opens the app and SSH only to this IPv4 CIDR " +
        "(your public address with /32, or your classroom's range), e.g. `pulumi config set drills:allowedCidr 203.0.113.7/32`.",
    );
  }
  const { cidr, prefix } = checkCidr(String(raw.allowedCidr).trim());
  const allowWorldSsh = v.allowWorldSsh as boolean;
  if (prefix === 0 && !allowWorldSsh) {
    throw new DrillsError(
      `drills:allowedCidr ${cidr} would open SSH on every node, and the app, to the whole internet. ` +
        "Give your own address or range instead, or set drills:allowWorldSsh true to accept that explicitly.",
    );
  }
  const instanceTypes = {} as Record<Role, string>;
  for (const role of ["proxy", "backend", "datastore"] as Role[]) {
    const key = `${role}InstanceType`;
    const t = v[key] as string;
    if (ARM_FAMILY_RE.test(t)) {
      throw new DrillsError(`Invalid drills:${key} "${t}": that is an arm64 (Graviton) type and the image is Debian 12 x86_64; use e.g. t3.small.`);
    }
    instanceTypes[role] = t;
  }
  const o: AwsOptions = {
    allowedCidr: cidr,
    allowWorldSsh,
    vpc: v.vpc as AwsOptions["vpc"],
    ttlHours: v.ttlHours as number,
    player: v.player as string,
    instanceTypes,
  };
  if (v.ami !== undefined) o.ami = v.ami as string;
  return o;
}

/** Octets in range and no host bits set. */
function checkCidr(raw: string): { cidr: string; prefix: number } {
  const [addrText, prefixText] = raw.split("/");
  const octets = addrText.split(".").map(Number);
  const prefix = Number(prefixText);
  if (octets.some((o) => o > 255) || prefix > 32) {
    throw new DrillsError(`Invalid drills:allowedCidr "${raw}": give an IPv4 CIDR such as 203.0.113.0/24, or your own public address with /32.`);
  }
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = addr - (addr % size);
  if (network !== addr) {
    const n = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".");
    throw new DrillsError(`Invalid drills:allowedCidr "${raw}": the address has host bits set for /${prefix}; did you mean ${n}/${prefix}?`);
  }
  return { cidr: raw, prefix };
}
