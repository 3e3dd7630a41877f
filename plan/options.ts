import { DrillsError } from "./errors";
import { Role, SeedSize, Target, TARGETS } from "./types";

/** Config as it arrives: Pulumi config values or CLI flags, all strings. */
export interface RawOptions {
  level?: string;
  target?: string;
  stack?: string;
  baseImage?: string;
  seedInvoices?: string;
  seedUsers?: string;
  basePort?: string;
  /** AWS target only. */
  allowedCidr?: string;
  allowWorldSsh?: string;
  vpc?: string;
  ttlHours?: string;
  player?: string;
  proxyInstanceType?: string;
  backendInstanceType?: string;
  datastoreInstanceType?: string;
}

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
  instanceTypes: Record<Role, string>;
}

/** Small defaults: the datastore and backend need 2 GiB, the proxy 1 GiB. */
export const DEFAULT_INSTANCE_TYPES: Record<Role, string> = { proxy: "t3.micro", backend: "t3.small", datastore: "t3.small" };
export const MAX_TTL_HOURS = 72;

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
  /** Present when target is aws. */
  aws?: AwsOptions;
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
  if (target === "aws") options.aws = parseAwsOptions(raw);
  return options;
}

function parseCidr(raw: string): { cidr: string; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(raw.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefix > 32) {
    throw new DrillsError(
      `Invalid drills:allowedCidr "${raw}": give an IPv4 CIDR such as 203.0.113.0/24, or your own public address with /32.`,
    );
  }
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = addr - (addr % size);
  if (network !== addr) {
    const n = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".");
    throw new DrillsError(`Invalid drills:allowedCidr "${raw}": the address has host bits set for /${prefix}; did you mean ${n}/${prefix}?`);
  }
  return { cidr: raw.trim(), prefix };
}

const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal)$/;
const ARM_FAMILY_RE = /^[a-z]+\d+[a-z-]*g[a-z-]*\./;

/** Validate the AWS target's settings; the secure choice is the default. */
export function parseAwsOptions(raw: RawOptions): AwsOptions {
  const cidrRaw = raw.allowedCidr?.trim();
  if (!cidrRaw) {
    throw new DrillsError(
      "Missing config key drills:allowedCidr: the aws target opens the app and SSH only to this IPv4 CIDR " +
        "(your public address with /32, or your classroom's range), e.g. `pulumi config set drills:allowedCidr 203.0.113.7/32`.",
    );
  }
  const worldRaw = (raw.allowWorldSsh ?? "").trim();
  if (!["", "true", "false"].includes(worldRaw)) {
    throw new DrillsError(`Invalid drills:allowWorldSsh "${raw.allowWorldSsh}": use true or false (default false).`);
  }
  const allowWorldSsh = worldRaw === "true";
  const { cidr, prefix } = parseCidr(cidrRaw);
  if (prefix === 0 && !allowWorldSsh) {
    throw new DrillsError(
      `drills:allowedCidr ${cidr} would open SSH on every node, and the app, to the whole internet. ` +
        "Give your own address or range instead, or set drills:allowWorldSsh true to accept that explicitly.",
    );
  }
  const vpc = (raw.vpc?.trim() || "default") as AwsOptions["vpc"];
  if (vpc !== "default" && vpc !== "new") {
    throw new DrillsError(`Invalid drills:vpc "${raw.vpc}": use default (the account's default VPC) or new (a VPC for this level).`);
  }
  const ttlHours = raw.ttlHours?.trim() ? integer("drills:ttlHours", raw.ttlHours, 1, MAX_TTL_HOURS) : 4;
  const player = raw.player?.trim() || "unassigned";
  if (!/^[A-Za-z0-9._@+-]{1,64}$/.test(player)) {
    throw new DrillsError(`Invalid drills:player "${raw.player}": use letters, digits and . _ @ + - (at most 64), e.g. alice or alice@example.com.`);
  }
  const instanceTypes = { ...DEFAULT_INSTANCE_TYPES };
  for (const role of ["proxy", "backend", "datastore"] as Role[]) {
    const key = `${role}InstanceType` as const;
    const v = raw[key]?.trim();
    if (!v) continue;
    if (!INSTANCE_TYPE_RE.test(v)) {
      throw new DrillsError(`Invalid drills:${key} "${v}": give an EC2 instance type such as ${DEFAULT_INSTANCE_TYPES[role]} or t3.medium.`);
    }
    if (ARM_FAMILY_RE.test(v)) {
      throw new DrillsError(`Invalid drills:${key} "${v}": that is an arm64 (Graviton) type and the image is Debian 12 x86_64; use e.g. t3.small.`);
    }
    instanceTypes[role] = v;
  }
  return { allowedCidr: cidr, allowWorldSsh, vpc, ttlHours, player, instanceTypes };
}
