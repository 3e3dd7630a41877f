import * as net from "net";
import { Client, ClientChannel, ConnectConfig } from "ssh2";
import { CheckContext, ExecResult } from "../faults/types";
import { datastorePort, PLAYER_USER, SSH_ENTRY, SSH_PORT } from "../plan/app";
import { LevelPlan, Role } from "../plan/types";
import { loadApp } from "./browser";
import { http, sql } from "./context";

/**
 * How to reach a level's nodes by SSH, as a player does: the entry node
 * (the proxy) at an address this machine reaches, every other node through
 * it by the name (Docker) or private address (AWS) the entry node knows.
 */
export interface SshAccess {
  entry: { host: string; port: number };
  /** Per role: the host the entry node dials (the entry's own is unused). */
  hosts: Record<Role, string>;
  user: string;
  /** OpenSSH private key of the stack. */
  privateKey: string;
  /** Give up on a connection after this long (default 20 s). */
  readyTimeoutMs?: number;
}

/** SSH access to a Docker stack: the proxy's published SSH port, the others by their names on the level network. */
export function dockerSshAccess(plan: LevelPlan, privateKey: string): SshAccess {
  const entry = plan.nodes.find((n) => n.role === SSH_ENTRY)?.ports.find((p) => p.internal === SSH_PORT);
  if (!entry) throw new Error(`plan ${plan.stack}: the ${SSH_ENTRY} publishes no SSH port`);
  const hosts = Object.fromEntries(plan.nodes.map((n) => [n.role, n.hostname])) as Record<Role, string>;
  return { entry: { host: "127.0.0.1", port: entry.host }, hosts, user: PLAYER_USER, privateKey };
}

function connectClient(cfg: ConnectConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    // ssh2 may emit more than one error for one failed connection; the first
    // settles, later ones (and errors after ready) surface through the
    // operation that meets them.
    c.on("error", (e) => {
      reject(e);
      c.end();
    });
    c.once("ready", () => resolve(c));
    c.connect(cfg);
  });
}

/**
 * A node's sshd may still be starting (its host keys are made at first
 * start): retry a refused or reset connection until `ms` pass. A refused key
 * is final.
 */
async function retryWhileStarting<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const err = e as Error & { level?: string };
      if (err.level === "client-authentication" || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Run actions (solutions, shortcuts, their undo) in order over SSH; a failing one stops with its output. */
export async function runOverSsh(a: SshAccess, actions: Array<{ id: string; node: Role; script: string }>): Promise<void> {
  for (const x of actions) {
    const r = await sshExec(a, x.node, x.script);
    if (r.code !== 0) throw new Error(`action ${x.id} on ${x.node} failed over SSH (exit ${r.code}): ${r.stderr || r.stdout}`);
  }
}

function forwardOut(c: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => c.forwardOut("127.0.0.1", 0, host, port, (e, ch) => (e ? reject(e) : resolve(ch))));
}

/** A node's session: the clients of its route (entry first); `close` ends them all. */
interface Session {
  client: Client;
  close(): void;
}

/** Log in to a role's node: straight to the entry node, through it (a forwarded TCP channel) for the others. */
export async function openSession(a: SshAccess, role: Role): Promise<Session> {
  const auth = { username: a.user, privateKey: a.privateKey, readyTimeout: a.readyTimeoutMs ?? 20_000 };
  const entry = await retryWhileStarting(() => connectClient({ host: a.entry.host, port: a.entry.port, ...auth }), a.readyTimeoutMs ?? 20_000);
  if (role === SSH_ENTRY) return { client: entry, close: () => entry.end() };
  try {
    const sock = await forwardOut(entry, a.hosts[role], SSH_PORT);
    const node = await connectClient({ sock, ...auth });
    return {
      client: node,
      close: () => {
        node.end();
        entry.end();
      },
    };
  } catch (e) {
    entry.end();
    throw e;
  }
}

/** Run a command with `stdin`, collecting its output and exit status. */
export function execOn(c: Client, command: string, stdin = ""): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, ch) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code = -1;
      ch.on("data", (d: Buffer) => out.push(d));
      ch.stderr.on("data", (d: Buffer) => errOut.push(d));
      ch.on("exit", (status: number | null) => (code = status ?? 128));
      ch.on("close", () => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(errOut).toString("utf8") }));
      ch.end(stdin);
    });
  });
}

/** Run a bash script as root on a node, as the player's user through sudo (from /, as docker exec does). */
export async function sshExec(a: SshAccess, role: Role, script: string): Promise<ExecResult> {
  const s = await openSession(a, role);
  try {
    return await execOn(s.client, "cd / && sudo -n bash -s", script);
  } finally {
    s.close();
  }
}

/**
 * A local TCP port that reaches `host:port` as `role`'s node sees it (ssh -L):
 * every connection to it is a channel forwarded by that node.
 */
export async function tunnel(a: SshAccess, role: Role, host: string, port: number): Promise<{ port: number; close(): void }> {
  const s = await openSession(a, role);
  const server = net.createServer((sock) => {
    forwardOut(s.client, host, port).then(
      (ch) => {
        sock.pipe(ch).pipe(sock);
        sock.on("error", () => ch.close());
        ch.on("error", () => sock.destroy());
      },
      () => sock.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const local = (server.address() as net.AddressInfo).port;
  return {
    port: local,
    close: () => {
      server.close();
      s.close();
    },
  };
}

/**
 * Probes and checks over SSH only, as a player reaches the level: exec
 * through sudo on each node, SQL through a tunnel from the backend (the
 * app's own path to the datastore), HTTP and the browser at the plan's
 * public URLs. Used for AWS stacks, and in tests on Docker stacks.
 */
export function sshContext(plan: LevelPlan, a: SshAccess): CheckContext {
  return {
    plan,
    exec: (role, script) => sshExec(a, role, script),
    http,
    sql: async (q, p) => {
      const t = await tunnel(a, "backend", a.hosts.datastore, datastorePort(plan.engine));
      try {
        return await sql(plan, q, p, { host: "127.0.0.1", port: t.port });
      } finally {
        t.close();
      }
    },
    browser: (url, steps) => loadApp(url ?? plan.appUrl, 15_000, steps),
    restart: (role) => rebootOverSsh(a, role),
  };
}

/**
 * Reboot a node (EC2: `systemctl reboot`) and resolve once SSH answers from
 * a new boot (the kernel's boot_id changed), within 5 minutes.
 */
async function rebootOverSsh(a: SshAccess, role: Role): Promise<void> {
  const bootId = async (): Promise<string> => (await sshExec(a, role, "cat /proc/sys/kernel/random/boot_id")).stdout.trim();
  const before = await bootId();
  await sshExec(a, role, "nohup bash -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &");
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 3000));
    const now = await bootId().catch(() => "");
    if (now && now !== before) return;
  }
  throw new Error(`the ${role} node did not come back from a reboot within 5 minutes`);
}
