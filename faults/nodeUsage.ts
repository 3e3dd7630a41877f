import * as fs from "fs";
import { Role } from "../plan/types";
import { CheckContext } from "./types";

/**
 * Resource figures of a node, read from its own cgroup (v1 or v2) from
 * inside the node, and of the machine that runs the nodes (Docker target:
 * this process's host). Used by the node-health faults' probes and checks.
 */

/** Bash: node memory in KiB, "limit rss cache oomKills". cgroup v1 (memory.*) or v2. */
const MEMORY_SCRIPT = [
  "if [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then",
  "  d=/sys/fs/cgroup/memory",
  "  lim=$(cat $d/memory.limit_in_bytes)",
  "  rss=$(awk '$1==\"total_rss\"{r=$2} $1==\"total_shmem\"{s=$2} END{print r+s}' $d/memory.stat)",
  "  cache=$(awk '$1==\"total_cache\"{print $2}' $d/memory.stat)",
  "  oom=$(awk '$1==\"oom_kill\"{print $2}' $d/memory.oom_control)",
  "else",
  "  d=/sys/fs/cgroup",
  "  lim=$(cat $d/memory.max); [ \"$lim\" = max ] && lim=$(awk '/MemTotal/{print $2*1024}' /proc/meminfo)",
  "  rss=$(awk '$1==\"anon\"{a=$2} $1==\"shmem\"{s=$2} END{print a+s}' $d/memory.stat)",
  "  cache=$(awk '$1==\"file\"{print $2}' $d/memory.stat)",
  "  oom=$(awk '$1==\"oom_kill\"{print $2}' $d/memory.events)",
  "fi",
  'echo "$((lim / 1024)) $((rss / 1024)) $((${cache:-0} / 1024)) ${oom:-0}"',
].join("\n");

export interface NodeMemory {
  limitMiB: number;
  /** Anonymous and shared memory of every process in the node (what cannot be reclaimed without swap). */
  usedMiB: number;
  cacheMiB: number;
  /** Processes the kernel's OOM killer killed in this node since it started. */
  oomKills: number;
}

export async function nodeMemory(ctx: CheckContext, role: Role): Promise<NodeMemory> {
  const r = await ctx.exec(role, MEMORY_SCRIPT);
  const [lim, rss, cache, oom] = r.stdout.trim().split(/\s+/).map(Number);
  return { limitMiB: Math.round(lim / 1024), usedMiB: Math.round(rss / 1024), cacheMiB: Math.round(cache / 1024), oomKills: oom || 0 };
}

/** Bash: the node's CPU time so far in microseconds, and its throttled periods (v1 cpuacct/cpu or v2 cpu.stat). */
const CPU_TICKS = [
  "if [ -r /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then",
  "  echo $(( $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage) / 1000 )) $(awk '$1==\"nr_throttled\"{print $2}' /sys/fs/cgroup/cpu/cpu.stat)",
  "else",
  "  awk '$1==\"usage_usec\"{u=$2} $1==\"nr_throttled\"{t=$2} END{print u, t}' /sys/fs/cgroup/cpu.stat",
  "fi",
].join("\n");

export interface NodeCpu {
  /** CPUs the whole node used on average during the window. */
  cpus: number;
  /** Scheduler periods in which the node hit its CPU quota during the window. */
  throttled: number;
  /** The processes that used most CPU in the window: "comm pid cpu%" (of one CPU). */
  top: Array<{ pid: number; comm: string; args: string; pct: number }>;
}

/**
 * CPU the node used over `seconds`, and its busiest processes, from inside
 * the node (cgroup counters and /proc/<pid>/stat deltas).
 */
export async function nodeCpu(ctx: CheckContext, role: Role, seconds = 3): Promise<NodeCpu> {
  const script = [
    `pticks() { for s in /proc/[0-9]*/stat; do pid=\${s#/proc/}; pid=\${pid%/stat}; [ "$pid" = "$$" ] && continue; read -r line <"$s" 2>/dev/null || continue; rest=\${line##*) }; set -- $rest; echo "$pid $(( \${12} + \${13} )) $(( \${14} + \${15} ))"; done; }`,
    "cgticks() {",
    CPU_TICKS,
    "}",
    "a=$(cgticks); pa=$(pticks); t0=$(date +%s%N)",
    `sleep ${seconds}`,
    "b=$(cgticks); pb=$(pticks); t1=$(date +%s%N)",
    'echo "CG $a $b $t0 $t1"',
    "hz=$(getconf CLK_TCK)",
    "# Per process: CPU time in the window, its reaped children's included (a process born in it: all of its time).",
    'printf "%s\\n--\\n%s\\n" "$pa" "$pb" | awk \'$1 == "--" { second = 1; next } !second { t[$1] = $2 + $3; next } { d = $2 + $3 - t[$1]; if (d > 0) print $1, d }\' |',
    "while read -r pid d; do",
    '  printf "P %s %s %s %s\\n" "$pid" "$d" "$hz" "$(tr "\\0" " " </proc/$pid/cmdline 2>/dev/null | cut -c1-160)"',
    "done",
  ].join("\n");
  const r = await ctx.exec(role, script);
  const lines = r.stdout.split("\n");
  const cg = (lines.find((l) => l.startsWith("CG ")) ?? "").split(/\s+/).slice(1).map(Number);
  const [u0, th0, u1, th1, t0, t1] = cg;
  const wallUs = (t1 - t0) / 1000;
  const top = lines
    .filter((l) => l.startsWith("P "))
    .map((l) => {
      const [, pid, ticks, hz, ...args] = l.split(" ");
      const a = args.join(" ").trim();
      // Percent of one CPU over the window.
      const pct = wallUs > 0 ? Math.round((Number(ticks) / Number(hz) / (wallUs / 1e6)) * 1000) / 10 : 0;
      return { pid: Number(pid), pct, comm: (a.split(" ")[0] ?? "").split("/").pop() ?? "", args: a };
    })
    .filter((p) => p.pct > 0)
    .sort((x, y) => y.pct - x.pct)
    .slice(0, 12);
  return { cpus: wallUs > 0 ? Number(((u1 - u0) / wallUs).toFixed(2)) : 0, throttled: (th1 || 0) - (th0 || 0), top };
}

