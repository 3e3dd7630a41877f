// Speed and footprint of the levels on the local Docker engine, against the
// design targets; writes bench/results.md and bench/results.json.
// Usage: npm run bench [-- level ...] [--runs 3] [--pulumi baseline|all|none] [--no-cold] [--no-shortcuts] [--out DIR]
import { spawnSync } from "child_process";
import { Command } from "commander";
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planFor } from "../cli/plan";
import { down, stackResources, up } from "../driver/deployer";
import { connect, follow, imageExists } from "../driver/engine";
import { isBigSeed } from "../plan/app";
import { buildImage } from "../driver/images";
import { stageImage } from "../images/context";
import { repoRoot } from "../images/repo";
import { getLevel, levelIds } from "../levels";
import { LABEL_ROLE } from "../plan/names";
import { DEFAULT_BASE_IMAGE } from "../plan/options";
import { LevelPlan, Role } from "../plan/types";
import { lifecycle, LifecycleResult } from "../smoke/lifecycle";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The design targets (issue: nightly smoke and benchmark). */
const TARGET = {
  warmReadySeconds: 4,
  restMiB: 128,
  fullLifecycleMinutes: 30,
  slowDatastoreImageBytes: GiB,
  listMs: 150,
  listMiB: 80,
};

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (n: number, d = 1) => Number(n.toFixed(d));
const verdict = (ok: boolean) => (ok ? "pass" : "FAIL");
const load = () => os.loadavg().map((l) => round(l, 2));

// --- memory -----------------------------------------------------------------

interface MemStats {
  usage: number;
  /** Kernel's high-water mark (cgroup v1 memory.max_usage_in_bytes: includes page cache); absent on cgroup v2. */
  max_usage?: number;
  stats?: { inactive_file?: number; total_inactive_file?: number; active_file?: number; total_active_file?: number };
}

/** A page-cache counter of the cgroup: v1 names it total_<name> (the subtree), v2 <name>. */
function fileStat(m: MemStats, name: "inactive_file" | "active_file"): number {
  return m.stats?.[`total_${name}`] ?? m.stats?.[name] ?? 0;
}

/** Working set: usage minus inactive page cache, as `docker stats` counts it. */
function workingSet(m: MemStats): number {
  return Math.max(0, m.usage - fileStat(m, "inactive_file"));
}

/**
 * Usage without any page cache (active or inactive file pages): what the
 * memory target counts. The kernel gives file pages back under pressure, so a
 * datastore that has read its seed holds them only while memory is free;
 * shared memory (PostgreSQL's shared buffers) is not file cache and counts.
 */
function withoutPageCache(m: MemStats): number {
  return Math.max(0, m.usage - fileStat(m, "active_file") - fileStat(m, "inactive_file"));
}

async function memStats(docker: Docker, id: string): Promise<MemStats | undefined> {
  try {
    const s = (await docker.getContainer(id).stats({ stream: false, "one-shot": true } as { stream: false })) as unknown as { memory_stats: MemStats };
    return s.memory_stats.usage === undefined ? undefined : s.memory_stats;
  } catch {
    return undefined; // removed meanwhile
  }
}

/** The stack's containers by role. */
async function stackContainers(docker: Docker, stack: string): Promise<Map<string, string>> {
  const r = await stackResources(docker, stack);
  return new Map(r.containers.map((c) => [c.Labels[LABEL_ROLE] ?? c.Names[0], c.Id]));
}

/** Samples every container of a stack once a second: the highest working set and kernel peak per role. */
class PeakSampler {
  readonly peakWorkingSet = new Map<string, number>();
  readonly kernelPeak = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private busy = false;
  constructor(
    private readonly docker: Docker,
    private readonly stack: string,
  ) {}
  start(): void {
    this.timer = setInterval(() => void this.sample(), 1000);
  }
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const [role, id] of await stackContainers(this.docker, this.stack)) {
        const m = await memStats(this.docker, id);
        if (!m) continue;
        this.peakWorkingSet.set(role, Math.max(this.peakWorkingSet.get(role) ?? 0, workingSet(m)));
        if (m.max_usage !== undefined) this.kernelPeak.set(role, Math.max(this.kernelPeak.get(role) ?? 0, m.max_usage));
      }
    } catch {
      /* the stack is between states: the next sample counts */
    } finally {
      this.busy = false;
    }
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

// --- per level ----------------------------------------------------------------

