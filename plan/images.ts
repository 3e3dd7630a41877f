import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DrillsError } from "./errors";
import { repoRoot } from "./repo";
import { Engine, ImageSpec, Role, SeedSize } from "./types";

/** What each role's image build reads, relative to the repository root. */
export const ROLE_INPUTS: Record<Role, string[]> = {
  proxy: ["roles/common", "roles/proxy", "app/frontend"],
  backend: ["roles/common", "roles/backend", "app/backend", "app/db"],
  datastore: ["roles/common", "roles/datastore", "app/db"],
};

/** Generated at `npm run build` (esbuild bundle of pg + mysql2 for the backend). */
export const BACKEND_VENDOR = "app/backend/vendor.js";

function listFiles(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return [];
  if (fs.statSync(abs).isFile()) return [rel];
  return fs
    .readdirSync(abs)
    .filter((n) => n !== "node_modules")
    .flatMap((n) => listFiles(root, path.posix.join(rel, n)));
}

/** Every file a role's build reads, sorted, the Dockerfile included. */
export function roleInputFiles(role: Role, root: string = repoRoot()): string[] {
  const files = ROLE_INPUTS[role].flatMap((d) => listFiles(root, d));
  if (role === "backend" && !files.includes(BACKEND_VENDOR)) {
    throw new DrillsError(
      `${BACKEND_VENDOR} is missing: it bundles the backend's database drivers. ` +
        "Run `npm run build` (npm ci runs it for you) and try again.",
    );
  }
  return Array.from(new Set(files)).sort();
}

/** Content hash of the files and build args: the image tag. */
export function inputsHash(files: string[], buildArgs: Record<string, string>, root: string = repoRoot()): string {
  const h = crypto.createHash("sha256");
  for (const f of files) {
    h.update(f).update("\0").update(fs.readFileSync(path.join(root, f))).update("\0");
  }
  const args = Object.keys(buildArgs)
    .sort()
    .map((k) => `${k}=${buildArgs[k]}`);
  h.update(args.join("\n"));
  return h.digest("hex").slice(0, 16);
}

export interface ImageParams {
  baseImage: string;
  engine: Engine;
  seed: SeedSize;
}

/** The image spec of a role; the backend image is the same for both engines. */
export function roleImage(role: Role, params: ImageParams): ImageSpec {
  const buildArgs: Record<string, string> = { BASE_IMAGE: params.baseImage };
  if (role === "datastore") {
    buildArgs.DB_ENGINE = params.engine;
    buildArgs.SEED_USERS = String(params.seed.users);
    buildArgs.SEED_INVOICES = String(params.seed.invoices);
  }
  const inputs = roleInputFiles(role);
  return {
    role,
    tag: `drills/${role}:${inputsHash(inputs, buildArgs)}`,
    context: ".",
    dockerfile: `roles/${role}/Dockerfile`,
    buildArgs,
    inputs,
  };
}
