import Docker from "dockerode";
import { stageImage } from "../images/context";
import { volumeDriverOpts, volumeFilesystem } from "../plan/app";
import { DrillsError, isDrillsError } from "../plan/errors";
import { Deployer, deployedBy, LABEL_DEPLOYER, LABEL_GAME, LABEL_LEVEL, LABEL_MANAGED, LABEL_ROLE, LABEL_STACK, downCommand, isGamePlan, nodeOf, upCommand } from "../plan/names";
import { readinessSeconds } from "../plan/recipe";
import { ActionSpec, LevelPlan, NodeSpec, VolumeFilesystem, VolumeSpec } from "../plan/types";
import { connect, dockerProblem, exec, ignoreGone } from "./engine";
import { attachExt4Image, detachExt4Image, ext4VolumesSupported } from "./ext4Volume";
import { buildImage, ensureBaseImage, Log } from "./images";
import { ensureLxcfs, lxcfsDockerMounts, nprocEnv } from "./lxcfs";
import { installPlayerKey } from "./playerKey";
import { describeHolder, engineClaims, LABEL_BASE_PORT, planBase, requirePortsFree } from "./ports";

/**
 * The Docker deployer (the CLI's driver): deploys a level plan on the local
 * Docker engine without Pulumi, with the same names, labels, limits, ports
 * and healthchecks as components/dockerTarget.ts.
 */

export interface UpOptions {
  log?: Log;
  /** Remove an existing deployment of the same stack first. */
  recreate?: boolean;
  /**
   * Log what each fault action does (instructors). Off by default: what `up`
   * prints is player-visible and must not give the cause away.
   */
  revealFaults?: boolean;
  /** On a failure, leave what this `up` created for a look instead of removing it. */
  keepOnFailure?: boolean;
  /** The stack's SSH public key: the player's user on every node accepts it (runtime/sshKeys.ts). */
  playerKey?: string;
}

export interface UpResult {
  stack: string;
  appUrl: string;
  apiUrl?: string;
  /** Seconds from the first container created to all nodes healthy and actions run. */
  readySeconds: number;
  buildSeconds: number;
}

const NS = 1_000_000_000;

function stackFilter(stack: string): Record<string, string[]> {
  return { label: [`${LABEL_STACK}=${stack}`] };
}

/** What the Docker host offers the nodes. */
export interface HostView {
  /** lxcfs serves per-container /proc views (driver/lxcfs.ts): mount them so free/top/uptime tell the truth. */
  lxcfs: boolean;
}

/** The node's CPU quota: NanoCpus (100 ms periods), or a quota over its own period. */
function cpuLimit(n: NodeSpec): Docker.HostConfig {
  if (!n.cpuPeriodMs) return { NanoCpus: Math.round(n.cpus * NS) };
  const period = n.cpuPeriodMs * 1000;
  return { CpuPeriod: period, CpuQuota: Math.round(n.cpus * period) };
}

/** Container settings of a node; `image` is its built tag (images/context.ts). */
export function createOptions(n: NodeSpec, plan: LevelPlan, image: string, host: HostView): Docker.ContainerCreateOptions {
  const ports = Object.fromEntries(n.ports.map((p) => [`${p.internal}/tcp`, [{ HostIp: "127.0.0.1", HostPort: String(p.host) }]]));
  return {
    name: n.name,
    Hostname: n.hostname,
    Image: image,
    // nproc counts the CPUs it may run on, not the quota; OMP_NUM_THREADS makes it tell the node's.
    Env: [...Object.entries(n.env).map(([k, v]) => `${k}=${v}`), ...nprocEnv(n.cpus)],
    Labels: { ...plan.labels, [LABEL_ROLE]: n.role },
    ExposedPorts: Object.fromEntries(n.ports.map((p) => [`${p.internal}/tcp`, {}])),
    Healthcheck: {
      Test: n.healthcheck.command,
      Interval: n.healthcheck.intervalSeconds * NS,
      Timeout: n.healthcheck.timeoutSeconds * NS,
      Retries: n.healthcheck.retries,
      StartPeriod: n.healthcheck.startPeriodSeconds * NS,
      // Docker >= 25 probes this often until the first success (older engines ignore it).
      StartInterval: n.healthcheck.startIntervalSeconds * NS,
    },
    HostConfig: {
      Memory: n.memoryMiB * 1024 * 1024,
      MemorySwap: n.memoryMiB * 1024 * 1024,
      ...cpuLimit(n),
      ShmSize: n.shmMiB * 1024 * 1024,
      PortBindings: ports,
      RestartPolicy: { Name: n.restart },
      Mounts: [
        ...n.volumes.map((v) => ({ Type: "volume" as const, Source: v.name, Target: v.target })),
        ...(host.lxcfs ? lxcfsDockerMounts() : []),
      ],
      NetworkMode: plan.networkName,
    },
    NetworkingConfig: { EndpointsConfig: { [plan.networkName]: { Aliases: [n.hostname] } } },
  };
}

