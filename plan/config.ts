import { Target } from "./types";

/**
 * The one config schema: every drills:<key> with its type, default,
 * validation and description, declared once. Pulumi.yaml's config block,
 * index.ts, the CLI's flags and the README's table are generated from it
 * (`npm run gen`) or tested against it (tests/unit/config.test.ts).
 */
export type ConfigType = "string" | "integer" | "boolean";

export interface ConfigKey {
  /** The key under the project namespace: drills:<key>. */
  key: string;
  type: ConfigType;
  /** Applied when unset. Absent: the description says what unset means. */
  default?: string | number | boolean;
  /** Pulumi refuses to run without it. */
  required?: boolean;
  /** Which targets read it. */
  targets: readonly Target[];
  /** The CLI takes it as --<kebab-case key> (the CLI runs Docker levels only). */
  cli?: boolean;
  /** integer: the inclusive range. */
  min?: number;
  max?: number;
  /** string: the allowed values, or a pattern with an example of a valid value. */
  oneOf?: readonly string[];
  pattern?: RegExp;
  /** string with a pattern: what a valid value is, for error messages. */
  what?: string;
  example?: string;
  /** One line for users (Pulumi.yaml, --help, README). */
  description: string;
}

const BOTH: readonly Target[] = ["docker", "aws"];
const AWS: readonly Target[] = ["aws"];

export const MAX_SEED_INVOICES = 10_000_000;
export const MAX_SEED_USERS = 100_000;
/** Ports a stack may publish: base .. base+PORTS_PER_STACK-1. */
export const PORTS_PER_STACK = 10;
export const MAX_TTL_HOURS = 72;

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal)$/;

export const CONFIG: readonly ConfigKey[] = [
  { key: "level", type: "string", required: true, targets: BOTH, description: "Id of the level this stack runs, e.g. baseline (`npx drills list` shows them all)." },
  { key: "target", type: "string", default: "docker", oneOf: ["docker", "aws"], targets: BOTH, description: "Where to provision the level: docker (the local engine) or aws (EC2)." },
  { key: "engine", type: "string", oneOf: ["postgres", "mysql"], targets: BOTH, cli: true, description: "Datastore engine: postgres (PostgreSQL 15) or mysql (MariaDB 10.11); unset: the level's own." },
  {
    key: "baseImage", type: "string", default: "debian:bookworm-slim", pattern: /^[a-z0-9][a-z0-9._\-/:@]*$/, what: "an image reference", example: "debian:bookworm-slim",
    targets: ["docker"], cli: true, description: "Image every role's Dockerfile starts FROM; point it at a mirror behind a firewall.",
  },
  { key: "seedInvoices", type: "integer", min: 0, max: MAX_SEED_INVOICES, targets: BOTH, cli: true, description: "Invoices baked into the datastore image; unset: the level's default." },
  { key: "seedUsers", type: "integer", min: 0, max: MAX_SEED_USERS, targets: BOTH, cli: true, description: "Users baked into the datastore image; unset: the level's default." },
  { key: "basePort", type: "integer", min: 1024, max: 65535 - PORTS_PER_STACK, targets: ["docker"], cli: true, description: "First 127.0.0.1 port the stack publishes; unset: derived from the stack name." },
  {
    key: "allowedCidr", type: "string", pattern: /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, what: "an IPv4 CIDR (your own public address with /32, or your classroom's range)", example: "203.0.113.0/24", targets: AWS,
    description: "Required on aws: the IPv4 CIDR allowed to reach the app and SSH (your address with /32); 0.0.0.0/0 is refused unless allowWorldSsh is true.",
  },
  { key: "allowWorldSsh", type: "boolean", default: false, targets: AWS, description: "Accept allowedCidr 0.0.0.0/0 (SSH open to the internet) explicitly." },
  { key: "vpc", type: "string", default: "default", oneOf: ["default", "new"], targets: AWS, description: "The account's default VPC, or a new one for the level." },
  { key: "ttlHours", type: "integer", default: 4, min: 1, max: MAX_TTL_HOURS, targets: AWS, description: "Hours after first boot before the instances power off and terminate themselves." },
  { key: "player", type: "string", default: "unassigned", pattern: /^[A-Za-z0-9._@+-]{1,64}$/, what: "letters, digits and . _ @ + - (at most 64)", example: "alice@example.com", targets: AWS, description: "Who plays this level; tagged on every instance." },
  { key: "ami", type: "string", pattern: /^ami-[0-9a-f]{8,17}$/, what: "an AMI id", example: "ami-0123456789abcdef0", targets: AWS, description: "Pin the Debian 12 AMI; unset: the latest at first deploy (later AMIs never replace instances)." },
  { key: "proxyInstanceType", type: "string", default: "t3.micro", pattern: INSTANCE_TYPE, what: "an EC2 instance type", example: "t3.micro", targets: AWS, description: "EC2 instance type of the proxy node (x86_64)." },
  { key: "backendInstanceType", type: "string", default: "t3.small", pattern: INSTANCE_TYPE, what: "an EC2 instance type", example: "t3.small", targets: AWS, description: "EC2 instance type of the backend node (x86_64)." },
  { key: "datastoreInstanceType", type: "string", default: "t3.small", pattern: INSTANCE_TYPE, what: "an EC2 instance type", example: "t3.small", targets: AWS, description: "EC2 instance type of the datastore node (x86_64)." },
];

export function configKey(key: string): ConfigKey {
  const k = CONFIG.find((c) => c.key === key);
  if (!k) throw new Error(`no config key drills:${key}`);
  return k;
}

/** --seed-invoices for seedInvoices. */
export function flagOf(k: ConfigKey): string {
  return `--${k.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
