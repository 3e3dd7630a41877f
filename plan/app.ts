import * as crypto from "crypto";
import { originToken } from "./endpoints";
import { LABEL_LEVEL, LABEL_MANAGED, LABEL_STACK, resourcePrefix } from "./names";
import { LevelOptions, PORTS_PER_STACK } from "./options";
import { roleHealthcheck, roleImage } from "./recipe";
import { Engine, LevelPlan, NodeSpec, Role, SeedSize, VolumeFilesystem, VolumeSpec } from "./types";

/** Ports inside the nodes. */
export const INTERNAL_PORTS = { proxy: 80, backend: 3000, postgres: 5432, mysql: 3306 } as const;

/** Offsets from the stack's base port on 127.0.0.1. */
export const PORT_OFFSETS: Record<Role, number> = { proxy: 0, backend: 1, datastore: 2 };

/**
 * SSH: the one way in for players. Only the entry node (the proxy) publishes
 * it (127.0.0.1 on Docker, its public address on AWS); the others are
 * reached through it (ProxyJump), on both targets.
 */
export const SSH_PORT = 22;
export const SSH_PORT_OFFSET = 3;
export const SSH_ENTRY: Role = "proxy";
/** The on-call user every node has (roles/common/lib.sh): key login only, passwordless sudo. */
export const PLAYER_USER = "oncall";

/** The stack's player key, relative to the project folder (written by `drills up`, removed by `down`). */
export const playerKeyFile = (stack: string): string => `.drills/keys/${stack}/id_ed25519`;

/**
 * The stack's own known-hosts file, beside its key: nodes get new host keys
 * at every start, so ssh trusts them there (never in ~/.ssh/known_hosts),
 * and drills empties it whenever the stack starts again.
 */
export const knownHostsBeside = (key: string): string => key.replace(/[^/]+$/, "known_hosts");

/**
 * The one-line command a player runs to log in to a node: straight to the
 * entry node, through it for the others. `-J` would not pass `-i` on to the
 * jump, so the jump is spelled out as a ProxyCommand with the same key.
 * Host keys go to the stack's known-hosts file, accepted when new and
 * refused when changed (accept-new): a restarted stack starts it afresh.
 */
export function sshCommand(role: Role, key: string, entry: { host: string; port: number }): string {
  const port = entry.port === SSH_PORT ? "" : ` -p ${entry.port}`;
  const ssh = `ssh -i ${key} -o UserKnownHostsFile=${knownHostsBeside(key)} -o StrictHostKeyChecking=accept-new`;
  if (role === SSH_ENTRY) return `${ssh}${port} ${PLAYER_USER}@${entry.host}`;
  return `${ssh} -o ProxyCommand="${ssh}${port} -W %h:%p ${PLAYER_USER}@${entry.host}" ${PLAYER_USER}@${role}`;
}

/** Default limits: small enough that a level at rest stays well under 600 MiB. */
export const LIMITS: Record<Role, { memoryMiB: number; cpus: number; shmMiB: number }> = {
  proxy: { memoryMiB: 128, cpus: 0.5, shmMiB: 64 },
  backend: { memoryMiB: 256, cpus: 0.5, shmMiB: 64 },
  datastore: { memoryMiB: 512, cpus: 1, shmMiB: 256 },
};

/** Credentials baked into the training datastore image (not a secret: a lab). */
export const DB_CREDENTIALS = { user: "drills", password: "drills", database: "drills" } as const;

/**
 * Where derived base ports live: blocks 10000..32750, below every common
 * ephemeral range (Linux 32768+, macOS and Windows 49152+), so a stack's
 * port is never the local end of some program's outgoing connection.
 */
export const PORT_BLOCKS = { first: 10000, count: 2276 } as const;

/**
 * A base port derived from the stack name (one of PORT_BLOCKS), so two stacks
 * get different ports without coordination. drills:basePort overrides it.
 */
export function derivePort(stack: string): number {
  const n = crypto.createHash("sha256").update(stack).digest().readUInt32BE(0);
  return PORT_BLOCKS.first + (n % PORT_BLOCKS.count) * PORTS_PER_STACK;
}

export function datastorePort(engine: Engine): number {
  return engine === "postgres" ? INTERNAL_PORTS.postgres : INTERNAL_PORTS.mysql;
}

/** A seed this big (invoices) gets a datastore with room to cache its table. */
export const BIG_SEED_INVOICES = 1_000_000;

/** Whether a seed is that big: the one rule for a datastore's 1 GiB, its own copy of the data files, and the image target. */
export const isBigSeed = (seed: SeedSize): boolean => seed.invoices >= BIG_SEED_INVOICES;

/**
 * A node's limits. A big seed's datastore gets 1 GiB: its invoices table
 * (~290 MiB at 3 M rows) then stays in the node's page cache, so a scan
 * costs CPU, as on a production server with the RAM for its data; in 512 MiB
 * every scan re-reads the disk, and its time follows the host's disk.
 */
