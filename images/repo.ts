import * as fs from "fs";
import * as path from "path";

let cached: string | undefined;

/**
 * The repository root (the folder holding Pulumi.yaml). Code runs both from
 * sources (ts-jest, Pulumi's ts-node) and from dist/, so walk up rather than
 * hard-code a depth.
 */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) && fs.existsSync(path.join(dir, "roles"))) {
      cached = dir;
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`drills: cannot find the repository root above ${__dirname}`);
    dir = up;
  }
}
