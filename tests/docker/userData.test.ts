import * as fs from "fs";
import Docker from "dockerode";
import { roleBundle } from "../../components/aws/bundle";
import { renderUserData } from "../../components/aws/userData";
import { connect, exec } from "../../driver/engine";
import { down } from "../../driver/level";
import { getLevel, levelIds } from "../../levels";
import { buildPlan } from "../../plan/build";
import { dockerPlan } from "../../plan/endpoints";
import { DEFAULT_BASE_IMAGE, parseOptions } from "../../plan/options";
import { LevelPlan, NodeSpec, Role } from "../../plan/types";
import { leftovers } from "./helpers";

jest.setTimeout(20 * 60_000);

/**
 * The EC2 provisioning path short of the AWS API: each role's rendered user
 * data runs as root in a PLAIN debian:bookworm-slim container (no role image,
 * no systemd), as cloud-init would run it on a fresh instance, and the three
 * nodes then serve the app. The nodes find each other through the /etc/hosts
 * lines the user data writes (the network gives them no aliases).
 */
const STACK = "test-userdata";
const SOURCE = "/tmp/drills-src.tar.gz";
const USER_DATA = "/tmp/user-data.sh";

/** A ustar archive of regular files (for putArchive; no directory entries, so /tmp keeps its mode). */
function tarOf(files: Array<{ name: string; data: Buffer; mode: number }>): Buffer {
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, "0") + "\0";
  const parts: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, "utf8");
    h.write(octal(f.mode, 8), 100, "ascii");
    h.write(octal(0, 8), 108, "ascii");
    h.write(octal(0, 8), 116, "ascii");
    h.write(octal(f.data.length, 12), 124, "ascii");
    h.write(octal(Math.floor(Date.now() / 1000), 12), 136, "ascii");
    h.write("        ", 148, "ascii");
    h.write("0", 156, "ascii");
    h.write("ustar\0", 257, "ascii");
    h.write("00", 263, "ascii");
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
    parts.push(h, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("rendered user data provisions plain Debian containers (EC2 path without AWS)", () => {
  let docker: Docker;
  let plan: LevelPlan;
  const userData = {} as Record<Role, string>;
  const results = {} as Record<Role, { code: number; seconds: number }>;
  const node = (role: Role): NodeSpec => plan.nodes.find((n) => n.role === role)!;
  const sh = (role: Role, script: string) => exec(docker, node(role).name, ["bash", "-c", script]);

  /** Why a node failed: the end of the user data log, drills-start's log and supervisor's view. */
  async function diagnose(role: Role): Promise<string> {
    const r = await sh(
      role,
      "tail -n 40 /var/log/drills-user-data.log; echo '--- drills-start.log'; tail -n 20 /var/log/drills-start.log 2>/dev/null; " +
        "echo '--- supervisorctl status'; supervisorctl status 2>&1; for f in /var/log/supervisor/*.log /var/log/postgresql/postgresql.log; do " +
        '[ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; true',
    ).catch((e: Error) => ({ stdout: `(exec failed: ${e.message})`, stderr: "" }));
    return `${role}:\n${r.stdout}${r.stderr}`;
  }

  async function waitHealthy(role: Role, limitSeconds: number): Promise<number> {
    const t = Date.now();
    const deadline = t + limitSeconds * 1000;
    for (;;) {
      const probe = await exec(docker, node(role).name, node(role).healthcheck.command.slice(1));
      if (probe.code === 0) return (Date.now() - t) / 1000;
      if (Date.now() > deadline) {
        throw new Error(`${role} not healthy after ${limitSeconds} s: ${probe.stdout}${probe.stderr}\n${await diagnose(role)}`);
      }
      await sleep(1000);
    }
  }

  beforeAll(async () => {
    await down(STACK);
    docker = await connect();
    const options = parseOptions({ level: "baseline", stack: STACK }, levelIds());
    plan = dockerPlan(buildPlan(getLevel("baseline"), options));

    // Plain base containers on a bridge network of their own, with the level's labels
    // so `down` removes them. No aliases: names resolve only through /etc/hosts.
    await docker.createNetwork({ Name: plan.networkName, Driver: "bridge", Labels: plan.labels, CheckDuplicate: true });
    for (const n of plan.nodes) {
      const c = await docker.createContainer({
        name: n.name,
        Hostname: n.hostname,
        Image: DEFAULT_BASE_IMAGE,
        Cmd: ["sleep", "infinity"],
        Labels: { ...plan.labels, "drills.role": n.role },
        // Memory as the Docker level has it; no CPU cap, so apt and the seed run at full speed.
        HostConfig: {
          Memory: n.memoryMiB * 1024 * 1024,
          MemorySwap: n.memoryMiB * 1024 * 1024,
          ShmSize: n.shmMiB * 1024 * 1024,
          NetworkMode: plan.networkName,
        },
      });
      await c.start();
    }
    const ips = {} as Record<Role, string>;
    for (const n of plan.nodes) {
      const info = await docker.getContainer(n.name).inspect();
      ips[n.role] = info.NetworkSettings.Networks[plan.networkName].IPAddress;
      expect(ips[n.role]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }

    // Render, copy in, and run the three user data scripts at once: each
    // needs only the others' addresses, which are known before any runs.
    await Promise.all(
      plan.nodes.map(async (n) => {
        userData[n.role] = renderUserData({
          role: n.role,
          env: n.env,
          buildArgs: n.image.buildArgs,
          hosts: Object.fromEntries(plan.nodes.filter((o) => o.role !== n.role).map((o) => [o.hostname, ips[o.role]])),
          volumes: [],
          ttlHours: 4,
          source: { kind: "file", path: SOURCE },
        });
        const archive = tarOf([
          { name: SOURCE.replace(/^\/tmp\//, ""), data: fs.readFileSync(roleBundle(n.image)), mode: 0o644 },
          { name: USER_DATA.replace(/^\/tmp\//, ""), data: Buffer.from(userData[n.role]), mode: 0o755 },
        ]);
        await docker.getContainer(n.name).putArchive(archive, { path: "/tmp" });
        const t = Date.now();
        const r = await exec(docker, n.name, ["bash", USER_DATA]);
        results[n.role] = { code: r.code, seconds: (Date.now() - t) / 1000 };
        process.stderr.write(`userData: ${n.role} user data exit ${r.code} in ${results[n.role].seconds.toFixed(1)} s\n`);
        if (r.code !== 0) process.stderr.write(`${await diagnose(n.role)}\n`);
      }),
    );
  });

  afterAll(async () => {
    await down(STACK);
  });

  it("runs each role's user data to the end as root", async () => {
    for (const n of plan.nodes) {
      if (results[n.role].code !== 0) throw new Error(`user data of ${n.role} exited ${results[n.role].code}\n${await diagnose(n.role)}`);
      const log = await sh(n.role, "tail -n 1 /var/log/drills-user-data.log");
      expect(log.stdout).toMatch(/^drills user data: done /);
      // The sources came from the bundle, as on EC2 from S3.
      expect((await sh(n.role, `test -f /opt/drills-src/roles/${n.role}/provision.sh && echo ok`)).stdout.trim()).toBe("ok");
    }
  });

  it("brings every node to healthy under drills-start without systemd", async () => {
    expect(Object.values(results).every((r) => r.code === 0)).toBe(true);
    // The datastore first: the backend retries its database, then supervisor restarts it.
    const waited: string[] = [];
    for (const role of ["datastore", "backend", "proxy"] as Role[]) {
      waited.push(`${role} +${(await waitHealthy(role, 180)).toFixed(1)} s`);
    }
    process.stderr.write(`userData: healthy after user data: ${waited.join(", ")}\n`);
    for (const n of plan.nodes) {
      // Every program RUNNING (a just-restarted one may still be STARTING for its startsecs).
      let sup = await sh(n.role, "supervisorctl status");
      for (let i = 0; i < 20 && /STARTING|BACKOFF/.test(sup.stdout); i++) {
        await sleep(500);
        sup = await sh(n.role, "supervisorctl status");
      }
      expect(sup.stdout).toMatch(/RUNNING/);
      expect(sup.stdout).not.toMatch(/STARTING|FATAL|BACKOFF|STOPPED|EXITED/);
      // No systemd here: supervisord runs under drills-start (setsid), not as PID 1.
      expect((await sh(n.role, "pgrep -x supervisord >/dev/null && test ! -d /run/systemd/system && echo ok")).stdout.trim()).toBe("ok");
    }
  });

  it("serves the app through the proxy: front end, API and database", async () => {
    const health = await sh("proxy", "curl -fsS --max-time 10 http://127.0.0.1/api/health");
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: "ok", db: "ok", engine: "postgres" });
    const invoices = await sh("proxy", "curl -fsS --max-time 10 'http://127.0.0.1/api/invoices?pageSize=5'");
    expect(invoices.code).toBe(0);
    const page = JSON.parse(invoices.stdout) as { items: unknown[]; total: number };
    expect(page.items).toHaveLength(5);
    expect(page.total).toBe(Number(node("datastore").image.buildArgs.SEED_INVOICES));
    const html = await sh("proxy", "curl -fsS --max-time 10 http://127.0.0.1/");
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('id="users-list"');
    // Names from the user data's /etc/hosts lines.
    const hosts = await sh("proxy", "getent hosts backend datastore");
    expect(hosts.stdout).toMatch(/\bbackend\b/);
    expect(hosts.stdout).toMatch(/\bdatastore\b/);
  });

  it("keeps secrets out of user data; the backend uses its env.sh default", async () => {
    for (const role of Object.keys(userData) as Role[]) {
      expect(userData[role]).not.toMatch(/DB_PASSWORD/);
      expect((await sh(role, `grep -c DB_PASSWORD ${USER_DATA} || true`)).stdout.trim()).toBe("0");
    }
    expect(node("backend").env.DB_PASSWORD).toBeDefined(); // the plan has it; the filter dropped it
    const env = await sh("backend", "cat /etc/drills/backend.env");
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^DB_HOST='datastore'$/m);
    expect(env.stdout).toMatch(/^DB_PASSWORD='drills'$/m);
  });

  it("times the user data per role", () => {
    const line = plan.nodes.map((n) => `${n.role} ${results[n.role].seconds.toFixed(1)} s`).join(", ");
    process.stderr.write(`userData: user data run times: ${line}\n`);
    for (const n of plan.nodes) expect(results[n.role].seconds).toBeLessThan(15 * 60);
  });

  it("down removes every container and the network", async () => {
    const before = await leftovers(STACK);
    expect(before).toEqual({ containers: 3, networks: 1, volumes: 0 });
    expect(await down(STACK)).toEqual(before);
    expect(await leftovers(STACK)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
});
