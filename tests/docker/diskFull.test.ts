import { spawnSync } from "child_process";
import * as fs from "fs";
import { volumeProvider } from "../../components/docker/resources";
import { levelPlan } from "../../compose/plan";
import { createVolume, down, removeVolume, up, waitHealthy } from "../../driver/deployer";
import { connect, exec } from "../../driver/engine";
import { ext4ImagePath, ext4VolumesSupported, loopDevicesFor } from "../../driver/ext4Volume";
import { JOB, UPLOAD_DIR } from "../../faults/diskFull";
import { getLevel, levelIds } from "../../levels";
import * as game from "../../runtime/game";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { leftovers } from "./helpers";

jest.setTimeout(20 * 60_000);

const report = (line: string) => process.stderr.write(`${line}\n`);

/** Nothing of an ext4 volume on the host: no Docker volume, no loop device on its image, no image file. */
async function hostLeftovers(name: string): Promise<string[]> {
  const docker = await connect();
  const out: string[] = [];
  if (await docker.getVolume(name).inspect().then(() => true, () => false)) out.push(`volume ${name}`);
  const image = ext4ImagePath(name);
  if (spawnSync("losetup", ["-a"], { encoding: "utf8" }).stdout.includes(image)) out.push(`loop device on ${image}`);
  if (fs.existsSync(image)) out.push(`image ${image}`);
  return out;
}

const ext4 = ext4VolumesSupported() ? describe : describe.skip;