interface NodeFigures {
  role: string;
  limitMiB: number;
  /** At rest without page cache (the target's measure). */
  restMiB: number;
  /** At rest as `docker stats` counts it (active page cache included). */
  restWorkingSetMiB: number;
  peakMiB: number;
  kernelPeakMiB?: number;
  image: string;
  imageMiB: number;
}

interface LevelFigures {
  level: string;
  readySeconds: number[];
  readyMedian: number;
  /** Warm runs: seconds from `up` until every node is healthy (the app booted, before the fault's own setup). */
  bootSeconds: number[];
  bootMedian: number;
  downSeconds: number[];
  downMedian: number;
  leftAfterDown: number;
  restMiB: number;
  peakMiB: number;
  nodes: NodeFigures[];
  lifecycle: LifecycleResult;
  /** The benchmark's own wait before reading memory at rest, inside the lifecycle's time. */
  restWaitSeconds: number;
  /** Median seconds of each part of a warm up (runs 2..n): network, each node's start to healthy, fault actions. */
  phases: Record<string, number>;
  symptom?: { broken: Record<string, number | string>[]; fixed?: Record<string, number | string>; ratio?: string };
}

function planOf(id: string, stack: string, baseImage?: string): LevelPlan {
  return planFor(id, { stack, ...(baseImage ? { baseImage } : {}) }).plan;
}

async function leftovers(docker: Docker, stack: string): Promise<number> {
  const r = await stackResources(docker, stack);
  return r.containers.length + r.networks.length + r.volumes.length;
}

/** Broken vs fixed as a ratio of the probe's figure and the check's (a time-out counts as its limit: a lower bound). */
function ratio(level: string, broken: Record<string, number | string>[], fixed?: Record<string, number | string>): string | undefined {
  const key = level === "missing-index" ? "searchMs" : level === "locked-migration" ? "apiMs" : undefined;
  if (!key || !fixed) return undefined;
  const b = Number(broken[0]?.[key]);
  const f = Math.max(1, Number(fixed[key]));
  if (!Number.isFinite(b)) return undefined;
  const timedOut = level === "locked-migration";
  return `${key} ${b} ms broken${timedOut ? " (timed out)" : ""} / ${f} ms fixed = ${timedOut ? ">= " : ""}${round(b / f, 0)}x`;
}

