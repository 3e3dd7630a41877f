import { spawnSync } from "child_process";
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { connect, exec, imageExists } from "../../driver/engine";
import { createExt4Volume, ext4ImagePath, ext4VolumesSupported, loopDevicesFor, removeExt4Volume } from "../../driver/ext4Volume";
import { LXCFS_DIR, lxcfsAvailable, lxcfsDockerMounts, nprocEnv } from "../../driver/lxcfs";
import { DEFAULT_BASE_IMAGE } from "../../plan/options";
import { ROOT } from "./helpers";

jest.setTimeout(10 * 60_000);

// Plain containers (no level): the base image plus procps, limited like the
// backend node. Everything this file makes carries LABEL, and is removed
// before and after the run.
const IMAGE = "drills-test-nodetruth:procps";
const LABEL = "drills.test";
const LABEL_VALUE = "nodeTruth";
const MiB = 1024 * 1024;
const MEM_MIB = 256;
const CPUS = 0.5;

async function removeOurContainers(docker: Docker): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${LABEL_VALUE}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

function sh(container: string, docker: Docker, script: string) {
  return exec(docker, container, ["sh", "-c", script]);
}

/** Run a command to its end in a fresh container; always removes it. */
async function runToExit(docker: Docker, opts: Docker.ContainerCreateOptions): Promise<{ output: string; oomKilled: boolean; code: number }> {
  const c = await docker.createContainer({ Image: IMAGE, Tty: true, Labels: { [LABEL]: LABEL_VALUE }, ...opts });
  try {
    await c.start();
    await c.wait();
    const output = (await c.logs({ stdout: true, stderr: true })).toString("utf8");
    const st = (await c.inspect()).State;
    return { output, oomKilled: st.OOMKilled, code: st.ExitCode };
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

let docker: Docker;

beforeAll(async () => {
  docker = await connect();
  await removeOurContainers(docker);
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "ensure-lxcfs.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/ensure-lxcfs.sh failed: ${r.stderr}`);
  if (!(await imageExists(docker, IMAGE))) {
    const dockerfile = `FROM ${DEFAULT_BASE_IMAGE}\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq procps >/dev/null && rm -rf /var/lib/apt/lists/*\n`;
    const b = spawnSync("docker", ["build", "-q", "-t", IMAGE, "-"], { input: dockerfile, encoding: "utf8" });
    if (b.status !== 0) throw new Error(`building ${IMAGE} failed: ${b.stderr}`);
  }
});

afterAll(async () => {
  await removeOurContainers(docker);
});

describe("lxcfs: the usual tools tell the truth about a limited node", () => {
  const name = `drills-test-nodetruth-${process.pid}`;
  let startedAt: number;

  beforeAll(async () => {
    expect(lxcfsAvailable()).toBe(true);
    const c = await docker.createContainer({
      name,
      Image: IMAGE,
      Cmd: ["sleep", "infinity"],
      Env: nprocEnv(CPUS),
      Labels: { [LABEL]: LABEL_VALUE },
      HostConfig: { Memory: MEM_MIB * MiB, NanoCpus: CPUS * 1e9, Mounts: lxcfsDockerMounts() },
    });
    await c.start();
    startedAt = Date.parse((await c.inspect()).State.StartedAt);
  });

  afterAll(async () => {
    await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  });

  it("free shows the memory limit, not the host's memory", async () => {
    const r = await sh(name, docker, "free -k");
    expect(r.code).toBe(0);
    const mem = r.stdout.split("\n").find((l) => l.startsWith("Mem:"))!.trim().split(/\s+/);
    const totalKiB = Number(mem[1]);
    const usedKiB = Number(mem[2]);
    expect(totalKiB).toBe(MEM_MIB * 1024);
    expect(usedKiB).toBeLessThan(MEM_MIB * 1024);
    const m = await sh(name, docker, "free -m | awk '/^Mem:/ { print $2 }'");
    expect(Number(m.stdout.trim())).toBe(MEM_MIB);
  });

  it("nproc, /proc/cpuinfo and the online CPU count show 1 CPU for --cpus 0.5", async () => {
    const r = await sh(name, docker, "nproc; grep -c ^processor /proc/cpuinfo; getconf _NPROCESSORS_ONLN; grep -c '^cpu[0-9]' /proc/stat");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").map(Number)).toEqual([1, 1, 1, 1]);
  });

  it("uptime counts from the container's start", async () => {
    const r = await sh(name, docker, "cat /proc/uptime; uptime");
    expect(r.code).toBe(0);
    const [line, up] = r.stdout.trim().split("\n");
    const seconds = Number(line.split(" ")[0]);
    const age = (Date.now() - startedAt) / 1000;
    expect(Math.abs(seconds - age)).toBeLessThan(5);
    // `uptime` prints minutes: the container is minutes old at most.
    const mins = /up\s+(\d+)\s+min/.exec(up);
    expect(mins).not.toBeNull();
    expect(Number(mins![1])).toBeLessThanOrEqual(Math.ceil(age / 60));
  });

  it("top shows the container's memory and its own load", async () => {
    const r = await sh(name, docker, "top -bn1 | head -5; echo ---; cat /proc/loadavg");
    expect(r.code).toBe(0);
    const [top, loadavg] = r.stdout.split("---\n");
    const mem = /MiB Mem\s*:\s*([\d.]+)\s+total/.exec(top);
    expect(mem).not.toBeNull();
    expect(Number(mem![1])).toBe(MEM_MIB);
    // top's load average is the container's /proc/loadavg (lxcfs -l): its
    // running/total field counts the container's tasks (a handful), not the
    // host's hundreds.
    const load = /load average:\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(top)!.slice(1).map(Number);
    const fields = loadavg.trim().split(/\s+/);
    fields.slice(0, 3).map(Number).forEach((v, i) => expect(Math.abs(v - load[i])).toBeLessThan(0.1));
    const tasks = Number(fields[3].split("/")[1]);
    const hostTasks = Number(fs.readFileSync("/proc/loadavg", "utf8").split(/\s+/)[3].split("/")[1]);
    expect(tasks).toBeLessThan(10);
    expect(hostTasks).toBeGreaterThan(tasks * 5);
  });

  it("vmstat's memory columns fit inside the limit", async () => {
    const r = await sh(name, docker, "vmstat | tail -1");
    const cols = r.stdout.trim().split(/\s+/).map(Number);
    // r b swpd free buff cache ...
    expect(cols[3] + cols[4] + cols[5]).toBeLessThanOrEqual(MEM_MIB * 1024);
  });

  it("the host still shows its own figures", async () => {
    const free = spawnSync("free", ["-k"], { encoding: "utf8" }).stdout;
    const hostTotal = Number(free.split("\n").find((l) => l.startsWith("Mem:"))!.trim().split(/\s+/)[1]);
    expect(hostTotal).toBe(Math.floor(os.totalmem() / 1024));
    expect(hostTotal).toBeGreaterThan(MEM_MIB * 1024 * 2);
    expect(Number(spawnSync("nproc", { encoding: "utf8" }).stdout.trim())).toBe(os.cpus().length);
    const hostUptime = Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    expect(Math.abs(hostUptime - os.uptime())).toBeLessThan(2);
    // lxcfs answers a host process with the host's view too.
    expect(Number(fs.readFileSync(`${LXCFS_DIR}/proc/uptime`, "utf8").split(" ")[0])).toBeGreaterThan(hostUptime - 2);
  });
});

const ext4 = ext4VolumesSupported() ? describe : describe.skip;

ext4("a size-capped ext4 named volume", () => {
  const vol = `drills-test-ext4-${process.pid}`;
  const labels = { [LABEL]: LABEL_VALUE };

  afterAll(async () => {
    await removeOurContainers(docker);
    removeExt4Volume(vol);
    removeExt4Volume(`${vol}-rm`);
  });

  it("fills to ENOSPC without counting against a 32 MiB memory limit (a tmpfs of the same size is OOM-killed)", async () => {
    const img = createExt4Volume(vol, 64, labels);
    expect(img.device).toMatch(/^\/dev\/loop\d+$/);
    const fill = "df -k /data | tail -1; dd if=/dev/zero of=/data/fill bs=1M count=200; echo dd=$?; df -k /data | tail -1";
    const r = await runToExit(docker, {
      User: "65534", // nobody: the volume's root is 1777 like the tmpfs
      Cmd: ["sh", "-c", fill],
      HostConfig: { Memory: 32 * MiB, Mounts: [{ Type: "volume", Source: vol, Target: "/data" }] },
    });
    expect(r.output).toContain("No space left on device");
    expect(r.output).toContain("dd=1");
    expect(r.oomKilled).toBe(false);
    const dfLines = r.output.split("\n").filter((l) => l.startsWith("/dev/loop"));
    const sizeKiB = Number(dfLines[0].trim().split(/\s+/)[1]);
    expect(sizeKiB).toBeGreaterThan(48 * 1024);
    expect(sizeKiB).toBeLessThanOrEqual(64 * 1024);
    expect(dfLines[1]).toMatch(/100%/);

    const t = await runToExit(docker, {
      Cmd: ["sh", "-c", "dd if=/dev/zero of=/data/fill bs=1M count=200; echo dd=$?"],
      HostConfig: { Memory: 32 * MiB, Tmpfs: { "/data": "size=64m" } },
    });
    expect(t.oomKilled || /Killed|dd=137/.test(t.output)).toBe(true);
  });

  it("teardown leaves no volume, loop device, mount or image file", async () => {
    const image = ext4ImagePath(vol);
    const device = loopDevicesFor(image)[0];
    expect(device).toBeDefined();
    removeExt4Volume(vol);
    await expect(docker.getVolume(vol).inspect()).rejects.toThrow();
    expect(fs.existsSync(image)).toBe(false);
    expect(spawnSync("losetup", ["-a"], { encoding: "utf8" }).stdout).not.toContain(image);
    expect(fs.readFileSync("/proc/mounts", "utf8")).not.toContain(`${device} `);
  });

  it("`docker volume rm` alone leaves the loop device and the image behind", async () => {
    const name = `${vol}-rm`;
    const img = createExt4Volume(name, 16, labels);
    await docker.getVolume(name).remove();
    expect(fs.existsSync(img.image)).toBe(true);
    expect(loopDevicesFor(img.image)).toEqual([img.device]);
    removeExt4Volume(name); // idempotent: the volume is already gone
    expect(fs.existsSync(img.image)).toBe(false);
    expect(spawnSync("losetup", ["-a"], { encoding: "utf8" }).stdout).not.toContain(img.image);
  });
});
