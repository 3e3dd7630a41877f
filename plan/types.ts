/**
 * The level plan: pure data describing everything a level needs. It is made
 * once (plan/build.ts) and rendered by every target: the Pulumi Docker
 * component, the real-run driver, later the AWS component. A field that a
 * renderer ignores is a bug, so renderers are tested field by field.
 */

/** The three node roles. Each has one provisioning script in roles/<role>/. */
export type Role = "proxy" | "backend" | "datastore";

/** Datastore engines: PostgreSQL 15 or MariaDB 10.11, both from Debian 12. */
export type Engine = "postgres" | "mysql";

/** Where a level is provisioned. */
export type Target = "docker" | "aws";

/** How much data the datastore image is built with. */
export interface SeedSize {
  users: number;
  invoices: number;
}

/**
 * A role image recipe: what its build reads and its parameters. Pure data;
 * the content hash (the image tag) is computed where images are built
 * (images/context.ts), so planning never reads files.
 */
export interface ImageSpec {
  role: Role;
  /**
   * Repository-relative files and folders the build reads: the ONE list the
   * Docker build context, the Pulumi image and the AWS role bundle are made of.
   */
  inputs: string[];
  /** Dockerfile, relative to the repository root (one of the inputs). */
  dockerfile: string;
  buildArgs: Record<string, string>;
}

/** A port published on 127.0.0.1 only: players and tests reach nodes there. */
export interface PortSpec {
  name: string;
  internal: number;
  /** Host port on 127.0.0.1, derived from the stack so levels run side by side. */
  host: number;
}

/**
 * How a capped volume is made: "ext4", a real filesystem of its own (a sparse
 * image on the host's disk, loop-mounted: driver/ext4Volume.ts), or "tmpfs",
 * in memory, counted against the node's memory limit. ext4 falls back to
 * tmpfs where the host cannot make ext4 volumes (not root, no losetup).
 */
export type VolumeFilesystem = "ext4" | "tmpfs";

/** A named volume owned by the level (labelled, removed on down). */
export interface VolumeSpec {
  name: string;
  target: string;
  /**
   * Cap in MiB: the volume is a filesystem of exactly this size owned by the
   * level, so a fault that fills it can never fill the host's disk. Unset: a
   * plain volume.
   */
  sizeMiB?: number;
  /** Filesystem of a capped volume (default tmpfs). */
  filesystem?: VolumeFilesystem;
}

export interface HealthcheckSpec {
  /** Exec form, as Docker's HEALTHCHECK CMD takes it. */
  command: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
  /** Probe interval during the start period, until the first success (Docker >= 25; older engines use intervalSeconds). */
  startIntervalSeconds: number;
}

export interface NodeSpec {
  role: Role;
  /** Container name (Docker) or Name tag (AWS): <prefix>-<role>. */
  name: string;
  /** Hostname inside the level network; other nodes reach it by this name. */
  hostname: string;
  image: ImageSpec;
  env: Record<string, string>;
  ports: PortSpec[];
  volumes: VolumeSpec[];
  /** Hard memory limit. */
  memoryMiB: number;
  /** CPU limit in cores (fractions allowed). */
  cpus: number;
  /**
   * Length of the scheduler's quota period in ms (Linux CFS; 100 by
   * default). The node may use `cpus` x this per period; a node that spends
   * its quota early waits for the next period, so a longer period makes
   * that wait longer.
   */
  cpuPeriodMs?: number;
  /** Size of /dev/shm (PostgreSQL's parallel workers and index builds use it). */
  shmMiB: number;
  restart: "no" | "on-failure" | "unless-stopped" | "always";
  healthcheck: HealthcheckSpec;
  /**
   * Nodes this one needs healthy to become healthy itself. Each role retries
   * them at start, so the Docker renderers start every node at once.
   */
  dependsOn: Role[];
  /** The command a player runs to get a shell on this node. */
  accessCommand: string;
}

/** A script run on a node after every node is healthy (fault actions). */
export interface ActionSpec {
  id: string;
  node: Role;
  description: string;
  /** Bash script run as root on the node (docker exec, or SSH on AWS). */
  script: string;
}

export interface LevelPlan {
  level: string;
  stack: string;
  target: Target;
  engine: Engine;
  /** Prefix of every resource name: drills-<stack>. */
  prefix: string;
  /** Put on every container, network and volume; `down` selects by them. */
  labels: Record<string, string>;
  networkName: string;
  nodes: NodeSpec[];
  actions: ActionSpec[];
  /** The front end as a player opens it (may hold {{origin:role}} placeholders; see plan/endpoints.ts). */
  appUrl: string;
  /** The API's own origin, when it differs from appUrl's. */
  apiUrl?: string;
}