export interface Latency {
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  /** Answers that were not 200 (502s, timeouts as status 0). */
  errors: number;
  statuses: string;
  samples: number;
  times: number[];
  codes: Record<string, number>;
}

/** Several runs of samples as one. */
export function mergeLatency(parts: Latency[]): Latency {
  const all = parts.flatMap((p) => p.times);
  const sorted = [...all].sort((a, b) => a - b);
  const q = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  const codes: Record<string, number> = {};
  for (const p of parts) for (const [c, n] of Object.entries(p.codes)) codes[c] = (codes[c] ?? 0) + n;
  return {
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    maxMs: Math.round(sorted[sorted.length - 1] ?? 0),
    errors: parts.reduce((a, p) => a + p.errors, 0),
    statuses: Object.entries(codes).map(([c, n]) => `${n}x${c}`).join(" "),
    samples: all.length,
    times: all,
    codes,
  };
}

/** A random page of the invoice list, 100 rows: the backend parses and serializes every row (CPU in the node). */
export function invoicePage(): string {
  const page = 1 + Math.floor(Math.random() * 50);
  const sort = ["issued_at", "amount_cents", "number"][Math.floor(Math.random() * 3)];
  return `api/invoices?page=${page}&pageSize=100&sort=${sort}&order=${Math.random() < 0.5 ? "asc" : "desc"}`;
}

/**
 * Time `samples` requests of fresh random pages through the proxy, a random
 * 0..2x`gapMs` apart (`gapMs` on average): users arrive at random times, and a
 * fixed gap can fall into step with a periodic stall (a CPU quota period)
 * and see only its fast part.
 */
export async function sampleLatency(ctx: CheckContext, samples: number, gapMs: number, timeoutMs = 10_000): Promise<Latency> {
  const times: number[] = [];
  const codes: Record<string, number> = {};
  let errors = 0;
  for (let i = 0; i < samples; i++) {
    const r = await ctx.http(`${ctx.plan.appUrl}${invoicePage()}`, { timeoutMs });
    times.push(r.ms);
    codes[r.status] = (codes[r.status] ?? 0) + 1;
    if (r.status !== 200) errors++;
    if (gapMs > 0 && i < samples - 1) await new Promise((res) => setTimeout(res, Math.round(2 * gapMs * Math.random())));
  }
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  return {
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    maxMs: Math.round(sorted[sorted.length - 1] ?? 0),
    errors,
    statuses: Object.entries(codes).map(([c, n]) => `${n}x${c}`).join(" "),
    samples,
    times,
    codes,
  };
}

/** The machine that runs the nodes (Docker target, read here): available memory and CPU idle over a window. */
export interface HostFigures {
  hostMemAvailableMiB: number;
  hostCpuIdlePct: number;
  hostCpus: number;
}

function cpuTotals(): { idle: number; total: number; cpus: number } {
  const lines = fs.readFileSync("/proc/stat", "utf8").split("\n");
  const f = lines[0].split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  return { idle, total: f.reduce((a, b) => a + (b || 0), 0) - (f[8] || 0) - (f[9] || 0), cpus: lines.filter((l) => /^cpu\d/.test(l)).length };
}

/** Host figures over `ms`, or undefined where this process does not run on the nodes' host (AWS, no /proc). */
export async function hostFigures(ctx: CheckContext, ms = 2000): Promise<HostFigures | undefined> {
  if (ctx.plan.target !== "docker" || !fs.existsSync("/proc/meminfo")) return undefined;
  const a = cpuTotals();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTotals();
  const mem = /MemAvailable:\s+(\d+)/.exec(fs.readFileSync("/proc/meminfo", "utf8"));
  return {
    hostMemAvailableMiB: mem ? Math.round(Number(mem[1]) / 1024) : 0,
    hostCpuIdlePct: b.total > a.total ? Math.round((100 * (b.idle - a.idle)) / (b.total - a.total)) : 0,
    hostCpus: b.cpus,
  };
}
