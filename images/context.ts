import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DrillsError } from "../plan/errors";
import { BACKEND_VENDOR } from "../plan/recipe";
import { ImageSpec, Role } from "../plan/types";
import { repoRoot } from "./repo";

/**
 * A role image ready to build: its inputs copied into a build context of
 * their own and tagged by a hash of their content and build args. The
 * driver, the Pulumi docker.Image and the AWS role bundle all use this one
 * staged folder, so they build from exactly the same files.
 */
export interface StagedImage {
  role: Role;
  /** drills/<role>:<hash>; unchanged inputs give the same tag, so no rebuild. */
  tag: string;
  hash: string;
  /** Absolute path of the staged build context (the inputs at their repository paths). */
  dir: string;
  /** Every file in it, sorted, relative to dir. */
  files: string[];
  /** Relative to dir. */
  dockerfile: string;
  buildArgs: Record<string, string>;
}

function listFiles(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return [];
  if (fs.statSync(abs).isFile()) return [rel];
  return fs
    .readdirSync(abs)
    .filter((n) => n !== "node_modules")
    .flatMap((n) => listFiles(root, path.posix.join(rel, n)));
}

/** Every file a role's build reads, sorted. */
export function inputFiles(spec: ImageSpec, root: string = repoRoot()): string[] {
  const files = Array.from(new Set(spec.inputs.flatMap((d) => listFiles(root, d)))).sort();
  if (spec.role === "backend" && !files.includes(BACKEND_VENDOR)) {
    throw new DrillsError(
      `${BACKEND_VENDOR} is missing: it bundles the backend's database drivers. ` +
        "Run `npm run build` (npm ci runs it for you) and try again.",
    );
  }
  return files;
}

/** Content hash of the files and build args: the image tag. */
export function inputsHash(files: string[], buildArgs: Record<string, string>, root: string = repoRoot()): string {
  const h = crypto.createHash("sha256");
  for (const f of files) h.update(f).update("\0").update(fs.readFileSync(path.join(root, f))).update("\0");
  const args = Object.keys(buildArgs)
    .sort()
    .map((k) => `${k}=${buildArgs[k]}`);
  h.update(args.join("\n"));
  return h.digest("hex").slice(0, 16);
}

/** Folder under which build contexts are staged (ignored by git). */
export function stagingRoot(root: string = repoRoot()): string {
  return path.join(root, ".drills", "contexts");
}

/**
 * Stage a role's build context (once per content hash) and return it. The
 * copy is made in a temporary folder and renamed, so a concurrent or
 * interrupted run never leaves a half-written context under the final name.
 */
export function stageImage(spec: ImageSpec, root: string = repoRoot()): StagedImage {
  const files = inputFiles(spec, root);
  const hash = inputsHash(files, spec.buildArgs, root);
  const dir = path.join(stagingRoot(root), `${spec.role}-${hash}`);
  if (!fs.existsSync(dir)) {
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const f of files) {
      const to = path.join(tmp, f);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(root, f), to);
      fs.chmodSync(to, fs.statSync(path.join(root, f)).mode & 0o777);
    }
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      // Another process staged the same hash first: same content, keep theirs.
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(dir)) throw e;
    }
  }
  return { role: spec.role, tag: `drills/${spec.role}:${hash}`, hash, dir, files, dockerfile: spec.dockerfile, buildArgs: spec.buildArgs };
}
