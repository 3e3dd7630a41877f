import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../images/repo";
import { DrillsError } from "../plan/errors";

/**
 * The real Pulumi CLI, run as a user runs it (`pulumi up --stack ...` in
 * the project folder). Where no `pulumi` is on PATH, the toolchain that
 * scripts/pulumi-toolchain.sh builds from Go modules is used.
 */
export const PULUMI_VERSION = "3.248.0";

export function toolchainBin(): string {
  return process.env.DRILLS_TOOLCHAIN_DIR
    ? path.join(process.env.DRILLS_TOOLCHAIN_DIR, "bin")
    : path.join(os.homedir(), ".cache", "drills", `pulumi-${PULUMI_VERSION}`, "bin");
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

export interface PulumiSetup {
  /** Folder of the pulumi binary (and its plugins). */
  bin: string;
  /** The state backend (a local folder unless PULUMI_BACKEND_URL says otherwise). */
  backend: string;
  env: NodeJS.ProcessEnv;
}

/** Where the CLI and its language host are, and a local file backend: no account, no network. */
export function pulumiSetup(): PulumiSetup {
  const built = toolchainBin();
  const bin = fs.existsSync(path.join(built, "pulumi")) && fs.existsSync(path.join(built, "pulumi-language-nodejs")) ? built : path.dirname(onPath("pulumi") ?? "");
  if (!bin || !fs.existsSync(path.join(bin, "pulumi"))) {
    throw new DrillsError(
      `No Pulumi CLI found (looked in ${built} and on PATH). Run \`bash scripts/pulumi-toolchain.sh\` ` +
        "(builds it from Go modules) or install Pulumi.",
    );
  }
  const state = path.join(repoRoot(), ".drills", "pulumi-state");
  fs.mkdirSync(state, { recursive: true });
  const backend = process.env.PULUMI_BACKEND_URL ?? `file://${state}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: backend,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // `npm run build` (tsc) has type-checked the program: ts-node only transpiles (a program run 3x faster).
    PULUMI_NODEJS_TRANSPILE_ONLY: process.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
  };
  return { bin, backend, env };
}

export interface PulumiRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Run `pulumi <args>` in the project folder; never throws for a non-zero exit. */
export function pulumi(setup: PulumiSetup, args: string[], timeoutMs = 20 * 60_000): Promise<PulumiRun> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(path.join(setup.bin, "pulumi"), [...args, "--non-interactive"], { cwd: repoRoot(), env: setup.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** Run and require success; the error carries the command's last output lines. */
export async function pulumiOk(setup: PulumiSetup, args: string[]): Promise<PulumiRun> {
  const r = await pulumi(setup, args);
  if (r.code !== 0) {
    // Diagnostics (the error itself) come last on stdout; stderr has the rest.
    const out = `${r.stdout}\n${r.stderr}`.trim().split("\n");
    const diag = out.findIndex((l) => l.startsWith("Diagnostics:"));
    const tail = (diag >= 0 ? out.slice(diag, diag + 30) : out.slice(-30)).join("\n");
    throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.code}):\n${tail}`);
  }
  return r;
}