/** What waiting on a node needs: its container, role and healthcheck. */
export type NodeRef = Pick<NodeSpec, "name" | "role" | "healthcheck">;

/** Wait until a started node is healthy, within the plan's readiness budget; a clear error with its last log lines otherwise. */
export async function waitHealthy(docker: Docker, n: NodeRef): Promise<void> {
  const limitMs = readinessSeconds(n.healthcheck) * 1000;
  const deadline = Date.now() + limitMs;
  const c = docker.getContainer(n.name);
  for (;;) {
    const info = await c.inspect();
    const health = info.State.Health?.Status;
    if (health === "healthy") return;
    // Docker runs the first probe only after one interval; run the same
    // command ourselves meanwhile so a ready node is seen at once.
    if (info.State.Running && health === "starting") {
      const probe = await exec(docker, n.name, n.healthcheck.command.slice(1)).catch(() => undefined);
      if (probe?.code === 0) return;
    }
    if (!info.State.Running || health === "unhealthy" || Date.now() > deadline) {
      const probe = info.State.Health?.Log?.slice(-1)[0]?.Output?.trim() ?? "";
      const logs = demuxLogs((await c.logs({ stdout: true, stderr: true, tail: 15 })) as unknown as Buffer);
      throw new DrillsError(
        `Node ${n.role} (${n.name}) did not become healthy${info.State.Running && health !== "unhealthy" ? ` within ${limitMs / 1000} s` : ""}: state ${info.State.Status}, health ${health ?? "none"}` +
          `${probe ? `, last probe: ${probe}` : ""}.\nLast log lines:\n${logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What a stack has on the engine, selected by its label. */
export async function stackResources(docker: Docker, stack: string) {
  const filters = stackFilter(stack);
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return { containers, networks, volumes: volumes.Volumes ?? [] };
}

/**
 * Refuse to touch a stack another deployer manages: `drills down` must not
 * delete Pulumi's containers behind its back, nor `pulumi up` the CLI's.
 */
export async function requireDeployer(docker: Docker, stack: string, me: Deployer): Promise<void> {
  const r = await stackResources(docker, stack);
  const labels = [...r.containers.map((c) => c.Labels), ...r.networks.map((n) => n.Labels ?? {}), ...r.volumes.map((v) => v.Labels ?? {})];
  const other = labels.map((l) => l[LABEL_DEPLOYER]).find((d) => d !== undefined && d !== me);
  if (!other) return;
  throw new DrillsError(
    other === "pulumi"
      ? `Stack ${stack} on this engine is managed by Pulumi. Use \`pulumi destroy --stack ${stack}\` to remove it ` +
          "(drills check, hint and solve work on it as they are), or give this command another --stack."
      : `Stack ${stack} on this engine was started by \`drills up\`. Remove it with \`npx drills down <level> --stack ${stack}\` ` +
          "before deploying it with Pulumi, or use another stack name.",
  );
}

export async function up(level: LevelPlan, opts: UpOptions = {}): Promise<UpResult> {
  const plan = deployedBy(level, "cli");
  const log = opts.log ?? (() => undefined);
  const docker = await connect();

  await requireDeployer(docker, plan.stack, "cli");
  const existing = await stackResources(docker, plan.stack);
  if (existing.containers.length + existing.networks.length + existing.volumes.length > 0) {
    if (!opts.recreate) {
      throw new DrillsError(
        `Stack ${plan.stack} already has resources on this engine (${existing.containers.length} containers, ` +
          `${existing.networks.length} networks, ${existing.volumes.length} volumes). ` +
          `Run \`${downCommand(plan)}\` first, ${isGamePlan(plan) ? "then \`drills play\` again" : "or pass --recreate"}.`,
      );
    }
    await removeStack(docker, plan.stack, log);
  }

  // Before anything is created: every port the stack publishes must be free.
  await requirePortsFree(docker, plan, "cli");

  // Where `up` is, for the paragraph a failure prints.
  const progress: { step: UpStep } = { step: { kind: "build", what: "preparing the base image" } };
  try {
    return await deploy(docker, plan, opts, log, progress);
  } catch (e) {
    throw await failedUp(docker, plan, progress.step, e, opts, log);
  }
}

/** Build, create and start everything of a stack that has nothing yet; `progress` says where it is. */
async function deploy(docker: Docker, plan: LevelPlan, opts: UpOptions, log: Log, progress: { step: UpStep }): Promise<UpResult> {
  const buildStart = Date.now();
  const baseImages = new Set(plan.nodes.map((n) => n.image.buildArgs.BASE_IMAGE).filter((b): b is string => !!b));
  for (const b of baseImages) await ensureBaseImage(docker, b, log);
  const tags = new Map<string, string>();
  for (const n of plan.nodes) {
    progress.step = { kind: "build", what: `building the ${n.role} image`, node: n };
    const staged = stageImage(n.image);
    tags.set(n.role, staged.tag);
    await buildImage(docker, staged, log);
  }
  const buildSeconds = (Date.now() - buildStart) / 1000;

  const host: HostView = { lxcfs: ensureLxcfs(log) };
  const started = Date.now();
  log(`creating network ${plan.networkName}`);
  progress.step = { kind: "create", what: "creating the network" };
  // The base port rides on the network, so later commands and other stacks see this stack's block while it exists.
  const netLabels = { ...plan.labels, [LABEL_BASE_PORT]: String(planBase(plan)) };
  await docker.createNetwork({ Name: plan.networkName, Driver: "bridge", Labels: netLabels, CheckDuplicate: true });
  for (const n of plan.nodes) {
    for (const v of n.volumes) await createVolume(docker, v, plan.labels);
  }
  // Every node at once, then one wait for all: each role waits itself for
  // what it needs (the backend retries its database for 30 s, nginx resolves
  // the backend per request), so ready is the slowest node, not the sum.
  const startedAt = Date.now();
  const failedNode = (n: NodeSpec) => (progress.step = { kind: "start", what: `starting node ${n.role} (${n.name})`, node: n });
  progress.step = { kind: "start", what: "starting the nodes" };
  // Create every container, then start every one; each step ends once all
  // its calls have returned, so a cleanup never misses a container being made.
  const settled = async <T>(what: (n: NodeSpec, i: number) => Promise<T>): Promise<T[]> => {
    const r = await Promise.allSettled(plan.nodes.map(what));
    const i = r.findIndex((x) => x.status === "rejected");
    if (i >= 0) {
      failedNode(plan.nodes[i]);
      throw (r[i] as PromiseRejectedResult).reason;
    }
    return r.map((x) => (x as PromiseFulfilledResult<T>).value);
  };
  const containers = await settled((n) => docker.createContainer(createOptions(n, plan, tags.get(n.role) as string, host)));
  await settled(async (n, i) => {
    log(`starting ${n.name}`);
    await containers[i].start();
  });
  let failed = false;
  await Promise.all(
    plan.nodes.map(async (n) => {
      try {
        await waitHealthy(docker, n);
      } catch (e) {
        // The first node to fail is the one the error names.
        if (!failed) failedNode(n);
        failed = true;
        throw e;
      }
      log(`${n.role} healthy after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    }),
  );
  if (opts.playerKey) {
    progress.step = { kind: "create", what: "installing the stack's SSH key" };
    await installPlayerKey(docker, plan, opts.playerKey);
  }
  log("finishing the level's setup");
  progress.step = { kind: "setup", what: "finishing the level's setup" };
  await runActions(docker, plan, plan.actions, opts.revealFaults ? log : () => undefined, (a) => {
    const node = nodeOf(plan, a.node);
    progress.step = { kind: "setup", what: `finishing the level's setup on node ${node.role} (${node.name})`, node };
  });
  return {
    stack: plan.stack,
    appUrl: plan.appUrl,
    apiUrl: plan.apiUrl,
    readySeconds: (Date.now() - started) / 1000,
    buildSeconds,
  };
}

/** Where `up` was when it failed. */
export interface UpStep {
  kind: "build" | "create" | "start" | "setup";
  what: string;
  node?: NodeSpec;
}

/** The engine's log of a container without the stream framing (8-byte headers when there is no TTY). */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && buf[i] <= 2 && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return (i === buf.length ? Buffer.concat(parts) : buf).toString("utf8");
}

/** The last lines of a node's container log; "" when it has none (or no container yet). */
async function lastLogLines(docker: Docker, container: string, lines = 10): Promise<string> {
  try {
    const raw = (await docker.getContainer(container).logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    return demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).trimEnd();
  } catch {
    return "";
  }
}

const indent = (text: string): string =>
  text
    // Build output colours stderr with terminal escapes.
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-12)
    .map((l) => `    ${l}`)
    .join("\n");

/**
 * One paragraph for a failed `up` (what failed, on which node, its last log
 * lines, what to do) after removing what this `up` created, or keeping it
 * with --keep-on-failure. Only called once the stack had nothing of its own
 * (a fresh stack, or --recreate removed it), so all it has now is ours.
 */
async function failedUp(docker: Docker, plan: LevelPlan, step: UpStep, err: unknown, opts: UpOptions, log: Log): Promise<DrillsError> {
  // Our own errors (build output, health) are already worded; only raw engine errors are classified.
  const problem = isDrillsError(err) ? ({ kind: "other", detail: err.message } as const) : dockerProblem(err);
  // A game is started again with `drills play` (a new game id; the failed one never reached the record).
  const game = isGamePlan(plan);
  const again = `\`${upCommand(plan)}\``;
  const down = `\`${downCommand(plan)}\``;
  const message = isDrillsError(err) ? err.message : problem.detail;
  // Build and health errors carry their own output tail; others get the node's container log.
  const [headline, ...tailParts] = message.split(/\n--- last output ---\n|\nLast log lines:\n/);
  let tail = tailParts.join("\n");
  let cause = headline.trim().replace(/\.$/, "");
  if (step.kind === "setup" && !opts.revealFaults) {
    // A setup script's own words may give the level away: say where, not what.
    const code = /exit (-?\d+)/.exec(message)?.[1];
    cause = `a setup script exited with an error${code ? ` (exit ${code})` : ""}; instructors see it with --show-faults`;
    tail = "";
  }
  if (!tail && step.node && step.kind !== "build") tail = await lastLogLines(docker, step.node.name);

  let remedy: string;
  switch (problem.kind) {
    case "port": {
      const claims = await engineClaims(docker).catch(() => ({ ports: new Map(), bases: new Map() }));
      // Our own node's container claims the port it failed to get: the holder is someone else.
      for (const [port, h] of claims.ports) if (h.stack === plan.stack) claims.ports.delete(port);
      const holder = problem.port ? describeHolder(problem.port, claims) : "";
      remedy =
        `Port ${problem.port ?? "?"} on 127.0.0.1 was taken${holder ? ` by ${holder}` : ""} after drills checked it. ` +
        (game ? `Stop what holds it and run ${again} again.` : `Stop what holds it, or pass --base-port with a free port, and run ${again} again.`);
      break;
    }
    case "engine":
      remedy = "The Docker engine stopped answering: start it again (e.g. `sudo systemctl start docker`), then run " +
        `${down} and ${again}.`;
      break;
    case "gone":
      remedy = `Something removed part of the stack while \`up\` ran (\`docker rm\`, or the engine restarting): run ${again} again.`;
      break;
    case "conflict":
      remedy = "A container, network or volume of the same name exists outside this stack: remove it (`docker rm -f NAME`, " +
        `\`docker network rm NAME\`) or pass another --stack, then run ${again} again.`;
      break;
    default:
      remedy =
        step.kind === "build"
          ? `Fix what the build output says (images that did build are kept), then run ${again} again.`
          : game
            ? `Run ${again} again if the host was just busy; if it fails the same way, show this message to an instructor.`
            : `Run ${again} again if the host was just busy; if it fails the same way, ${opts.keepOnFailure ? "" : "add --keep-on-failure and "}` +
              `look at the node (${step.node ? `\`docker logs ${step.node.name}\`, ` : ""}\`docker exec -it ${step.node?.name ?? "CONTAINER"} bash\`).`;
  }

  let cleanup: string;
  if (opts.keepOnFailure) {
    cleanup = `Kept what this up created (--keep-on-failure): remove it with ${down}.`;
  } else {
    try {
      const r = await removeStack(docker, plan.stack, log);
      const n = r.containers + r.networks + r.volumes;
      cleanup = n === 0
        ? `Nothing of stack ${plan.stack} had been created.`
        : `Removed what this up had created (${r.containers} containers, ${r.networks} networks, ${r.volumes} volumes): nothing of stack ${plan.stack} is left.`;
    } catch (e) {
      cleanup = `Could not remove what it created (${dockerProblem(e).detail}): run ${down} once Docker answers.`;
    }
  }

  const logs = tail ? `\nLast lines of ${step.kind === "build" ? "the build output" : `${step.node?.name ?? "its"} log`}:\n${indent(tail)}\n` : " ";
  const out = new DrillsError(
    `${game ? `\`drills play\` (game ${plan.stack})` : `\`drills up ${plan.level}\` (stack ${plan.stack})`} failed while ${step.what}: ${cause}.${logs}${cleanup} ${remedy}`,
  );
  // DRILLS_DEBUG=1 prints the original error's stack.
  return Object.assign(out, { cause: err });
}

/** A volume as created on this host. */
export interface CreatedVolume {
  name: string;
  /** ext4 or tmpfs for a capped volume (ext4 falls back to tmpfs), undefined for a plain one. */
  filesystem?: VolumeFilesystem;
  driverOpts?: Record<string, string>;
}

/**
 * Create a plan volume (both renderers). A capped ext4 one first gets its
 * sparse image and loop device on the host (driver/ext4Volume.ts); where the
 * host cannot make those it is a tmpfs of the same size.
 */
export async function createVolume(docker: Docker, v: VolumeSpec, labels: Record<string, string>): Promise<CreatedVolume> {
  const filesystem = volumeFilesystem(v, v.filesystem === "ext4" && ext4VolumesSupported());
  if (filesystem !== "ext4") {
    const driverOpts = volumeDriverOpts(v);
    await docker.createVolume({ Name: v.name, Labels: labels, DriverOpts: driverOpts });
    return { name: v.name, filesystem, driverOpts };
  }
  const img = attachExt4Image(v.name, v.sizeMiB as number);
  try {
    await docker.createVolume({ Name: v.name, Labels: labels, DriverOpts: img.driverOpts });
  } catch (e) {
    detachExt4Image(v.name);
    throw e;
  }
  return { name: v.name, filesystem, driverOpts: img.driverOpts };
}

/**
 * Remove a volume (its containers removed first), and for an ext4 one its
 * loop device and image file too: `docker volume rm` alone leaves both.
 * Idempotent.
 */
export async function removeVolume(docker: Docker, name: string): Promise<void> {
  await docker
    .getVolume(name)
    .remove({ force: true })
    .catch(ignoreGone);
  detachExt4Image(name);
}

/** Create and start a node's container, then wait until it is healthy (Pulumi's container resource; the CLI does the same for all nodes at once). */
export async function startNode(docker: Docker, options: Docker.ContainerCreateOptions, n: NodeRef): Promise<string> {
  const c = await docker.createContainer(options);
  await c.start();
  await waitHealthy(docker, n);
  return c.id;
}

/** Run scripts on nodes in order (fault actions at up, reference solutions at solve). */
export async function runActions(docker: Docker, plan: LevelPlan, actions: ActionSpec[], log: Log, onAction?: (a: ActionSpec) => void): Promise<void> {
  for (const a of actions) {
    const node = nodeOf(plan, a.node);
    onAction?.(a);
    log(`${a.id}: ${a.description}`);
    const r = await exec(docker, node.name, ["bash", "-s"], a.script);
    if (r.code !== 0) {
      throw new DrillsError(`Action ${a.id} on ${node.name} failed (exit ${r.code}):\n${r.stderr || r.stdout}`);
    }
  }
}

/** Fail clearly when the stack is not (fully) running. */
export async function requireRunning(docker: Docker, plan: LevelPlan): Promise<void> {
  const r = await stackResources(docker, plan.stack);
  const running = new Set(r.containers.filter((c) => c.State === "running").map((c) => c.Names[0]?.replace(/^\//, "")));
  const missing = plan.nodes.filter((n) => !running.has(n.name)).map((n) => n.role);
  if (missing.length > 0) {
    throw new DrillsError(
      isGamePlan(plan)
        ? `Game ${plan.stack} is not running on this engine (not running: ${missing.join(", ")}). ` +
            `End it with \`drills end --game ${plan.stack}\` (or \`drills give-up\`), then start another with \`drills play\`.`
        : `Level ${plan.level} is not running on this engine (stack ${plan.stack}; not running: ${missing.join(", ")}). ` +
            `Start it with \`${upCommand(plan)}\`.`,
    );
  }
}

