import Docker from "dockerode";
import { DrillsError } from "../plan/errors";

/** Connect to the local Docker engine (DOCKER_HOST or the default socket). */
export async function connect(): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (e) {
    const where = process.env.DOCKER_HOST ?? "/var/run/docker.sock";
    throw new DrillsError(
      `Cannot reach the Docker engine at ${where} (${(e as Error).message}). ` +
        "Start Docker (e.g. `sudo systemctl start docker`, or `dockerd &` as root) and try again.",
    );
  }
  return docker;
}

/** Follow a build or pull stream to its end; reject on the first error event. */
export function follow(docker: Docker, stream: NodeJS.ReadableStream, onLine?: (line: string) => void): Promise<string[]> {
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: Array<{ error?: string }>) => {
        const failed = err ?? events.find((ev) => ev.error);
        if (failed) {
          // The last lines of output say why; the error alone rarely does.
          const why = err ? err.message : String((failed as { error?: string }).error);
          reject(new Error(`${why}\n--- last output ---\n${tail.slice(-15).join("\n")}`));
        }
        else resolve(tail);
      },
      (ev: { stream?: string; status?: string; error?: string }) => {
        const text = (ev.stream ?? ev.status ?? ev.error ?? "").replace(/\n$/, "");
        if (!text) return;
        tail.push(text);
        if (tail.length > 40) tail.shift();
        onLine?.(text);
      },
    );
  });
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Run a command in a container; resolves with its exit code and output. */
export async function exec(
  docker: Docker,
  container: string,
  cmd: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = docker.getContainer(container);
  const e = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: stdin !== undefined });
  const stream = await e.start({ hijack: true, stdin: stdin !== undefined });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const { PassThrough } = await import("stream");
  const o = new PassThrough();
  const r = new PassThrough();
  o.on("data", (b: Buffer) => out.push(b));
  r.on("data", (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, o, r);
  if (stdin !== undefined) {
    stream.write(stdin);
    // Half-close so `bash -s` sees end of input.
    (stream as unknown as { end: () => void }).end();
  }
  await new Promise<void>((resolve, reject) => {
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", reject);
  });
  let info = await e.inspect();
  while (info.Running) {
    await new Promise((res) => setTimeout(res, 50));
    info = await e.inspect();
  }
  return {
    code: info.ExitCode ?? -1,
    stdout: Buffer.concat(out).toString("utf8"),
    stderr: Buffer.concat(err).toString("utf8"),
  };
}

/** What went wrong talking to the engine, in a user's terms; "other" for anything drills does not recognise. */
export type DockerProblem =
  | { kind: "engine"; detail: string }
  | { kind: "gone"; detail: string }
  | { kind: "conflict"; detail: string }
  | { kind: "port"; port?: number; detail: string }
  | { kind: "other"; detail: string };

/** The engine's own message of a dockerode error, without the "(HTTP code N)" wrapping. */
function engineMessage(e: { message?: string; json?: unknown }): string {
  const j = e.json as { message?: string } | undefined;
  return (j?.message ?? e.message ?? String(e)).replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, "").trim();
}

/** For `.catch` on a removal: what is already gone is done; anything else is still an error. */
export function ignoreGone(e: { statusCode?: number }): void {
  if (e.statusCode !== 404) throw e;
}

/** Classify an error from dockerode: the socket gone, a container removed meanwhile, a name conflict, a port taken. */
export function dockerProblem(err: unknown): DockerProblem {
  const e = (err ?? {}) as { code?: string; statusCode?: number; message?: string; json?: unknown; address?: string };
  const msg = engineMessage(e);
  if (e.code && ["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EPIPE", "ETIMEDOUT"].includes(e.code) && !e.statusCode) {
    return { kind: "engine", detail: `${e.code} on ${e.address ?? process.env.DOCKER_HOST ?? "/var/run/docker.sock"}` };
  }
  const port = /(?:Bind for [\d.]+:(\d+) failed: port is already allocated|listen tcp[46]? [\d.[\]:]*:(\d+): bind: address already in use)/.exec(msg);
  if (port || /port is already allocated|address already in use/.test(msg)) {
    return { kind: "port", port: port ? Number(port[1] ?? port[2]) : undefined, detail: msg };
  }
  if (e.statusCode === 404) return { kind: "gone", detail: msg };
  if (e.statusCode === 409) return { kind: "conflict", detail: msg };
  return { kind: "other", detail: msg };
}

/**
 * A known engine error as a DrillsError paragraph (what happened, what to
 * do); undefined for anything else, which the CLI reports as unexpected.
 */
export function explainDockerError(err: unknown): DrillsError | undefined {
  const p = dockerProblem(err);
  switch (p.kind) {
    case "engine":
      return new DrillsError(
        `The Docker engine stopped answering (${p.detail}). Start Docker again (e.g. \`sudo systemctl start docker\`), ` +
          "then run `drills status` to see what is left and `drills down <level>` to remove it.",
      );
    case "gone":
      return new DrillsError(
        `Docker says: ${p.detail}. Something removed it while this command ran (another \`drills down\`, or \`docker rm\`). ` +
          "Run `drills status` to see what is left, then run the command again.",
      );
    case "conflict":
      return new DrillsError(
        `Docker refused: ${p.detail}. A container, network or volume of that name already exists (made outside drills, or by ` +
          "an earlier run): remove it (`docker rm -f NAME`, `docker network rm NAME`) or use another --stack, then run the command again.",
      );
    case "port":
      return new DrillsError(
        `Docker could not publish ${p.port ? `port ${p.port}` : "a port"} on 127.0.0.1: it is already in use (${p.detail}). ` +
          "Stop what holds it, or pass --base-port with a free port, then run the command again.",
      );
    default:
      return undefined;
  }
}
