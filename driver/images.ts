import { spawnSync } from "child_process";
import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import { DrillsError } from "../plan/errors";
import { LABEL_ROLE } from "../plan/names";
import { StagedImage } from "../images/context";
import { repoRoot } from "../images/repo";
import { follow, imageExists } from "./engine";

export type Log = (line: string) => void;

/**
 * Make sure the base image exists: present, else pulled, else (as root, where
 * no registry answers) built from Debian's mirror by scripts/base-image.sh.
 */
export async function ensureBaseImage(docker: Docker, ref: string, log: Log): Promise<void> {
  if (await imageExists(docker, ref)) return;
  log(`pulling ${ref}`);
  try {
    await follow(docker, await docker.pull(ref));
    return;
  } catch (e) {
    log(`cannot pull ${ref}: ${(e as Error).message.split("\n")[0]}`);
  }
  const script = path.join(repoRoot(), "scripts", "base-image.sh");
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot && fs.existsSync("/etc/debian_version")) {
    log(`building ${ref} locally with debootstrap (about a minute)`);
    const r = spawnSync("bash", [script, ref], { stdio: ["ignore", "inherit", "inherit"] });
    if (r.status === 0 && (await imageExists(docker, ref))) return;
  }
  throw new DrillsError(
    `The base image ${ref} is not on this machine and cannot be pulled. ` +
      `Run \`sudo bash scripts/base-image.sh ${ref}\` (builds it from Debian's mirror with debootstrap), ` +
      "or set a reachable mirror with `--base-image` / drills:baseImage.",
  );
}

/** Build a role image from its staged context unless its content-hash tag already exists. */
export async function buildImage(docker: Docker, spec: StagedImage, log: Log): Promise<"cached" | "built"> {
  if (await imageExists(docker, spec.tag)) return "cached";
  log(`building ${spec.tag}`);
  const started = Date.now();
  const stream = await docker.buildImage(
    { context: spec.dir, src: spec.files },
    { t: spec.tag, dockerfile: spec.dockerfile, buildargs: spec.buildArgs, labels: { [LABEL_ROLE]: spec.role }, rm: true, forcerm: true },
  );
  try {
    await follow(docker, stream);
  } catch (e) {
    throw new DrillsError(`Building ${spec.tag} from ${spec.dockerfile} failed: ${(e as Error).message}`);
  }
  log(`built ${spec.tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return "built";
}