export function limitsOf(role: Role, seed: SeedSize): (typeof LIMITS)[Role] {
  if (role === "datastore" && isBigSeed(seed)) return { ...LIMITS.datastore, memoryMiB: 1024 };
  return LIMITS[role];
}

/**
 * Bash for a big seed's PostgreSQL datastore, run once it is healthy: give
 * its big data files (over 64 MiB: the invoices table and its indexes) their
 * own copy in the node's layer before any query opens them. They come from
 * the image, and the first open for writing copies a file up (overlayfs);
 * PostgreSQL opens every relation read-write, and in CI such an open of the
 * 480 MiB table (then 5 M rows) failed with EINTR ("could not open file ...: Interrupted
 * system call") until the copy was done. A shell's open is not interrupted;
 * the files are unchanged (on a VM there is nothing to copy).
 */
export const OWN_BIG_DATA_FILES =
  "find /var/lib/postgresql -xdev -type f -size +64M -exec sh -c 'for f; do : >>\"$f\"; done' _ {} + 2>/dev/null || true";

/** What the base plan needs from a level: its id, datastore engine and seed size. */
export interface AppSpec {
  level: string;
  engine: Engine;
  seed: SeedSize;
}

/** The healthy app: three nodes, no fault. Pure: reads no file, hashes nothing. */
export function basePlan(app: AppSpec, options: LevelOptions): LevelPlan {
  const stack = options.stack;
  const prefix = resourcePrefix(stack);
  const engine = options.engine ?? app.engine;
  const seed: SeedSize = { ...app.seed, ...options.seed };
  const base = options.basePort ?? derivePort(stack);
  const labels = { [LABEL_MANAGED]: "true", [LABEL_LEVEL]: app.level, [LABEL_STACK]: stack };
  const images = { baseImage: options.baseImage, engine, seed };

  const node = (role: Role, rest: Pick<NodeSpec, "env" | "ports" | "volumes" | "dependsOn">): NodeSpec => ({
    role,
    name: `${prefix}-${role}`,
    hostname: role,
    image: roleImage(role, images),
    ...limitsOf(role, seed),
    restart: "unless-stopped",
    healthcheck: roleHealthcheck(role),
    accessCommand: sshCommand(role, playerKeyFile(stack), { host: "127.0.0.1", port: base + SSH_PORT_OFFSET }),
    ...rest,
  });

  const dbPort = datastorePort(engine);
  const nodes: NodeSpec[] = [
    node("datastore", {
      env: {},
      ports: [{ name: engine, internal: dbPort, host: base + PORT_OFFSETS.datastore }],
      volumes: [],
      dependsOn: [],
    }),
    node("backend", {
      env: {
        DB_ENGINE: engine,
        DB_HOST: "datastore",
        DB_PORT: String(dbPort),
        DB_USER: DB_CREDENTIALS.user,
        DB_PASSWORD: DB_CREDENTIALS.password,
        DB_NAME: DB_CREDENTIALS.database,
        PORT: String(INTERNAL_PORTS.backend),
      },
      ports: [{ name: "api", internal: INTERNAL_PORTS.backend, host: base + PORT_OFFSETS.backend }],
      volumes: [{ name: `${prefix}-uploads`, target: "/var/lib/drills/uploads" }],
      dependsOn: ["datastore"],
    }),
    node("proxy", {
      env: { BACKEND_HOST: "backend", BACKEND_PORT: String(INTERNAL_PORTS.backend), API_BASE: "" },
      ports: [
        { name: "http", internal: INTERNAL_PORTS.proxy, host: base + PORT_OFFSETS.proxy },
        { name: "ssh", internal: SSH_PORT, host: base + SSH_PORT_OFFSET },
      ],
      volumes: [],
      dependsOn: ["backend"],
    }),
  ];

  return {
    level: app.level,
    stack,
    target: options.target,
    engine,
    prefix,
    labels,
    networkName: `${prefix}-net`,
    nodes,
    actions:
      engine === "postgres" && isBigSeed(seed)
        ? [{ id: "datastore-own-files", node: "datastore", description: "the data files copied into the node's own layer", script: OWN_BIG_DATA_FILES }]
        : [],
    appUrl: `${originToken("proxy")}/`,
  };
}

/**
 * The filesystem a capped volume really gets on a host: ext4 where the host
 * can make ext4 volumes, tmpfs otherwise; undefined for a plain volume.
 */
export function volumeFilesystem(v: VolumeSpec, ext4Supported: boolean): VolumeFilesystem | undefined {
  if (!v.sizeMiB) return undefined;
  return v.filesystem === "ext4" && ext4Supported ? "ext4" : "tmpfs";
}

/**
 * Docker local-driver options of a volume made without ext4: a capped one is
 * a size-limited tmpfs (bounded by the cap, inside the node's memory limit).
 * An ext4 volume's options name the loop device the host attached for it,
 * known only then (driver/ext4Volume.ts ext4DriverOpts).
 */
export function volumeDriverOpts(v: VolumeSpec): Record<string, string> | undefined {
  return v.sizeMiB ? { type: "tmpfs", device: "tmpfs", o: `size=${v.sizeMiB}m,mode=1777` } : undefined;
}