async function benchLevel(id: string, runs: number, shortcuts: boolean, log: (l: string) => void): Promise<LevelFigures> {
  const docker = await connect();
  const stack = `bench-${id}`;
  const plan = planOf(id, stack);
  const sampler = new PeakSampler(docker, stack);
  const rest = new Map<string, number>();
  const restWorkingSet = new Map<string, number>();
  let restWait = 0;
  const phases: Record<string, number[]> = {};
  // Run 1: the whole lifecycle (symptom, check NO, solution, check OK, down, nothing left), memory sampled throughout.
  sampler.start();
  const lc = await lifecycle(id, "docker", {
    stack,
    log,
    shortcuts,
    atRest: async () => {
      // Let the nodes settle after start, then read memory at rest.
      const t = Date.now();
      await new Promise((r) => setTimeout(r, 10_000));
      for (const [role, cid] of await stackContainers(docker, stack)) {
        const m = await memStats(docker, cid);
        if (m) {
          rest.set(role, withoutPageCache(m));
          restWorkingSet.set(role, workingSet(m));
        }
      }
      await sampler.sample();
      restWait = (Date.now() - t) / 1000;
    },
  });
  sampler.stop();
  // A failed lifecycle is reported as such (results.md says FAILED); the warm runs need a working level.
  if (!lc.ok) log(`[bench ${id}] lifecycle FAILED: ${lc.error}`);
  const readySeconds = [lc.readySeconds ?? NaN];
  const downSeconds = [lc.steps.find((s) => s.step === "down")?.seconds ?? NaN];
  // Runs 2..n: up and down only (warm: images exist).
  let left = 0;
  const bootSeconds: number[] = [];
  for (let i = 1; i < runs && lc.ok; i++) {
    await down(stack);
    // The deployer's progress lines, timed: where ready goes (network and volumes, each node's start to healthy, the fault actions).
    const begun = Date.now();
    let setup = 0;
    let lastHealthy = 0;
    let starting = false;
    const add = (k: string, v: number) => (phases[k] ??= []).push(v);
    const r = await up(plan, {
      log: (line) => {
        const healthy = /^(\S+) healthy after ([\d.]+) s/.exec(line);
        if (line.startsWith("starting ") && !starting) {
          starting = true;
          add("network and volumes", (Date.now() - begun) / 1000);
        } else if (healthy) {
          add(`${healthy[1]} start to healthy`, Number(healthy[2]));
          lastHealthy = Date.now();
        }
        else if (line.startsWith("finishing the level's setup")) setup = Date.now();
      },
    });
    if (setup) add("fault actions", (Date.now() - setup) / 1000);
    if (lastHealthy) bootSeconds.push((lastHealthy - begun) / 1000);
    readySeconds.push(r.readySeconds);
    const t = Date.now();
    await down(stack);
    downSeconds.push((Date.now() - t) / 1000);
    left += await leftovers(docker, stack);
    log(`[bench ${id}] run ${i + 1}: ready ${r.readySeconds.toFixed(1)} s, down ${downSeconds[i].toFixed(1)} s`);
  }
  const nodes: NodeFigures[] = [];
  for (const n of plan.nodes) {
    const tag = stageImage(n.image).tag;
    const size = (await docker.getImage(tag).inspect().catch(() => ({ Size: NaN }))).Size;
    nodes.push({
      role: n.role,
      limitMiB: n.memoryMiB,
      restMiB: round((rest.get(n.role) ?? NaN) / MiB),
      restWorkingSetMiB: round((restWorkingSet.get(n.role) ?? NaN) / MiB),
      peakMiB: round((sampler.peakWorkingSet.get(n.role) ?? NaN) / MiB),
      kernelPeakMiB: sampler.kernelPeak.has(n.role) ? round((sampler.kernelPeak.get(n.role) as number) / MiB) : undefined,
      image: tag,
      imageMiB: round(size / MiB, 0),
    });
  }
  const sum = (k: "restMiB" | "peakMiB") => round(nodes.reduce((a, n) => a + n[k], 0));
  return {
    level: id,
    readySeconds: readySeconds.map((s) => round(s)),
    readyMedian: round(median(readySeconds)),
    bootSeconds: bootSeconds.map((x) => round(x)),
    bootMedian: bootSeconds.length ? round(median(bootSeconds)) : NaN,
    downSeconds: downSeconds.map((s) => round(s)),
    downMedian: round(median(downSeconds)),
    leftAfterDown: left,
    restMiB: sum("restMiB"),
    peakMiB: sum("peakMiB"),
    nodes,
    lifecycle: lc,
    restWaitSeconds: round(restWait),
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v))])),
    symptom: lc.symptomFigures?.length
      ? { broken: lc.symptomFigures, fixed: lc.fixedFigures, ratio: ratio(id, lc.symptomFigures, lc.fixedFigures) }
      : undefined,
  };
}

// --- cold ---------------------------------------------------------------------

interface ColdFigures {
  level: string;
  builds: { role: Role; seconds: number; imageMiB: number }[];
  buildSeconds: number;
  upSeconds: number;
  readySeconds: number;
  totalSeconds: number;
}

/**
 * A cold `up`: every role image built without Docker's layer cache, the base
 * image kept. The shared drills/<role> images stay: other sessions' levels
 * run on them. Instead the level is planned on a second tag of the same base
 * image, so its role images get tags of their own (the tag hashes the build
 * args), are built from nothing, then removed.
 */
async function benchCold(id: string, log: (l: string) => void): Promise<ColdFigures> {
  const docker = await connect();
  const coldBase = "drills-bench/base:cold";
  const [repo, tag] = coldBase.split(":");
  await docker.getImage(DEFAULT_BASE_IMAGE).tag({ repo, tag });
  const stack = `bench-cold-${id}`;
  const plan = planOf(id, stack, coldBase);
  const staged = plan.nodes.map((n) => ({ role: n.role, s: stageImage(n.image) }));
  const builds: ColdFigures["builds"] = [];
  try {
    for (const { s } of staged) if (await imageExists(docker, s.tag)) await docker.getImage(s.tag).remove();
    const t0 = Date.now();
    for (const { role, s } of staged) {
      const t = Date.now();
      const stream = await docker.buildImage(
        { context: s.dir, src: s.files },
        { t: s.tag, dockerfile: s.dockerfile, buildargs: s.buildArgs, nocache: true, rm: true, forcerm: true },
      );
      await follow(docker, stream);
      const seconds = (Date.now() - t) / 1000;
      builds.push({ role, seconds: round(seconds), imageMiB: round((await docker.getImage(s.tag).inspect()).Size / MiB, 0) });
      log(`[bench cold ${id}] built ${role} in ${seconds.toFixed(1)} s`);
    }
    const buildSeconds = (Date.now() - t0) / 1000;
    await down(stack);
    const t = Date.now();
    const r = await up(plan);
    const upSeconds = (Date.now() - t) / 1000;
    await down(stack);
    return {
      level: id,
      builds,
      buildSeconds: round(buildSeconds),
      upSeconds: round(upSeconds),
      readySeconds: round(r.readySeconds),
      totalSeconds: round(buildSeconds + upSeconds),
    };
  } finally {
    await down(stack).catch(() => undefined);
    for (const { s } of staged) await docker.getImage(s.tag).remove().catch(() => undefined);
    await docker.getImage(coldBase).remove({ noprune: true }).catch(() => undefined);
  }
}

