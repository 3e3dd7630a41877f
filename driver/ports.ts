import type Docker from "dockerode";
import * as fs from "fs";
import * as net from "net";
import { derivePort, PORT_BLOCKS } from "../plan/app";
import { PORTS_PER_STACK } from "../plan/config";
import { DrillsError } from "../plan/errors";
import { LABEL_MANAGED, LABEL_STACK } from "../plan/names";
import { LevelPlan } from "../plan/types";

/**
 * Host ports: before anything is created, every port a stack will publish on
 * 127.0.0.1 must be free. A derived base moves to the next free block (and
 * stays there while the stack exists: the network carries it in a label);
 * an explicit one is refused naming who holds the port.
 */

/** Label on a CLI stack's network: the base port `up` chose, reused by later commands while the stack exists. */
export const LABEL_BASE_PORT = "drills.basePort";

/** Derived bases: plan/app.ts PORT_BLOCKS, below the ephemeral port ranges. */
const FIRST_BASE = PORT_BLOCKS.first;
const SLOTS = PORT_BLOCKS.count;

/** True when nothing listens on 127.0.0.1:port (we can bind it ourselves; closed at once). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Every 127.0.0.1 port a plan publishes. */
export function publishedPorts(plan: Pick<LevelPlan, "nodes">): number[] {
  return plan.nodes.flatMap((n) => n.ports.map((p) => p.host));
}

/** The plan's base: its lowest published port (the proxy at base+0). */
export function planBase(plan: Pick<LevelPlan, "nodes">): number {
  return Math.min(...publishedPorts(plan));
}

/**
 * Candidate bases for a derived stack, in a fixed order: its own slot first,
 * then the following slots, wrapping around. Same stack, same order.
 */
export function* candidateBases(derived: number): Generator<number> {
  const slot = Math.floor((derived - FIRST_BASE) / PORTS_PER_STACK);
  for (let k = 0; k < SLOTS; k++) yield FIRST_BASE + ((slot + k) % SLOTS) * PORTS_PER_STACK;
}

/** Who holds a port on the engine: a container (and its stack, for drills stacks). */
export interface EngineHolder {
  container: string;
  stack?: string;
}

/** What the engine has claimed: ports bound by containers (running or not), and whole blocks reserved by stacks' labels. */
export interface EngineClaims {
  ports: Map<number, EngineHolder>;
  /** Base port of each CLI stack that recorded one. */
  bases: Map<string, number>;
}

/**
 * Ports the engine's containers publish (also stopped drills containers,
 * which take their ports back when started) and the blocks other stacks
 * recorded on their networks.
 */
