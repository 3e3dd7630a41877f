import { volumeDriverOpts, volumeFilesystem } from "../../plan/app";
import { diskFull } from "../../faults/diskFull";
import { levelPlan } from "../../compose/plan";
import { getLevel, levelIds } from "../../levels";
import { parseOptions } from "../../plan/options";

describe("capped volumes", () => {
  const capped = { name: "v", target: "/data", sizeMiB: 64, filesystem: "ext4" as const };

  it("ext4 where the host can make it, else a tmpfs of the same cap; a plain volume stays plain", () => {
    expect(volumeFilesystem(capped, true)).toBe("ext4");
    expect(volumeFilesystem(capped, false)).toBe("tmpfs");
    expect(volumeFilesystem({ ...capped, filesystem: "tmpfs" }, true)).toBe("tmpfs");
    expect(volumeFilesystem({ name: "p", target: "/p" }, true)).toBeUndefined();
    expect(volumeDriverOpts(capped)).toEqual({ type: "tmpfs", device: "tmpfs", o: "size=64m,mode=1777" });
    expect(volumeDriverOpts({ name: "p", target: "/p" })).toBeUndefined();
  });

  it("disk-full asks for a 64 MiB ext4 uploads volume and says so in its bounds, tmpfs fallback included", () => {
    const plan = levelPlan(getLevel("disk-full"), parseOptions({ level: "disk-full", stack: "u-vol" }, levelIds()));
    const backend = plan.nodes.find((n) => n.role === "backend")!;
    expect(backend.volumes).toEqual([{ name: "drills-u-vol-uploads", target: "/var/lib/drills/uploads", sizeMiB: 64, filesystem: "ext4" }]);
    const bounds = diskFull().bounds.join(" ");
    expect(bounds).toMatch(/64 MiB ext4/);
    expect(bounds).toMatch(/64 MiB tmpfs where the host cannot make ext4 volumes/);
  });

  it("the story's artifacts name the job, its schedule, its log and its temp file", () => {
    const a = diskFull().story!.artifacts.join("\n");
    for (const p of ["/usr/local/bin/nightly-export", "/etc/cron.d/nightly-export", "/var/log/drills/nightly-export.log", "nightly-export.csv.tmp"]) expect(a).toContain(p);
  });
});
