import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import { exec } from "../driver/engine";
import { repoRoot } from "../images/repo";
import { LABEL_ROLE, LABEL_STACK } from "../plan/names";

/** Where a failed level's logs go; the nightly workflow uploads this folder. */
export function logsDir(levelId: string): string {
  return path.join(repoRoot(), ".drills", "logs", levelId);
}

/** The folders on a node whose files say what went wrong (services under supervisor, the app, the datastores). */
export const NODE_LOG_DIRS = ["/var/log/drills", "/var/log/nginx", "/var/log/supervisor", "/var/log/postgresql", "/var/log/mysql"];

/** Enough of a log to see the failure without uploading a runaway file. */
const MAX_BYTES = 2 * 1024 * 1024;

const safe = (p: string) => p.replace(/^\/+/, "").replace(/[^A-Za-z0-9._-]+/g, "_");

/**
 * Before a failed level is torn down, write what its nodes said:
 * `docker logs`, the container's state and health log, and the files under
 * NODE_LOG_DIRS, to .drills/logs/<level>/<role>/. Returns the files written.
 * Never throws: a node that is gone or stopped still gets what can be read.
 */
export async function collectLogs(docker: Docker, stack: string, levelId: string): Promise<string[]> {
  const dir = logsDir(levelId);
  fs.rmSync(dir, { recursive: true, force: true });
  const written: string[] = [];
  const write = (rel: string, data: string | Buffer) => {
    const f = path.join(dir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, data);
    written.push(f);
  };
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_STACK}=${stack}`] } }).catch(() => []);
  for (const info of containers) {
    const name = (info.Names[0] ?? info.Id).replace(/^\//, "");
    const role = info.Labels[LABEL_ROLE] ?? name;
    const c = docker.getContainer(info.Id);
    try {
      // Without a TTY the stream is multiplexed: demux it into one text.
      const raw = (await c.logs({ stdout: true, stderr: true, timestamps: true, tail: 5000 })) as unknown as Buffer;
      write(path.join(role, "docker.log"), demux(raw));
    } catch (e) {
      write(path.join(role, "docker.log"), `docker logs failed: ${(e as Error).message}\n`);
    }
    try {
      const state = (await c.inspect()).State;
      write(path.join(role, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
    } catch {
      /* gone already: docker.log says so */
    }
    if (info.State !== "running") continue;
    try {
      const list = await exec(docker, info.Id, ["sh", "-c", `find ${NODE_LOG_DIRS.join(" ")} -maxdepth 2 -type f 2>/dev/null || true`]);
      for (const file of list.stdout.split("\n").filter(Boolean)) {
        const r = await exec(docker, info.Id, ["tail", "-c", String(MAX_BYTES), file]);
        write(path.join(role, "files", safe(file)), r.stdout);
      }
    } catch (e) {
      write(path.join(role, "files-error.txt"), `${(e as Error).message}\n`);
    }
  }
  if (containers.length === 0) write("no-containers.txt", `No container of stack ${stack} was on the engine when the level failed.\n`);
  return written;
}

/** Docker's multiplexed log stream (8-byte frame headers) as plain text; a TTY stream passes through. */
function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === 0 ? buf.toString("utf8") : Buffer.concat(parts).toString("utf8");
}