export async function engineClaims(docker: Docker): Promise<EngineClaims> {
  const ports = new Map<number, EngineHolder>();
  const all = await docker.listContainers({ all: true });
  for (const c of all) {
    const holder: EngineHolder = { container: c.Names[0]?.replace(/^\//, "") ?? c.Id.slice(0, 12), stack: c.Labels[LABEL_STACK] };
    for (const p of c.Ports) if (p.PublicPort) ports.set(p.PublicPort, holder);
    if (c.State !== "running" && c.Labels[LABEL_MANAGED] === "true") {
      // A stopped container lists no ports; its bindings are in its config.
      const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
      for (const bindings of Object.values(info?.HostConfig.PortBindings ?? {}) as Array<Array<{ HostPort?: string }> | null>) {
        for (const b of bindings ?? []) if (b.HostPort) ports.set(Number(b.HostPort), holder);
      }
    }
  }
  const bases = new Map<string, number>();
  const nets = await docker.listNetworks({ filters: { label: [LABEL_BASE_PORT] } });
  for (const n of nets) {
    const stack = n.Labels?.[LABEL_STACK];
    const base = Number(n.Labels?.[LABEL_BASE_PORT]);
    if (stack && Number.isInteger(base)) bases.set(stack, base);
  }
  return { ports, bases };
}

/** The base port a running CLI stack recorded on its network, if any. */
export async function recordedBase(docker: Docker, stack: string): Promise<number | undefined> {
  const nets = await docker.listNetworks({ filters: { label: [`${LABEL_STACK}=${stack}`, LABEL_BASE_PORT] } });
  const base = Number(nets[0]?.Labels?.[LABEL_BASE_PORT]);
  return Number.isInteger(base) && base > 0 ? base : undefined;
}

/**
 * The process listening on a TCP port, from /proc/net/tcp{,6} and the
 * processes' fds: "python3 (pid 4242)". Undefined where /proc does not tell
 * (another user's process without root, another network namespace).
 */
export function processOnPort(port: number, proc = "/proc"): string | undefined {
  const inodes = new Set<string>();
  for (const table of ["net/tcp", "net/tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(`${proc}/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; st 0A is LISTEN; inode is field 9.
      if (f.length > 9 && f[3] === "0A" && parseInt(f[1].split(":")[1] ?? "", 16) === port) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[] = [];
  try {
    pids = fs.readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`${proc}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = fs.readlinkSync(`${proc}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) {
        let comm = "?";
        try {
          comm = fs.readFileSync(`${proc}/${pid}/comm`, "utf8").trim();
        } catch {
          // gone meanwhile: the pid still says who
        }
        return `${comm} (pid ${pid})`;
      }
    }
  }
  return undefined;
}

/** Who holds a port, in words: a container of the engine, else the process when /proc tells, else "another program". */
export function describeHolder(port: number, claims: EngineClaims): string {
  const c = claims.ports.get(port);
  if (c) return c.stack ? `container ${c.container} of drills stack ${c.stack}` : `container ${c.container}`;
  const p = processOnPort(port);
  return p ? `another program: ${p}` : "another program";
}

export interface PortRequest {
  stack: string;
  /** --base-port / drills:basePort when given: used as is, or refused. */
  explicit?: number;
  /** Offsets from the base of every port the stack publishes. */
  offsets: number[];
  /** Ports held by these containers' own stack are about to be removed (--recreate) or are this stack's own (a Pulumi update). */
  ownStackFree?: boolean;
  /** Say how to choose a port: the CLI flag or the Pulumi config key. */
  how?: "cli" | "pulumi";
}

export interface PortChoice {
  base: number;
  /** Set when the derived block was taken and another was chosen: why, for the user. */
  moved?: string;
}

/** Whether a port can be used by this stack: free to bind, or held by the stack itself. */
type PortTest = (port: number) => Promise<{ free: boolean }>;

/**
 * Pick the first block whose every port is usable, walking candidateBases.
 * Pure apart from the port test, so the order is unit-tested.
 */
export async function pickBase(
  derived: number,
  offsets: number[],
  reserved: (port: number) => boolean,
  test: PortTest,
  preferred?: number,
): Promise<number | undefined> {
  const order = preferred !== undefined ? [preferred, ...candidateBases(derived)] : candidateBases(derived);
  for (const base of order) {
    const ports = offsets.map((o) => base + o);
    if (ports.some((p) => p > 65535 || reserved(p))) continue;
    let ok = true;
    for (const p of ports) {
      if (!(await test(p)).free) {
        ok = false;
        break;
      }
    }
    if (ok) return base;
  }
  return undefined;
}

/** The base port this stack will publish from; throws a DrillsError when an explicit one is taken. */
export async function resolveBasePort(docker: Docker, req: PortRequest): Promise<PortChoice> {
  const claims = await engineClaims(docker);
  const mine = (port: number): boolean => !!req.ownStackFree && claims.ports.get(port)?.stack === req.stack;
  const usable = async (port: number): Promise<{ free: boolean }> => ({ free: mine(port) || (await portFree(port)) });

  if (req.explicit !== undefined) {
    for (const o of req.offsets) {
      const port = req.explicit + o;
      if ((await usable(port)).free) continue;
      throw portTakenError(port, req.explicit, describeHolder(port, claims), req, await suggestFree(docker, req, claims));
    }
    return { base: req.explicit };
  }

  // Blocks of other stacks (their recorded bases and any port their containers bind) are not ours to take.
  const reservedPorts = new Set<number>();
  for (const [stack, base] of claims.bases) {
    if (stack === req.stack) continue;
    for (let i = 0; i < PORTS_PER_STACK; i++) reservedPorts.add(base + i);
  }
  for (const [port, h] of claims.ports) if (h.stack !== req.stack || !req.ownStackFree) reservedPorts.add(port);
  const reserved = (p: number): boolean => reservedPorts.has(p) && !mine(p);

  const derived = derivePort(req.stack);
  const preferred = claims.bases.get(req.stack);
  const base = await pickBase(derived, req.offsets, reserved, usable, preferred);
  if (base === undefined) {
    throw new DrillsError(`No free block of ${PORTS_PER_STACK} ports between ${FIRST_BASE} and ${FIRST_BASE + SLOTS * PORTS_PER_STACK} on 127.0.0.1 for stack ${req.stack}. Pass ${flagName(req)} with a free port.`);
  }
  const first = preferred ?? derived;
  if (base === first) return { base };
  let taken = first + req.offsets[0];
  for (const p of req.offsets.map((o) => first + o)) {
    if (reserved(p) || !(await usable(p)).free) {
      taken = p;
      break;
    }
  }
  return { base, moved: `port ${taken} is taken by ${describeHolder(taken, claims)}; stack ${req.stack} uses ports ${base}-${base + Math.max(...req.offsets)} instead` };
}

function flagName(req: PortRequest): string {
  return req.how === "pulumi" ? "drills:basePort" : "--base-port";
}

async function suggestFree(docker: Docker, req: PortRequest, claims: EngineClaims): Promise<number | undefined> {
  const reserved = (p: number): boolean => claims.ports.has(p) || [...claims.bases.values()].some((b) => p >= b && p < b + PORTS_PER_STACK);
  return pickBase(derivePort(req.stack), req.offsets, reserved, async (p) => ({ free: await portFree(p) }));
}

function portTakenError(port: number, base: number, holder: string, req: PortRequest, free: number | undefined): DrillsError {
  const flag = flagName(req);
  const alt = free === undefined ? "" : ` (${free} is free)`;
  // The CLI picks a free block when --base-port is unset; Pulumi's ports are the stack's config, so only another value helps there.
  const unset = req.how === "pulumi" ? "" : `, or leave ${flag} unset so drills picks a free block`;
  return new DrillsError(
    `Port ${port} on 127.0.0.1 is taken by ${holder}, and stack ${req.stack} needs it (${flag} ${base} publishes ports ` +
      `${[...req.offsets].sort((a, b) => a - b).map((o) => base + o).join(", ")}). Nothing was created. Stop what holds it or choose another ${flag}${alt}${unset}.`,
  );
}

/**
 * The last check before anything is created (CLI and Pulumi): every port the
 * plan publishes is free, or already this stack's own.
 */
export async function requirePortsFree(docker: Docker, plan: LevelPlan, how: "cli" | "pulumi", ownStackFree = false): Promise<void> {
  const base = planBase(plan);
  await resolveBasePort(docker, { stack: plan.stack, explicit: base, offsets: publishedPorts(plan).map((p) => p - base), ownStackFree, how });
}
