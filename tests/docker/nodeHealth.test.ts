import * as fs from "fs";
import { levelPlan } from "../../compose/plan";
import { down, up } from "../../driver/deployer";
import { lxcfsAvailable } from "../../driver/lxcfs";
import { hostFigures, nodeCpu, nodeMemory, sampleLatency } from "../../faults/nodeUsage";
import { getLevel, levelIds } from "../../levels";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import * as game from "../../runtime/game";
import { leftovers } from "./helpers";

jest.setTimeout(20 * 60_000);

const report = (line: string) => process.stderr.write(`${line}\n`);

/** OOM kills on the whole host so far (every cgroup's). */
const hostOomKills = () => Number(/^oom_kill (\d+)$/m.exec(fs.readFileSync("/proc/vmstat", "utf8"))?.[1] ?? 0);

function planOf(id: string, stack: string) {
  return dockerPlan(levelPlan(getLevel(id), parseOptions({ level: id, stack }, levelIds())));
}

describe("memory-exhaustion stays inside the backend node, and the node's tools tell the truth", () => {
  const stack = "test-nodehealth-mem";
  const plan = planOf("memory-exhaustion", stack);
  const level = getLevel("memory-exhaustion");
  const figures: Record<string, unknown> = {};

  beforeAll(async () => down(stack));
  afterAll(async () => {
    await down(stack);
    report(`[nodehealth-mem] ${JSON.stringify(figures)}`);
  });

  it("fills the node to its limit, the API is killed and answers 502 meanwhile, the host is untouched", async () => {
    const oomBefore = hostOomKills();
    await up(plan, { log: () => undefined });
    const ctx = await game.contextOf(plan);
    const limit = plan.nodes.find((n) => n.role === "backend")!.memoryMiB;

    // Through the proxy, until the API was killed once more: 502s, then 200s again.
    const statuses = new Map<number, number>();
    const t0 = Date.now();
    let peakUsed = 0;
    let freeView = "";
    while (Date.now() - t0 < 180_000 && !(statuses.has(502) && (statuses.get(200) ?? 0) > 5 && peakUsed >= 0.8 * limit)) {
      const r = await ctx.http(`${plan.appUrl}api/invoices?page=1&pageSize=20`, { timeoutMs: 10_000 });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const mem = await nodeMemory(ctx, "backend");
      if (mem.usedMiB > peakUsed) {
        peakUsed = mem.usedMiB;
        // What a player sees at that moment: free and top inside the node.
        freeView = (await ctx.exec("backend", "free -m | awk '/^Mem:/{print $2, $3}'; top -b -n 1 | grep -m1 'MiB Mem'")).stdout.trim();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    figures.statuses = Object.fromEntries(statuses);
    figures.peakUsedMiB = peakUsed;
    figures.freeAtPeak = freeView;
    expect(statuses.get(502) ?? 0).toBeGreaterThan(0);
    expect(peakUsed).toBeGreaterThanOrEqual(0.8 * limit);
    expect(peakUsed).toBeLessThanOrEqual(limit);
    if (lxcfsAvailable()) {
      const [total, used] = freeView.split("\n")[0].split(/\s+/).map(Number);
      expect(total).toBe(limit);
      expect(used).toBeGreaterThan(0);
      expect(freeView).toMatch(new RegExp(`MiB Mem :\\s+${limit}\\.0 total`));
    }

    // Host: every OOM kill since up was inside the node; its memory barely moves between broken and fixed.
    const mem = await nodeMemory(ctx, "backend");
    const brokenHost = await hostFigures(ctx, 1000);
    figures.nodeOomKills = mem.oomKills;
    figures.hostOomKills = hostOomKills() - oomBefore;
    expect(mem.oomKills).toBeGreaterThan(0);
    expect(hostOomKills() - oomBefore).toBe(mem.oomKills);
    await game.solve(level, plan);
    await new Promise((r) => setTimeout(r, 3000));
    const fixedHost = await hostFigures(ctx, 1000);
    const fixedNode = await nodeMemory(ctx, "backend");
    figures.node = `${mem.usedMiB} -> ${fixedNode.usedMiB} of ${limit} MiB`;
    figures.hostMemAvailableMiB = `${brokenHost?.hostMemAvailableMiB} -> ${fixedHost?.hostMemAvailableMiB}`;
    // The node can hold at most its limit: the host gets back no more than that when the fault stops.
    expect(Math.abs(fixedHost!.hostMemAvailableMiB - brokenHost!.hostMemAvailableMiB)).toBeLessThan(limit + 128);
    expect(fixedNode.usedMiB).toBeLessThan(limit / 2);
  });

  it("goes down leaving nothing", async () => {
    await down(stack);
    expect(await leftovers(stack)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
});

describe("cpu-hog stays inside the backend node's CPU quota; the API is measurably slower", () => {
  const stack = "test-nodehealth-cpu";
  const plan = planOf("cpu-hog", stack);
  const level = getLevel("cpu-hog");
  const figures: Record<string, unknown> = {};

  beforeAll(async () => down(stack));
  afterAll(async () => {
    await down(stack);
    report(`[nodehealth-cpu] ${JSON.stringify(figures)}`);
  });

  it("uses at most the node's quota, leaves the host its other CPU, and slows a CPU-bound API path", async () => {
    await up(plan, { log: () => undefined });
    const ctx = await game.contextOf(plan);
    const cpus = plan.nodes.find((n) => n.role === "backend")!.cpus;

    const [broken, brokenHost] = await Promise.all([nodeCpu(ctx, "backend", 10), hostFigures(ctx, 10_000)]);
    // Requests at random points over many seconds, as the level's probe makes them: the fault counts the
    // backend's quota per 1 s period, so a request waits only when it lands after the job spent the
    // second's quota (about half of them): 15 requests 0-200 ms apart fell mostly early in fresh periods
    // (cold CI: p50 16 ms), and even spread out the median swings between the two (52-196 ms).
    const brokenLat = await sampleLatency(ctx, 20, 500);
    // Inside the node: the usual tools see one CPU (the quota, rounded up).
    const seen = (await ctx.exec("backend", "nproc; grep -c ^processor /proc/cpuinfo")).stdout.trim().split("\n").map(Number);
    await game.solve(level, plan);
    const [fixed, fixedHost] = await Promise.all([nodeCpu(ctx, "backend", 10), hostFigures(ctx, 10_000)]);
    const fixedLat = await sampleLatency(ctx, 20, 500);

    figures.nodeCpus = `${broken.cpus} -> ${fixed.cpus} of ${cpus}`;
    figures.throttled = `${broken.throttled} -> ${fixed.throttled} periods in 10 s`;
    figures.hostCpuIdlePct = `${brokenHost?.hostCpuIdlePct} -> ${fixedHost?.hostCpuIdlePct} (of ${brokenHost?.hostCpus} CPUs)`;
    figures.invoiceP50Ms = `${brokenLat.p50Ms} -> ${fixedLat.p50Ms}`;
    figures.invoiceP90Ms = `${brokenLat.p90Ms} -> ${fixedLat.p90Ms}`;
    figures.busiest = broken.top.slice(0, 4).map((p) => `${p.comm} ${p.pct}%`).join(", ");
    figures.nodeTools = seen.join(" ");

    // Bounded: the node never uses more than its quota (a little slack for accounting), and hits it while broken.
    expect(broken.cpus).toBeLessThanOrEqual(cpus + 0.05);
    // It reaches the quota where the host has CPU to give (a saturated host starves every container alike).
    if (brokenHost!.hostCpuIdlePct >= 30) {
      expect(broken.cpus).toBeGreaterThanOrEqual(cpus * 0.8);
      expect(broken.throttled).toBeGreaterThan(0);
    }
    // The host keeps its other CPU(s): the node took at most `cpus` of them.
    expect(brokenHost!.hostCpus - broken.cpus).toBeGreaterThanOrEqual(brokenHost!.hostCpus - cpus - 0.05);
    if (lxcfsAvailable()) expect(seen[1]).toBe(Math.ceil(cpus));
    // The API is measurably slower while the job runs: the slow part of requests (p90), as above.
    expect(brokenLat.p90Ms).toBeGreaterThanOrEqual(2 * fixedLat.p90Ms);
    expect(fixed.cpus).toBeLessThan(0.2);
  });

  it("goes down leaving nothing", async () => {
    await down(stack);
    expect(await leftovers(stack)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
});
