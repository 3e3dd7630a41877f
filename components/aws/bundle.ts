import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { StagedImage } from "../../images/context";
import { repoRoot } from "../../images/repo";

/**
 * The role's sources as a reproducible tar.gz: exactly the files its Docker
 * build reads (ImageSpec.inputs), at the same repository paths, so an EC2
 * instance runs the same provisioning script on the same files.
 * Cached under .drills/bundles by the image tag (a content hash).
 */
export function roleBundle(image: StagedImage): string {
  const root = repoRoot();
  const dir = path.join(root, ".drills", "bundles");
  const file = path.join(dir, `${image.role}-${image.hash}.tar.gz`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  execFileSync(
    "tar",
    ["-C", image.dir, "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-czf", tmp, "--", ...image.files],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  fs.renameSync(tmp, file);
  return file;
}
