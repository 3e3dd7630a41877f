import { CheckContext } from "../faults/types";

/**
 * What a trainee's usual tools say inside each node, next to the node's
 * limits: `free` (memory), `nproc` and /proc/cpuinfo (CPUs), `uptime`
 * (the node's own, in seconds). Lists the tools that report something else.
 */
export interface NodeView {
  role: string;
  memoryMiB: number;
  freeTotalMiB: number;
  cpus: number;
  nproc: number;
  cpuinfo: number;
  uptimeSeconds: number;
}

export async function nodeViews(ctx: CheckContext): Promise<NodeView[]> {
  const out: NodeView[] = [];
  for (const n of ctx.plan.nodes) {
    const r = await ctx.exec(
      n.role,
      "free -m | awk '/^Mem:/{print $2}'; nproc; grep -c ^processor /proc/cpuinfo; cut -d' ' -f1 /proc/uptime",
    );
    const [free, nproc, cpuinfo, uptime] = r.stdout.trim().split("\n").map(Number);
    out.push({ role: n.role, memoryMiB: n.memoryMiB, freeTotalMiB: free, cpus: n.cpus, nproc, cpuinfo, uptimeSeconds: uptime });
  }
  return out;
}

/** Tools that do not report the node: empty when every node tells the truth. */
export function untruthful(views: NodeView[], maxUptimeSeconds: number): string[] {
  const wrong: string[] = [];
  for (const v of views) {
    const cpus = Math.max(1, Math.ceil(v.cpus));
    if (Math.abs(v.freeTotalMiB - v.memoryMiB) > 1) wrong.push(`${v.role}: free says ${v.freeTotalMiB} MiB, the limit is ${v.memoryMiB} MiB`);
    if (v.nproc !== cpus) wrong.push(`${v.role}: nproc says ${v.nproc}, the node has ${cpus}`);
    if (v.cpuinfo !== cpus) wrong.push(`${v.role}: /proc/cpuinfo lists ${v.cpuinfo} CPUs, the node has ${cpus}`);
    if (!(v.uptimeSeconds <= maxUptimeSeconds)) wrong.push(`${v.role}: uptime says ${v.uptimeSeconds} s, the node is younger than ${maxUptimeSeconds} s`);
  }
  return wrong;
}
