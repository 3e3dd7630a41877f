import * as crypto from "crypto";
import { applyFaults } from "../faults";
import { LevelDefinition } from "../levels/types";
import { originToken } from "./endpoints";
import { LevelOptions, PORTS_PER_STACK } from "./options";
import { roleImage } from "./images";
import { Engine, HealthcheckSpec, LevelPlan, NodeSpec, Role, SeedSize, VolumeSpec } from "./types";

/** Label keys on every resource a level creates; `down` selects by them. */
export const LABEL_MANAGED = "drills.managed";
export const LABEL_LEVEL = "drills.level";
export const LABEL_STACK = "drills.stack";

/** Ports inside the nodes. */
export const INTERNAL_PORTS = { proxy: 80, backend: 3000, postgres: 5432, mysql: 3306 } as const;

/** Offsets from the stack's base port on 127.0.0.1. */
export const PORT_OFFSETS: Record<Role, number> = { proxy: 0, backend: 1, datastore: 2 };

/** Default limits: small enough that a level at rest stays well under 600 MiB. */
export const LIMITS: Record<Role, { memoryMiB: number; cpus: number; shmMiB: number }> = {
  proxy: { memoryMiB: 128, cpus: 0.5, shmMiB: 64 },
  backend: { memoryMiB: 256, cpus: 0.5, shmMiB: 64 },
  datastore: { memoryMiB: 512, cpus: 1, shmMiB: 256 },
};

/** Credentials baked into the training datastore image (not a secret: a lab). */
export const DB_CREDENTIALS = { user: "drills", password: "drills", database: "drills" } as const;

/**
 * A base port in 20000..59990 derived from the stack name, so two stacks get
 * different ports without coordination. drills:basePort overrides it.
 */
export function derivePort(stack: string): number {
  const n = crypto.createHash("sha256").update(stack).digest().readUInt32BE(0);
  return 20000 + (n % 4000) * PORTS_PER_STACK;
}

function healthcheck(startPeriodSeconds: number): HealthcheckSpec {
  return {
    command: ["CMD", "/usr/local/bin/drills-health"],
    intervalSeconds: 2,
    timeoutSeconds: 5,
    retries: 30,
    startPeriodSeconds,
  };
}

export function datastorePort(engine: Engine): number {
  return engine === "postgres" ? INTERNAL_PORTS.postgres : INTERNAL_PORTS.mysql;
}

/** The healthy app for a level: three nodes, no fault. */
export function basePlan(level: LevelDefinition, options: LevelOptions): LevelPlan {
  const stack = options.stack;
  const prefix = `drills-${stack}`;
  const engine = level.engine;
  const seed: SeedSize = { ...level.seed, ...options.seed };
  const base = options.basePort ?? derivePort(stack);
  const labels = { [LABEL_MANAGED]: "true", [LABEL_LEVEL]: level.id, [LABEL_STACK]: stack };
  const images = { baseImage: options.baseImage, engine, seed };

  const node = (role: Role, rest: Omit<NodeSpec, "role" | "name" | "hostname" | "image" | "memoryMiB" | "cpus" | "shmMiB" | "restart" | "accessCommand">): NodeSpec => ({
    role,
    name: `${prefix}-${role}`,
    hostname: role,
    image: roleImage(role, images),
    ...LIMITS[role],
    restart: "unless-stopped",
    accessCommand: `docker exec -it ${prefix}-${role} bash`,
    ...rest,
  });

  const dbPort = datastorePort(engine);
  const nodes: NodeSpec[] = [
    node("datastore", {
      env: {},
      ports: [{ name: engine, internal: dbPort, host: base + PORT_OFFSETS.datastore }],
      volumes: [],
      healthcheck: healthcheck(30),
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
      healthcheck: healthcheck(60),
      dependsOn: ["datastore"],
    }),
    node("proxy", {
      env: { BACKEND_HOST: "backend", BACKEND_PORT: String(INTERNAL_PORTS.backend), API_BASE: "" },
      ports: [{ name: "http", internal: INTERNAL_PORTS.proxy, host: base + PORT_OFFSETS.proxy }],
      volumes: [],
      healthcheck: healthcheck(20),
      dependsOn: ["backend"],
    }),
  ];

  return {
    level: level.id,
    title: level.title,
    stack,
    target: options.target,
    engine,
    prefix,
    labels,
    networkName: `${prefix}-net`,
    nodes,
    actions: [],
    appUrl: `${originToken("proxy")}/`,
  };
}

/** The plan of a level: the base app with the level's faults applied in order. */
export function buildPlan(level: LevelDefinition, options: LevelOptions): LevelPlan {
  return applyFaults(basePlan(level, options), level.faults);
}

export function nodeOf(plan: LevelPlan, role: Role): NodeSpec {
  const n = plan.nodes.find((x) => x.role === role);
  if (!n) throw new Error(`plan ${plan.stack} has no ${role} node`);
  return n;
}

/**
 * Docker volume driver options: a capped volume is a size-limited tmpfs, so
 * whatever fills it is bounded by the cap and lives inside the node's memory limit.
 */
export function volumeDriverOpts(v: VolumeSpec): Record<string, string> | undefined {
  return v.sizeMiB ? { type: "tmpfs", device: "tmpfs", o: `size=${v.sizeMiB}m,mode=1777` } : undefined;
}
