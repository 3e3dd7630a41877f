import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * A Docker named volume that is a real, size-capped ext4 filesystem, for
 * disk-filling faults: filling it gives ENOSPC inside the container, `df`
 * shows its true size, and unlike a tmpfs it does not count against the
 * container's memory limit (the page cache it uses is charged but reclaimable;
 * a 64 MiB fill in a 32 MiB container finishes with ENOSPC, where a tmpfs of
 * the same size gets the container OOM-killed).
 *
 * Docker's local driver mounts with mount(2), not mount(8), so `o=loop` does
 * not work ("data: loop: invalid argument"): the loop device has to exist
 * before the volume is used. Host-side steps (root):
 *
 *   create:   truncate -s <size>M <dir>/<name>.img          (sparse file)
 *             mkfs.ext4 -q -F -m 0 <image>                  (no reserved blocks)
 *             debugfs -w -R "sif <2> mode 041777" <image>   (root dir 1777, like the tmpfs)
 *             losetup -f --show <image>                     -> /dev/loopN
 *             docker volume create -d local -o type=ext4 -o device=/dev/loopN -o o=discard <name>
 *   teardown: docker volume rm <name>          (containers using it removed first)
 *             losetup -d /dev/loopN            (every device backed by the image: losetup -j <image>)
 *             rm <image>
 *
 * `docker volume rm` alone leaves the loop device attached and the image file
 * on disk (Docker only unmounts the filesystem, which it already does when the
 * last container using the volume stops). `o=discard` makes deletions inside
 * the volume punch holes in the sparse image, so the host gets the space back
 * before teardown.
 *
 * The driver options only name the device, so Pulumi's docker.Volume can
 * create the same volume (driverOpts = ext4DriverOpts(device)) once
 * attachExt4Image has run on the host (e.g. from a @pulumi/command
 * local.Command whose delete runs detachExt4Image).
 *
 * Caveat: loop devices do not survive a host reboot, the volume's device path
 * does. After a reboot remove such volumes (removeExt4Volume) and recreate
 * them; never reuse one, as /dev/loopN may then back another image.
 */

export const EXT4_IMAGE_DIR = process.env.DRILLS_EXT4_DIR ?? "/var/lib/drills/ext4";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface Ext4Image {
  name: string;
  image: string;
  device: string;
  driverOpts: Record<string, string>;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`ext4 volume name ${JSON.stringify(name)} is not a valid Docker volume name`);
}

export function ext4ImagePath(name: string): string {
  checkName(name);
  return path.join(EXT4_IMAGE_DIR, `${name}.img`);
}

/** Options for Docker's local driver that mount an attached loop device as ext4. */
export function ext4DriverOpts(device: string): Record<string, string> {
  return { type: "ext4", device, o: "discard" };
}

/** Loop devices currently backed by this image (normally zero or one). */
export function loopDevicesFor(image: string): string[] {
  if (!fs.existsSync(image)) return [];
  const out = run("losetup", ["-n", "-O", "NAME", "-j", image]);
  return out.split("\n").map((l) => l.trim()).filter(Boolean);
}

/**
 * True when this host can make ext4 volumes: root, losetup, mkfs.ext4,
 * debugfs. DRILLS_EXT4_VOLUMES=0 turns them off (capped volumes are then tmpfs).
 */
export function ext4VolumesSupported(): boolean {
  if (process.env.DRILLS_EXT4_VOLUMES === "0") return false;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return false;
  try {
    run("losetup", ["--version"]);
    run("mkfs.ext4", ["-V"]);
    run("debugfs", ["-V"]);
    return fs.existsSync("/dev/loop-control");
  } catch {
    return false;
  }
}

/**
 * Host side of create: a sparse image of sizeMiB, formatted ext4, attached to
 * a free loop device. Idempotent: an image already attached is returned as is.
 */
export function attachExt4Image(name: string, sizeMiB: number): Ext4Image {
  const image = ext4ImagePath(name);
  if (!Number.isInteger(sizeMiB) || sizeMiB < 8) throw new Error(`ext4 volume size must be a whole number of MiB, at least 8 (got ${sizeMiB})`);
  const attached = loopDevicesFor(image);
  if (attached.length > 0) return { name, image, device: attached[0], driverOpts: ext4DriverOpts(attached[0]) };
  fs.mkdirSync(EXT4_IMAGE_DIR, { recursive: true });
  try {
    fs.rmSync(image, { force: true });
    run("truncate", ["-s", `${sizeMiB}M`, image]);
    run("mkfs.ext4", ["-q", "-F", "-m", "0", image]);
    run("debugfs", ["-w", "-R", "sif <2> mode 041777", image]);
    const device = run("losetup", ["-f", "--show", image]);
    return { name, image, device, driverOpts: ext4DriverOpts(device) };
  } catch (e) {
    fs.rmSync(image, { force: true });
    throw e;
  }
}

/** Host side of teardown: detach every loop device backed by the image, delete it. */
export function detachExt4Image(name: string): void {
  const image = ext4ImagePath(name);
  for (const dev of loopDevicesFor(image)) run("losetup", ["-d", dev]);
  fs.rmSync(image, { force: true });
}

/**
 * A size-capped ext4 named volume: host image + loop device + `docker volume
 * create` with the local driver. Labels are passed to the volume.
 */
export function createExt4Volume(name: string, sizeMiB: number, labels: Record<string, string> = {}): Ext4Image {
  const img = attachExt4Image(name, sizeMiB);
  const args = ["volume", "create", "-d", "local"];
  for (const [k, v] of Object.entries(img.driverOpts)) args.push("-o", `${k}=${v}`);
  for (const [k, v] of Object.entries(labels)) args.push("--label", `${k}=${v}`);
  try {
    run("docker", [...args, name]);
  } catch (e) {
    detachExt4Image(name);
    throw e;
  }
  return img;
}

/**
 * Remove the volume, then its loop device and image. Idempotent. The volume
 * must no longer be used by any container (remove those first); if Docker
 * refuses, nothing else is touched and the error is thrown.
 */
export function removeExt4Volume(name: string): void {
  ext4ImagePath(name);
  try {
    run("docker", ["volume", "rm", name]);
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message);
    if (!/no such volume/i.test(msg)) throw new Error(`docker volume rm ${name}: ${msg.trim()}`);
  }
  detachExt4Image(name);
}
