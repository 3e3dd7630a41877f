import { spawn } from "child_process";
import * as path from "path";
import { connect } from "../../driver/engine";
import { stackResources } from "../../driver/deployer";

export const ROOT = path.join(__dirname, "..", "..");
export const CLI = path.join(ROOT, "bin", "drills.js");

/** Count what the engine holds with this stack's label. */
export async function leftovers(stack: string): Promise<{ containers: number; networks: number; volumes: number }> {
  const r = await stackResources(await connect(), stack);
  return { containers: r.containers.length, networks: r.networks.length, volumes: r.volumes.length };
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    // Jest's process.env does not reach children: extra variables go in explicitly.
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 15 * 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