ext4("disk-full on a real ext4 volume: the trainee's shortcuts fail, teardown leaves nothing", () => {
  const stack = "test-disk-full-shortcuts";
  const level = getLevel("disk-full");
  const plan = dockerPlan(levelPlan(level, parseOptions({ level: "disk-full", stack }, levelIds())));
  const backend = plan.nodes.find((n) => n.role === "backend")!;
  const volume = backend.volumes.find((v) => v.target === UPLOAD_DIR)!;
  const sh = async (script: string) => exec(await connect(), backend.name, ["bash", "-c", script]);

  beforeAll(async () => {
    await down(stack);
    await up(plan);
  });
  afterAll(async () => {
    await down(stack);
  });

  it("the uploads volume is a 64 MiB ext4 filesystem inside the node, on a loop device of the host", async () => {
    const r = await sh(`df -T -k ${UPLOAD_DIR} | tail -1; stat -f -c %T ${UPLOAD_DIR}`);
    const [df, statType] = r.stdout.trim().split("\n");
    const [, type, sizeKiB, , availKiB] = df.trim().split(/\s+/);
    report(`[disk-full] in the node: ${df.trim()} (stat -f: ${statType})`);
    expect(type).toBe("ext4");
    expect(statType).toMatch(/ext2\/ext3/); // stat -f names every ext* this way
    expect(Number(sizeKiB)).toBeGreaterThan(48 * 1024);
    expect(Number(sizeKiB)).toBeLessThanOrEqual(64 * 1024);
    expect(Number(availKiB)).toBeLessThan(1024);
    expect(loopDevicesFor(ext4ImagePath(volume.name))).toHaveLength(1);
    // The image is sparse and capped: it never takes more than the cap on the host.
    expect(fs.statSync(ext4ImagePath(volume.name)).blocks * 512).toBeLessThanOrEqual(64 * 1024 * 1024);
  });

  it("deleting only the temp file does not fix it: the job, run as cron runs it, fills the volume again", async () => {
    expect((await sh(`rm -f ${JOB.temp}`)).code).toBe(0);
    const v = await game.check(level, plan);
    report(`[disk-full] temp file deleted only: ${JSON.stringify(v)}`);
    expect(v.ok).toBe(false);
    expect(v.reasons.join("\n")).toMatch(/scheduled jobs ran once/);
    expect(v.figures.freeAfterJobsMiB).toBeLessThan(1);
  });

  it("restarting the node does not fix it", async () => {
    const docker = await connect();
    await docker.getContainer(backend.name).restart();
    await waitHealthy(docker, backend);
    const v = await game.check(level, plan);
    expect(v.ok).toBe(false);
    expect(v.reasons.join("\n")).toMatch(/Only 0 MiB free/);
  });

  it("disabling the job and deleting its temp file fixes it; users' files count by content, not name", async () => {
    // cron skips /etc/cron.d files whose names hold a dot: the job is off.
    expect((await sh(`mv ${JOB.schedule} ${JOB.schedule}.disabled && rm -f ${JOB.temp}`)).code).toBe(0);
    const ok = await game.check(level, plan);
    expect(ok.reasons).toEqual([]);
    expect(ok.figures.scheduledRuns).toBe(0);
    // A renamed file is still the user's file.
    expect((await sh(`mv ${UPLOAD_DIR}/scan-01.pdf ${UPLOAD_DIR}/renamed.pdf`)).code).toBe(0);
    expect((await game.check(level, plan)).ok).toBe(true);
    // A deleted one is lost; so is one whose content changed under its name.
    expect((await sh(`rm ${UPLOAD_DIR}/renamed.pdf && echo x >>${UPLOAD_DIR}/scan-02.pdf`)).code).toBe(0);
    const lost = await game.check(level, plan);
    expect(lost.ok).toBe(false);
    expect(lost.reasons).toEqual([expect.stringMatching(/Users' uploaded files were lost: 18 of 20/)]);
  });

  it("down removes the volume, its loop device and its image file", async () => {
    await down(stack);
    expect(await leftovers(stack)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    expect(await hostLeftovers(volume.name)).toEqual([]);
  });
});

ext4("the Pulumi Volume resource's provider makes and removes the same volumes", () => {
  const name = `drills-test-pulumi-vol-${process.pid}`;
  const labels = { "drills.test": "diskFull" };
  const create = volumeProvider.create!.bind(volumeProvider);
  const del = volumeProvider.delete!.bind(volumeProvider);

  afterAll(async () => {
    await removeVolume(await connect(), name);
  });

  it("create: an ext4 filesystem of the cap on its own loop device; delete: nothing left", async () => {
    const made = await create({ name, labels, volume: { name, target: "/data", sizeMiB: 32, filesystem: "ext4" } });
    expect(made.id).toBe(name);
    expect(made.outs.filesystem).toBe("ext4");
    const device = loopDevicesFor(ext4ImagePath(name))[0];
    expect(made.outs.driverOpts).toEqual({ type: "ext4", device, o: "discard" });
    const docker = await connect();
    expect((await docker.getVolume(name).inspect()).Options).toEqual({ type: "ext4", device, o: "discard" });
    // Mounted in a container it is what it says.
    const out = spawnSync("docker", ["run", "--rm", "--network", "none", "-v", `${name}:/data`, "debian:bookworm-slim", "sh", "-c", "df -T -k /data | tail -1"], {
      encoding: "utf8",
    });
    expect(out.status).toBe(0);
    const [, type, sizeKiB] = out.stdout.trim().split(/\s+/);
    expect(type).toBe("ext4");
    expect(Number(sizeKiB)).toBeLessThanOrEqual(32 * 1024);
    await del(name, made.outs);
    expect(await hostLeftovers(name)).toEqual([]);
    // Deleting again is fine (a destroy after an interrupted one).
    await del(name, made.outs);
  });

  it("falls back to a tmpfs of the cap where the host cannot make ext4 volumes", async () => {
    process.env.DRILLS_EXT4_VOLUMES = "0";
    let made: Awaited<ReturnType<typeof createVolume>>;
    try {
      expect(ext4VolumesSupported()).toBe(false);
      made = await createVolume(await connect(), { name, target: "/data", sizeMiB: 16, filesystem: "ext4" }, labels);
    } finally {
      delete process.env.DRILLS_EXT4_VOLUMES;
    }
    expect(made.filesystem).toBe("tmpfs");
    expect((await (await connect()).getVolume(name).inspect()).Options).toEqual({ type: "tmpfs", device: "tmpfs", o: "size=16m,mode=1777" });
    expect(fs.existsSync(ext4ImagePath(name))).toBe(false);
    await del(name, {});
    expect(await hostLeftovers(name)).toEqual([]);
  });
});