// --- drills list ----------------------------------------------------------------

interface ListFigures {
  ms: number;
  peakMiB: number;
  runs: number;
}

/** `drills list` as a user runs it: wall time of the whole process and its peak memory. */
function listStartup(runs = 5): ListFigures {
  const main = path.join(__dirname, "..", "cli", "main.js");
  const script = `require(${JSON.stringify(main)}).main(["node","drills","list"]).then(() => process.stderr.write(String(process.resourceUsage().maxRSS)))`;
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    rss.push(Number(r.stderr) / 1024);
  }
  return { ms: round(median(ms), 0), peakMiB: round(median(rss)), runs };
}

// --- report -----------------------------------------------------------------------

interface Results {
  date: string;
  host: { cores: number; kernel: string; loadStart: number[]; loadEnd: number[]; loadPeak1m: number; cgroup: string };
  runs: number;
  list: ListFigures;
  levels: LevelFigures[];
  cold?: ColdFigures;
  pulumi: { level: string; docker: LifecycleResult; pulumi: LifecycleResult }[];
  fullLifecycle: { minutes: number; measured: string };
  /** Whether the lifecycles tried each level's shortcuts (--no-shortcuts: not). */
  shortcuts: boolean;
}

function fullLifecycle(levels: LevelFigures[], pulumi: Results["pulumi"], all: string[]): Results["fullLifecycle"] {
  // The CLI's whole lifecycle is measured for every level benchmarked; Pulumi's where it ran,
  // elsewhere the CLI's plus the mean Pulumi overhead of the levels it ran on.
  const dockerTotal = new Map(levels.map((l) => [l.level, (l.lifecycle.totalSeconds ?? 0) - l.restWaitSeconds]));
  const pulumiTotal = new Map(pulumi.map((p) => [p.level, p.pulumi.totalSeconds ?? 0]));
  const overheads = pulumi.map((p) => (p.pulumi.totalSeconds ?? 0) - (dockerTotal.get(p.level) ?? p.docker.totalSeconds ?? 0));
  const overhead = overheads.length ? overheads.reduce((a, b) => a + b, 0) / overheads.length : NaN;
  let seconds = 0;
  const extrapolated: string[] = [];
  for (const id of all) {
    const d = dockerTotal.get(id);
    if (d === undefined) {
      extrapolated.push(`${id} (not benchmarked)`);
      continue;
    }
    seconds += d + (pulumiTotal.get(id) ?? d + overhead);
    if (!pulumiTotal.has(id)) extrapolated.push(id);
  }
  if (extrapolated.length > 0 && !Number.isFinite(overhead)) {
    return { minutes: NaN, measured: "not measured: no level ran under Pulumi (--pulumi)" };
  }
  const measured =
    extrapolated.length === 0
      ? "measured: every level under both drivers"
      : `measured under the CLI for every level and under Pulumi for ${pulumi.map((p) => p.level).join(", ") || "none"}; ` +
        `Pulumi extrapolated (CLI lifecycle + ${round(overhead)} s mean Pulumi overhead) for ${extrapolated.join(", ")}`;
  return { minutes: round(seconds / 60), measured };
}