export interface DownResult {
  containers: number;
  networks: number;
  volumes: number;
}

async function removeStack(docker: Docker, stack: string, log: Log): Promise<DownResult> {
  const r = await stackResources(docker, stack);
  for (const c of r.containers) {
    log(`removing container ${c.Names[0]?.replace(/^\//, "") ?? c.Id}`);
    await docker.getContainer(c.Id).remove({ force: true, v: true });
  }
  for (const n of r.networks) {
    log(`removing network ${n.Name}`);
    await docker.getNetwork(n.Id).remove();
  }
  for (const v of r.volumes) {
    log(`removing volume ${v.Name}`);
    await removeVolume(docker, v.Name);
  }
  return { containers: r.containers.length, networks: r.networks.length, volumes: r.volumes.length };
}

/**
 * Remove everything a stack created, and only that: selection is by the
 * drills.stack label, so it also cleans up after an interrupted `up`.
 */
export async function down(stack: string, log: Log = () => undefined): Promise<DownResult> {
  const docker = await connect();
  await requireDeployer(docker, stack, "cli");
  return removeStack(docker, stack, log);
}

export interface StackStatus {
  stack: string;
  /** The level's id; absent on a game's stack (the engine never names a game's level). */
  level?: string;
  /** The neutral game id on a game's stack. */
  game?: string;
  nodes: Array<{ role: string; container: string; state: string; health: string; ports: string[] }>;
}

/** Every drills stack on the engine, with each node's state and health. */
export async function status(): Promise<StackStatus[]> {
  const docker = await connect();
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] } });
  const stacks = new Map<string, StackStatus>();
  for (const c of list) {
    const stack = c.Labels[LABEL_STACK] ?? "?";
    const level = c.Labels[LABEL_LEVEL];
    const game = c.Labels[LABEL_GAME];
    const s = stacks.get(stack) ?? { stack, ...(level ? { level } : {}), ...(game ? { game } : {}), nodes: [] };
    const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1] ?? "none";
    s.nodes.push({
      role: c.Labels[LABEL_ROLE] ?? "?",
      container: c.Names[0]?.replace(/^\//, "") ?? c.Id,
      state: c.State,
      health,
      ports: c.Ports.filter((p) => p.PublicPort).map((p) => `${p.IP}:${p.PublicPort}->${p.PrivatePort}`),
    });
    stacks.set(stack, s);
  }
  return Array.from(stacks.values()).sort((a, b) => a.stack.localeCompare(b.stack));
}
