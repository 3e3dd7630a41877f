import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../images/repo";

/**
 * lxcfs on the Docker host (started by scripts/ensure-lxcfs.sh with
 * `-l --enable-cfs`) serves per-container views of a few /proc and /sys
 * files. Bind-mounting them over the container's own makes the usual tools
 * tell the truth about the node's limits:
 *
 *   free, top (memory lines), vmstat (memory columns)  <- /proc/meminfo (memory cgroup limit)
 *   uptime, top (first line)                           <- /proc/uptime, /proc/loadavg (since container start; its own load)
 *   top/vmstat CPU %, /proc/cpuinfo, getconf _NPROCESSORS_ONLN, os.cpus()
 *                                                      <- /proc/stat, /proc/cpuinfo, /sys/.../cpu/online (CFS quota: --cpus 0.5 -> 1 CPU)
 *   free/top swap line, swapon                         <- /proc/swaps
 *   iostat-style readers                               <- /proc/diskstats (blkio cgroup)
 *
 * Not made truthful by lxcfs:
 *   - `nproc` (and os.availableParallelism(), sched_getaffinity users): they
 *     count the CPUs the process may run on (the cpuset), not the quota. Pin the
 *     container with a cpuset of ceil(cpus) CPUs, or set OMP_NUM_THREADS, which
 *     GNU nproc honours (see nprocEnv).
 *   - `df` (statfs of the overlay root: the host's disk); see ext4Volume.ts.
 *   - vmstat's procs r/b and the since-boot io/system counters, /proc/vmstat,
 *     /proc/zoneinfo, /proc/pressure/*, dmesg: host-wide.
 *
 * Each container's mounts are tied to the lxcfs process serving when it
 * started: if lxcfs is restarted, running containers read "Transport endpoint
 * is not connected" from these files until they are restarted. So lxcfs is
 * never restarted while it serves (scripts/ensure-lxcfs.sh).
 */
export const LXCFS_DIR = "/var/lib/lxcfs";

export const LXCFS_MOUNTS: Array<{ source: string; target: string }> = [
  "proc/meminfo",
  "proc/cpuinfo",
  "proc/stat",
  "proc/uptime",
  "proc/loadavg",
  "proc/diskstats",
  "proc/swaps",
  "sys/devices/system/cpu/online",
].map((p) => ({ source: `${LXCFS_DIR}/${p}`, target: `/${p}` }));

/**
 * True when the host's lxcfs mount is alive: every source can be read. A dead
 * FUSE mount (lxcfs killed) fails with ENOTCONN; a missing lxcfs with ENOENT.
 */
export function lxcfsAvailable(): boolean {
  const buf = Buffer.alloc(1);
  for (const m of LXCFS_MOUNTS) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(m.source, "r");
      fs.readSync(fd, buf, 0, 1, null);
    } catch {
      return false;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return true;
}

/**
 * The mounts as Docker HostConfig.Mounts entries (dockerode), read-only.
 * Use Mounts, not Binds: with Binds (`-v`) a missing source (lxcfs not
 * running) is created as a directory on the host, left behind, and the
 * container fails with a confusing "not a directory"; with Mounts it fails
 * with "bind source path does not exist" / "transport endpoint is not
 * connected" and creates nothing.
 */
export function lxcfsDockerMounts(): Array<{ Type: "bind"; Source: string; Target: string; ReadOnly: true }> {
  return LXCFS_MOUNTS.map((m) => ({ Type: "bind", Source: m.source, Target: m.target, ReadOnly: true }));
}

/**
 * Environment that makes GNU `nproc` agree with the CPU quota (lxcfs cannot:
 * nproc asks the scheduler for the affinity mask). ceil(cpus), at least 1,
 * the same figure lxcfs --enable-cfs shows in /proc/cpuinfo.
 */
export function nprocEnv(cpus: number): string[] {
  return [`OMP_NUM_THREADS=${Math.max(1, Math.ceil(cpus))}`];
}

/**
 * Make lxcfs serve when this machine can (root on Linux: scripts/ensure-lxcfs.sh
 * installs and starts it); true when nodes can get truthful views. Elsewhere
 * (Docker Desktop, no root) nodes show the host's figures and the brief says
 * where the node's limits are.
 */
export function ensureLxcfs(log: (line: string) => void): boolean {
  if (lxcfsAvailable()) return true;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot && process.platform === "linux") {
    log("starting lxcfs so nodes report their own memory, CPUs and uptime");
    spawnSync("bash", [path.join(repoRoot(), "scripts", "ensure-lxcfs.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  }
  const ok = lxcfsAvailable();
  if (!ok) log("lxcfs is not serving: free/top/uptime in the nodes show this machine's figures (scripts/ensure-lxcfs.sh, as root, fixes it)");
  return ok;
}