function markdown(r: Results): string {
  const L: string[] = [];
  const t = TARGET;
  L.push("# Benchmark results", "");
  L.push(`Written by \`npm run bench\` on ${r.date}. Host: ${r.host.cores} cores, kernel ${r.host.kernel}, ${r.host.cgroup}.`);
  L.push(
    `Load average (1, 5, 15 min) at start ${r.host.loadStart.join(", ")}, at end ${r.host.loadEnd.join(", ")}, highest 1-min sample ${r.host.loadPeak1m}: ` +
      "the machine is shared with other engineers' builds and tests, so times are upper bounds of an idle 2-core machine.",
    "",
  );
  L.push("## Targets", "", "| target | measured | result |", "| --- | --- | --- |");
  for (const l of r.levels) L.push(`| warm boot (every node healthy) <= ${t.warmReadySeconds} s (median of ${l.bootSeconds.length}), ${l.level} | ${l.bootMedian} s | ${verdict(l.bootMedian <= t.warmReadySeconds)} |`);
  for (const l of r.levels) L.push(`| warm ready (booted and the fault's setup done) <= ${t.warmReadySeconds} s (median of ${l.readySeconds.length}), ${l.level} | ${l.readyMedian} s | ${verdict(l.readyMedian <= t.warmReadySeconds)} |`);
  for (const l of r.levels) L.push(`| memory at rest (without page cache) <= ${t.restMiB} MiB, ${l.level} | ${l.restMiB} MiB | ${verdict(l.restMiB <= t.restMiB)} |`);
  L.push(`| every level's full lifecycle (${r.shortcuts ? "shortcuts tried" : "shortcuts not tried"}), both drivers, < ${t.fullLifecycleMinutes} min | ${r.fullLifecycle.minutes} min (${r.fullLifecycle.measured}) | ${verdict(r.fullLifecycle.minutes < t.fullLifecycleMinutes)} |`);
  for (const l of r.levels.filter((x) => isBigSeed(getLevel(x.level).seed))) {
    const ds = l.nodes.find((n) => n.role === "datastore");
    if (ds) L.push(`| datastore image < 1 GiB, ${l.level} | ${ds.imageMiB} MiB | ${verdict(ds.imageMiB * MiB < t.slowDatastoreImageBytes)} |`);
  }
  L.push(`| \`drills list\` < ${t.listMs} ms | ${r.list.ms} ms (median of ${r.list.runs}) | ${verdict(r.list.ms < t.listMs)} |`);
  L.push(`| \`drills list\` < ${t.listMiB} MiB peak RSS | ${r.list.peakMiB} MiB | ${verdict(r.list.peakMiB < t.listMiB)} |`, "");

  L.push("## Levels (CLI driver, warm: images built)", "");
  L.push("| level | boot (median) | ready (median; runs) | down (median) | left after down | at rest | peak working set | symptom broken vs fixed |", "| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const l of r.levels) {
    if (!l.lifecycle.ok) {
      L.push(`| ${l.level} | FAILED: ${(l.lifecycle.error ?? "").split("\n")[0]} | | | | | | |`);
      continue;
    }
    const sym = l.symptom?.ratio ?? (l.lifecycle.symptom && l.lifecycle.fixed ? `${l.lifecycle.symptom} / ${l.lifecycle.fixed}` : (l.lifecycle.symptom ?? "-"));
    L.push(
      `| ${l.level} | ${l.bootMedian} s | ${l.readyMedian} s (${l.readySeconds.join(", ")}) | ${l.downMedian} s | ${l.leftAfterDown + (l.lifecycle.ok ? 0 : 1)} | ${l.restMiB} MiB | ${l.peakMiB} MiB | ${sym} |`,
    );
  }
  L.push("", "Where a warm up's time goes (median of the warm runs; the CLI driver starts every node at once, so ready is the slowest node plus the fault actions):", "");
  L.push("| level | phases |", "| --- | --- |");
  for (const l of r.levels) L.push(`| ${l.level} | ${Object.entries(l.phases).map(([k, v]) => `${k} ${v} s`).join("; ") || "-"} |`);
  L.push("", "Per node (memory at rest = usage without page cache, the target's measure; working set at rest = usage minus inactive page cache, as `docker stats` counts it; peak working set sampled every second over the whole lifecycle; kernel peak includes page cache):", "");
  L.push("| level | node | limit | at rest | working set at rest | peak working set | kernel peak | image |", "| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const l of r.levels) {
    for (const n of l.nodes) {
      L.push(`| ${l.level} | ${n.role} | ${n.limitMiB} MiB | ${n.restMiB} MiB | ${n.restWorkingSetMiB} MiB | ${n.peakMiB} MiB | ${n.kernelPeakMiB === undefined ? "-" : `${n.kernelPeakMiB} MiB`} | ${n.imageMiB} MiB |`);
    }
  }
  if (r.cold) {
    const c = r.cold;
    L.push("", `## Cold (${c.level}: role images built without layer cache, base image kept)`, "");
    L.push(`Builds ${c.builds.map((b) => `${b.role} ${b.seconds} s (${b.imageMiB} MiB)`).join(", ")}: ${c.buildSeconds} s; then up ${c.upSeconds} s (ready ${c.readySeconds} s). Cold total **${c.totalSeconds} s**.`);
  }
  L.push("", "## Same level, CLI driver vs Pulumi CLI", "");
  L.push("| level | driver | up | ready | whole lifecycle | result |", "| --- | --- | --- | --- | --- | --- |");
  const s = (n?: number) => (n === undefined ? "-" : `${round(n)} s`);
  for (const p of r.pulumi) {
    for (const x of [p.docker, p.pulumi]) L.push(`| ${p.level} | ${x.driver} | ${s(x.upSeconds)} | ${s(x.readySeconds)} | ${s(x.totalSeconds)} | ${x.ok ? "ok" : `FAILED: ${(x.error ?? "").split("\n")[0]}`} |`);
  }
  L.push(
    "",
    "Pulumi's lifecycle also runs a second up that must change nothing, and `stack rm`; its up includes starting the program " +
      "(ts-node) and the engine. Ready = from the first container created to every node healthy and every fault applied.",
    "",
  );
  return L.join("\n");
}

