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