async function main(): Promise<void> {
  const p = new Command("bench")
    .argument("[levels...]", "levels to measure (default: all)")
    .option("--runs <n>", "warm ups per level (median)", "3")
    .option("--pulumi <levels>", "levels also run under the Pulumi CLI: comma list, all or none", "baseline")
    .option("--no-cold", "skip the cold build of baseline")
    .option("--no-shortcuts", "skip trying each level's shortcuts in its lifecycle (the lifecycle test does)")
    .option("--out <dir>", "folder for results.md and results.json", path.join(repoRoot(), "bench"))
    .parse(process.argv);
  const o = p.opts<{ runs: string; pulumi: string; cold: boolean; shortcuts: boolean; out: string }>();
  const all = levelIds();
  const ids = p.args.length ? p.args : all;
  const runs = Math.max(1, Number(o.runs));
  const pulumiIds = o.pulumi === "all" ? ids : o.pulumi === "none" ? [] : o.pulumi.split(",").filter(Boolean);
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const loadStart = load();
  let loadPeak1m = loadStart[0];
  const loadTimer = setInterval(() => (loadPeak1m = Math.max(loadPeak1m, load()[0])), 5000);
  const cgroup = fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? "cgroup v2" : "cgroup v1";

  const list = listStartup();
  log(`drills list: ${list.ms} ms, ${list.peakMiB} MiB`);
  // Warm means images built: build what is missing first, so no lifecycle below includes a build.
  const docker = await connect();
  const prebuild = Date.now();
  for (const id of ids) for (const n of planOf(id, `bench-${id}`).nodes) await buildImage(docker, stageImage(n.image), log);
  log(`images ready in ${((Date.now() - prebuild) / 1000).toFixed(1)} s`);
  const levels: LevelFigures[] = [];
  for (const id of ids) levels.push(await benchLevel(id, runs, o.shortcuts, log));
  const cold = o.cold ? await benchCold("baseline", log) : undefined;
  const pulumi: Results["pulumi"] = [];
  for (const id of pulumiIds) {
    const docker = levels.find((l) => l.level === id)?.lifecycle ?? (await lifecycle(id, "docker", { stack: `bench-${id}`, log, shortcuts: o.shortcuts }));
    // The same lifecycle as the CLI's: with --no-shortcuts neither driver tries them.
    pulumi.push({ level: id, docker, pulumi: await lifecycle(id, "pulumi", { stack: `bench-pulumi-${id}`, log, shortcuts: o.shortcuts }) });
  }
  clearInterval(loadTimer);
  const results: Results = {
    date: new Date().toISOString(),
    host: { cores: os.cpus().length, kernel: os.release(), loadStart, loadEnd: load(), loadPeak1m: round(loadPeak1m, 2), cgroup },
    runs,
    shortcuts: o.shortcuts,
    list,
    levels,
    cold,
    pulumi,
    fullLifecycle: fullLifecycle(levels, pulumi, all),
  };
  const dir = o.out;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results);
  fs.writeFileSync(path.join(dir, "results.md"), md);
  process.stdout.write(md);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
