import * as crypto from "crypto";
import * as fs from "fs";
import { Readable } from "stream";
import Docker from "dockerode";
import { roleBundle } from "../../components/aws/bundle";
import { stageImage } from "../../images/context";
import { renderUserData } from "../../components/aws/userData";
import { connect, exec, follow } from "../../driver/engine";
import { down } from "../../driver/deployer";
import { getLevel, levelIds } from "../../levels";
import { levelPlan } from "../../compose/plan";
import { dockerPlan } from "../../plan/endpoints";
import { DEFAULT_BASE_IMAGE, parseOptions } from "../../plan/options";
import { LevelPlan, NodeSpec, Role } from "../../plan/types";
import { leftovers } from "./helpers";

jest.setTimeout(20 * 60_000);

/**
 * The EC2 provisioning path short of the AWS API: each role's rendered user
 * data runs as root in a bare Debian 12 container, as cloud-init would run it
 * on a fresh instance, and the three nodes then serve the app. Twice: in
 * PLAIN debian:bookworm-slim containers (no role image, no systemd: services
 * start under drills-start), and in containers with systemd as PID 1 (as on
 * EC2: supervisor.service, the time-to-live timer, the distro's services off).
 * The nodes find each other through the /etc/hosts lines the user data writes
 * (the network gives them no aliases).
 */
const SOURCE = "/tmp/drills-src.tar.gz";
const USER_DATA = "/tmp/user-data.sh";
const TTL_HOURS = 4;

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

interface Run {
  code: number;
  seconds: number;
  /** Wall-clock bounds of the run (ms since the epoch), for the time-to-live check. */
  started: number;
  ended: number;
}

/**
 * The baseline level's three nodes as bare containers of one image on a
 * bridge network of their own, with the level's labels so `down` removes
 * them. No aliases: names resolve only through the /etc/hosts lines the user
 * data writes. Everything goes through docker exec.
 */
class Nodes {
  docker!: Docker;
  plan!: LevelPlan;
  readonly userData = {} as Record<Role, string>;
  readonly results = {} as Record<Role, Run>;

  constructor(readonly stack: string) {}

  node(role: Role): NodeSpec {
    return this.plan.nodes.find((n) => n.role === role)!;
  }

  sh(role: Role, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return exec(this.docker, this.node(role).name, ["bash", "-c", script]);
  }

  /** Why a node failed: the end of the user data log, drills-start's log, supervisor's (and systemd's) view. */
  async diagnose(role: Role): Promise<string> {
    const r = await this.sh(
      role,
      "tail -n 40 /var/log/drills-user-data.log; echo '--- drills-start.log'; tail -n 20 /var/log/drills-start.log 2>/dev/null; " +
        "echo '--- supervisorctl status'; supervisorctl status 2>&1; for f in /var/log/supervisor/*.log /var/log/postgresql/postgresql.log; do " +
        '[ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; ' +
        "if [ -d /run/systemd/system ]; then echo '--- systemd'; systemctl is-system-running; systemctl --failed --no-pager; " +
        "systemctl status --no-pager -n 15 supervisor drills-ttl.timer drills-user-data 2>&1; fi; true",
    ).catch((e: Error) => ({ stdout: `(exec failed: ${e.message})`, stderr: "" }));
    return `${role}:\n${r.stdout}${r.stderr}`;
  }

  /** Seconds until the role's health check passes. */
  async waitHealthy(role: Role, limitSeconds: number): Promise<number> {
    const t = Date.now();
    const deadline = t + limitSeconds * 1000;
    for (;;) {
      const probe = await exec(this.docker, this.node(role).name, this.node(role).healthcheck.command.slice(1));
      if (probe.code === 0) return (Date.now() - t) / 1000;
      if (Date.now() > deadline) {
        throw new Error(`${role} not healthy after ${limitSeconds} s: ${probe.stdout}${probe.stderr}\n${await this.diagnose(role)}`);
      }
      await sleep(1000);
    }
  }

  /** `supervisorctl status` once nothing is STARTING or BACKOFF (a just-started program waits out its startsecs). */
  async supervisorStatus(role: Role): Promise<string> {
    let sup = await this.sh(role, "supervisorctl status");
    for (let i = 0; i < 20 && /STARTING|BACKOFF/.test(sup.stdout); i++) {
      await sleep(500);
      sup = await this.sh(role, "supervisorctl status");
    }
    return sup.stdout;
  }

  /** Plan the stack, then create and start one container of `image` per node. */
  async create(image: string, c: { cmd: string[]; stopSignal?: string; hostConfig?: Docker.HostConfig }): Promise<void> {
    this.docker = await connect();
    const options = parseOptions({ level: "baseline", stack: this.stack }, levelIds());
    this.plan = dockerPlan(levelPlan(getLevel("baseline"), options));
    await this.docker.createNetwork({ Name: this.plan.networkName, Driver: "bridge", Labels: this.plan.labels, CheckDuplicate: true });
    for (const n of this.plan.nodes) {
      const container = await this.docker.createContainer({
        name: n.name,
        Hostname: n.hostname,
        Image: image,
        Cmd: c.cmd,
        ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
        Labels: { ...this.plan.labels, "drills.role": n.role },
        // Memory as the Docker level has it; no CPU cap, so apt and the seed run at full speed.
        HostConfig: {
          Memory: n.memoryMiB * 1024 * 1024,
          MemorySwap: n.memoryMiB * 1024 * 1024,
          ShmSize: n.shmMiB * 1024 * 1024,
          NetworkMode: this.plan.networkName,
          ...c.hostConfig,
        },
      });
      await container.start();
    }
  }

  async ip(role: Role): Promise<string> {
    const info = await this.docker.getContainer(this.node(role).name).inspect();
    return info.NetworkSettings.Networks[this.plan.networkName].IPAddress;
  }

  /**
   * Render, copy in, and run the three user data scripts at once (`command`
   * runs USER_DATA): each needs only the others' addresses, which are known
   * before any runs.
   */
  async provision(command: string[]): Promise<void> {
    const ips = {} as Record<Role, string>;
    for (const n of this.plan.nodes) {
      ips[n.role] = await this.ip(n.role);
      expect(ips[n.role]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }
    await Promise.all(
      this.plan.nodes.map(async (n) => {
        this.userData[n.role] = renderUserData({
          role: n.role,
          env: n.env,
          buildArgs: n.image.buildArgs,
          hosts: Object.fromEntries(this.plan.nodes.filter((o) => o.role !== n.role).map((o) => [o.hostname, ips[o.role]])),
          volumes: [],
          ttlHours: TTL_HOURS,
          source: { kind: "file", path: SOURCE },
        });
        const archive = tarOf([
          { name: SOURCE.replace(/^\/tmp\//, ""), data: fs.readFileSync(roleBundle(stageImage(n.image))), mode: 0o644 },
          { name: USER_DATA.replace(/^\/tmp\//, ""), data: Buffer.from(this.userData[n.role]), mode: 0o755 },
        ]);
        await this.docker.getContainer(n.name).putArchive(archive, { path: "/tmp" });
        const started = Date.now();
        const r = await exec(this.docker, n.name, command);
        const ended = Date.now();
        this.results[n.role] = { code: r.code, seconds: (ended - started) / 1000, started, ended };
        process.stderr.write(`userData[${this.stack}]: ${n.role} user data exit ${r.code} in ${this.results[n.role].seconds.toFixed(1)} s\n`);
        if (r.code !== 0) process.stderr.write(`${r.stdout}${r.stderr}${await this.diagnose(n.role)}\n`);
      }),
    );
  }
}



/** Through the proxy, as a user: the front end, the API, the database behind it, and the nodes' names. */
function itServesTheApp(nodes: () => Nodes): void {
  it("serves the app through the proxy: front end, API and database", async () => {
    const s = nodes();
    const sh = (role: Role, script: string) => s.sh(role, script);
    const health = await sh("proxy", "curl -fsS --max-time 10 http://127.0.0.1/api/health");
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: "ok", db: "ok", engine: "postgres" });
    const invoices = await sh("proxy", "curl -fsS --max-time 10 'http://127.0.0.1/api/invoices?pageSize=5'");
    expect(invoices.code).toBe(0);
    const page = JSON.parse(invoices.stdout) as { items: unknown[]; total: number };
    expect(page.items).toHaveLength(5);
    expect(page.total).toBe(Number(s.node("datastore").image.buildArgs.SEED_INVOICES));
    const html = await sh("proxy", "curl -fsS --max-time 10 http://127.0.0.1/");
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('id="users-list"');
    // Names from the user data's /etc/hosts lines.
    const hosts = await sh("proxy", "getent hosts backend datastore");
    expect(hosts.stdout).toMatch(/\bbackend\b/);
    expect(hosts.stdout).toMatch(/\bdatastore\b/);
  });
}

/** The last test of each suite: down removes the three containers and the network, and only those. */
function itTearsDown(stack: () => string): void {
  it("down removes every container and the network", async () => {
    const before = await leftovers(stack());
    expect(before).toEqual({ containers: 3, networks: 1, volumes: 0 });
    expect(await down(stack())).toEqual(before);
    expect(await leftovers(stack())).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
}

describe("rendered user data provisions plain Debian containers (EC2 path without AWS)", () => {
  const s = new Nodes("test-userdata");
  const sh = (role: Role, script: string) => s.sh(role, script);

  beforeAll(async () => {
    await down(s.stack);
    await s.create(DEFAULT_BASE_IMAGE, { cmd: ["sleep", "infinity"] });
    await s.provision(["bash", USER_DATA]);
  });

  afterAll(async () => {
    await down(s.stack);
  });

  it("runs each role's user data to the end as root", async () => {
    for (const n of s.plan.nodes) {
      if (s.results[n.role].code !== 0) throw new Error(`user data of ${n.role} exited ${s.results[n.role].code}\n${await s.diagnose(n.role)}`);
      const log = await sh(n.role, "tail -n 1 /var/log/drills-user-data.log");
      expect(log.stdout).toMatch(/^drills user data: done /);
      // The sources came from the bundle, as on EC2 from S3.
      expect((await sh(n.role, `test -f /opt/drills-src/roles/${n.role}/provision.sh && echo ok`)).stdout.trim()).toBe("ok");
    }
  });

  it("brings every node to healthy under drills-start without systemd", async () => {
    expect(Object.values(s.results).every((r) => r.code === 0)).toBe(true);
    // The datastore first: the backend retries its database, then supervisor restarts it.
    const waited: string[] = [];
    for (const role of ["datastore", "backend", "proxy"] as Role[]) {
      waited.push(`${role} +${(await s.waitHealthy(role, 180)).toFixed(1)} s`);
    }
    process.stderr.write(`userData: healthy after user data: ${waited.join(", ")}\n`);
    for (const n of s.plan.nodes) {
      // Every program RUNNING (a just-restarted one may still be STARTING for its startsecs).
      const sup = await s.supervisorStatus(n.role);
      expect(sup).toMatch(/RUNNING/);
      expect(sup).not.toMatch(/STARTING|FATAL|BACKOFF|STOPPED|EXITED/);
      // No systemd here: supervisord runs under drills-start (setsid), not as PID 1.
      expect((await sh(n.role, "pgrep -x supervisord >/dev/null && test ! -d /run/systemd/system && echo ok")).stdout.trim()).toBe("ok");
    }
  });

  itServesTheApp(() => s);

  it("keeps secrets out of user data; the backend uses its env.sh default", async () => {
    for (const role of Object.keys(s.userData) as Role[]) {
      expect(s.userData[role]).not.toMatch(/DB_PASSWORD/);
      expect((await sh(role, `grep -c DB_PASSWORD ${USER_DATA} || true`)).stdout.trim()).toBe("0");
    }
    expect(s.node("backend").env.DB_PASSWORD).toBeDefined(); // the plan has it; the filter dropped it
    const env = await sh("backend", "cat /etc/drills/backend.env");
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^DB_HOST='datastore'$/m);
    expect(env.stdout).toMatch(/^DB_PASSWORD='drills'$/m);
  });

  it("times the user data per role", () => {
    const line = s.plan.nodes.map((n) => `${n.role} ${s.results[n.role].seconds.toFixed(1)} s`).join(", ");
    process.stderr.write(`userData: user data run times: ${line}\n`);
    for (const n of s.plan.nodes) expect(s.results[n.role].seconds).toBeLessThan(15 * 60);
  });

  itTearsDown(() => s.stack);
});

/**
 * A Debian 12 machine with systemd as PID 1, as an EC2 instance has, short of
 * the rest of a cloud image: dbus (systemd-run and a cloud image have it),
 * curl and CA certificates (the S3 download; python3 is only for that too, so
 * it is left out). Built once, locally, from the base image; rebuilt when
 * this recipe changes (its hash is a label).
 */
const SYSTEMD_IMAGE = "drills-test/debian-systemd:bookworm";
const SYSTEMD_DOCKERFILE = [
  `FROM ${DEFAULT_BASE_IMAGE}`,
  "RUN apt-get update -qq \\",
  " && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd systemd-sysv dbus curl ca-certificates \\",
  " && apt-get clean && rm -rf /var/lib/apt/lists/*",
  "STOPSIGNAL SIGRTMIN+3",
  'CMD ["/sbin/init"]',
  "",
].join("\n");

async function ensureSystemdImage(docker: Docker): Promise<"cached" | "built"> {
  const recipe = crypto.createHash("sha256").update(SYSTEMD_DOCKERFILE).digest("hex").slice(0, 16);
  const old = await docker.getImage(SYSTEMD_IMAGE).inspect().catch(() => undefined);
  if (old?.Config.Labels?.["drills.test.recipe"] === recipe) return "cached";
  const context = tarOf([{ name: "Dockerfile", data: Buffer.from(SYSTEMD_DOCKERFILE), mode: 0o644 }]);
  const stream = await docker.buildImage(Readable.from([context]), {
    t: SYSTEMD_IMAGE,
    labels: { "drills.test": "true", "drills.test.recipe": recipe },
    rm: true,
    forcerm: true,
  });
  await follow(docker, stream);
  // The previous recipe's image, now untagged.
  if (old) await docker.getImage(old.Id).remove().catch(() => undefined);
  return "built";
}

/**
 * Run as cloud-init's cloud-final.service runs user data on EC2: a oneshot
 * service (so supervisor, started with systemctl, lives in its own unit),
 * processes left behind not killed, no time limit.
 */
const CLOUD_FINAL = [
  "systemd-run", "--unit=drills-user-data", "--wait", "--quiet", "--service-type=oneshot",
  "-p", "KillMode=process", "-p", "TasksMax=infinity", "-p", "TimeoutStartSec=infinity",
];

describe("rendered user data provisions Debian containers running systemd (EC2 path with systemd)", () => {
  const s = new Nodes("test-userdata-systemd");
  const sh = (role: Role, script: string) => s.sh(role, script);
  const out = async (role: Role, script: string) => (await sh(role, script)).stdout.trim();
  const booted = {} as Record<Role, number>;
  let image: "cached" | "built";

  /** Seconds until systemd reports the boot finished (running, or degraded: some unit failed). */
  async function waitBooted(role: Role, limitSeconds = 90): Promise<number> {
    const t = Date.now();
    for (;;) {
      const state = await out(role, "systemctl is-system-running 2>&1 || true");
      if (state === "running" || state === "degraded") return (Date.now() - t) / 1000;
      if (Date.now() - t > limitSeconds * 1000) {
        throw new Error(`${role}: systemd not up after ${limitSeconds} s (${state})\n${await out(role, "systemctl list-jobs --no-pager; systemctl --failed --no-pager")}`);
      }
      await sleep(500);
    }
  }

  /** The master processes of a server: `name` processes whose parent is not one (postgres: the postmaster). */
  const masters = (name: string) =>
    `for p in $(pgrep -x ${name}); do [ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d " ")")" = ${name} ] || echo "$p"; done`;
  /** The unit (name=systemd cgroup leaf) a process runs in. */
  const unitOf = (pid: string) => `sed -n 's|^[0-9]*:name=systemd:.*/||p' /proc/${pid}/cgroup`;

  beforeAll(async () => {
    await down(s.stack);
    const t = Date.now();
    image = await ensureSystemdImage(await connect());
    process.stderr.write(`userData[systemd]: image ${SYSTEMD_IMAGE} ${image} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    await s.create(SYSTEMD_IMAGE, {
      cmd: ["/sbin/init"],
      stopSignal: "SIGRTMIN+3", // systemd's "halt"
      hostConfig: {
        // What systemd needs as PID 1 under Docker 20.10 with cgroup v1: to
        // mount and to manage its own cgroups (the host's hierarchy, read-only
        // on top, the controllers writable), and tmpfs on /run. --privileged
        // is refused by this engine (it lacks CAP_SYS_RESOURCE) and not needed.
        CapAdd: ["SYS_ADMIN"],
        Tmpfs: { "/run": "", "/run/lock": "" },
        Binds: ["/sys/fs/cgroup:/sys/fs/cgroup:ro"],
      },
    });
    await Promise.all(s.plan.nodes.map(async (n) => (booted[n.role] = await waitBooted(n.role))));
    await s.provision([...CLOUD_FINAL, "bash", USER_DATA]);
  });

  afterAll(async () => {
    await down(s.stack);
  });

  it("runs each role's user data to the end as a systemd service, as cloud-init would", async () => {
    for (const n of s.plan.nodes) {
      if (s.results[n.role].code !== 0) throw new Error(`user data of ${n.role} exited ${s.results[n.role].code}\n${await s.diagnose(n.role)}`);
      expect(await out(n.role, "tail -n 1 /var/log/drills-user-data.log")).toMatch(/^drills user data: done /);
      expect(await out(n.role, "cat /proc/1/comm; test -d /run/systemd/system && echo systemd-booted")).toBe("systemd\nsystemd-booted");
    }
  });

  it("runs supervisor as an enabled systemd service, prepared by drills-start, every program RUNNING", async () => {
    for (const role of ["datastore", "backend", "proxy"] as Role[]) await s.waitHealthy(role, 120);
    for (const n of s.plan.nodes) {
      expect(await out(n.role, "systemctl is-active supervisor; systemctl is-enabled supervisor")).toBe("active\nenabled");
      expect(await out(n.role, "systemctl show -p ExecStartPre --value supervisor")).toMatch(/path=\/usr\/local\/sbin\/drills-start ; argv\[\]=\/usr\/local\/sbin\/drills-start --prepare ;.*status=0\b/);
      // One supervisord, systemd's main process of supervisor.service.
      const pids = await out(n.role, "pgrep -x supervisord");
      expect(pids).toMatch(/^\d+$/);
      expect(await out(n.role, "systemctl show -p MainPID --value supervisor")).toBe(pids);
      expect(await out(n.role, unitOf(pids))).toBe("supervisor.service");
      const sup = await s.supervisorStatus(n.role);
      expect(sup).toMatch(/RUNNING/);
      expect(sup).not.toMatch(/STARTING|FATAL|BACKOFF|STOPPED|EXITED/);
      // Nothing failed on the way (the user data unit, the distro's services, the timer).
      expect(await out(n.role, "systemctl --failed --plain --no-legend --no-pager")).toBe("");
      expect(await out(n.role, "systemctl is-system-running || true")).toBe("running");
    }
  });

  it("leaves the distro's postgresql and nginx services off: one postmaster, one nginx master, both supervisor's", async () => {
    expect(await out("datastore", "systemctl is-enabled postgresql || true")).toMatch(/^(disabled|masked)$/);
    expect(await out("datastore", "systemctl is-active postgresql postgresql@15-main || true")).toBe("inactive\ninactive");
    const postmaster = await out("datastore", masters("postgres"));
    expect(postmaster).toMatch(/^\d+$/);
    expect(await out("datastore", "supervisorctl pid postgresql")).toBe(postmaster);
    expect(await out("datastore", "head -n 1 /var/lib/postgresql/15/main/postmaster.pid")).toBe(postmaster);
    expect(await out("datastore", unitOf(postmaster))).toBe("supervisor.service");

    expect(await out("proxy", "systemctl is-enabled nginx || true")).toMatch(/^(disabled|masked)$/);
    expect(await out("proxy", "systemctl is-active nginx || true")).toBe("inactive");
    const master = await out("proxy", masters("nginx"));
    expect(master).toMatch(/^\d+$/);
    expect(await out("proxy", "supervisorctl pid nginx")).toBe(master);
    expect(await out("proxy", unitOf(master))).toBe("supervisor.service");
  });

  it(`arms the time-to-live: a systemd timer ${TTL_HOURS} h after the user data started`, async () => {
    for (const n of s.plan.nodes) {
      const expires = Number(await out(n.role, 'date -u -d "$(cat /etc/drills/expires-at)" +%s')) * 1000;
      // Armed first thing (whole seconds), so within a minute of the start.
      expect(expires).toBeGreaterThanOrEqual(s.results[n.role].started + TTL_HOURS * 3600_000 - 1000);
      expect(expires).toBeLessThanOrEqual(s.results[n.role].started + TTL_HOURS * 3600_000 + 60_000);
      expect(await out(n.role, "systemctl is-active drills-ttl.timer; systemctl is-enabled drills-ttl.timer")).toBe("active\nenabled");
      expect(await out(n.role, "systemctl list-timers --all --no-pager --plain --no-legend")).toMatch(/drills-ttl\.timer\s+drills-ttl\.service/);
      // systemd read the calendar spec as meant: it fires at expires-at.
      expect(await out(n.role, 'date -u -d "$(systemctl show -p NextElapseUSecRealtime --value drills-ttl.timer)" +%s')).toBe(String(expires / 1000));
      expect(await out(n.role, "systemctl show -p ExecStart --value drills-ttl.service")).toMatch(/argv\[\]=\/sbin\/shutdown -h now ;/);
    }
  });

  itServesTheApp(() => s);

  it("answers again after `systemctl restart supervisor` on the backend, and on the proxy", async () => {
    const pids = (role: Role, program: string) => out(role, `systemctl show -p MainPID --value supervisor; supervisorctl pid ${program}`);
    for (const [role, program] of [["backend", "backend"], ["proxy", "nginx"]] as Array<[Role, string]>) {
      const before = (await pids(role, program)).split("\n");
      const t = Date.now();
      expect((await sh(role, "systemctl restart supervisor")).code).toBe(0);
      const healthy = await s.waitHealthy(role, 60);
      process.stderr.write(`userData[systemd]: ${role} supervisor restart: healthy after ${((Date.now() - t) / 1000).toFixed(1)} s (+${healthy.toFixed(1)} s)\n`);
      // A new supervisord and a new server; nothing of the old ones left.
      const after = (await pids(role, program)).split("\n");
      expect(after).toHaveLength(2);
      for (const [i, pid] of after.entries()) {
        expect(pid).toMatch(/^\d+$/);
        expect(pid).not.toBe(before[i]);
      }
      expect(await out(role, "pgrep -c -x supervisord")).toBe("1");
      expect(await s.supervisorStatus(role)).not.toMatch(/STARTING|FATAL|BACKOFF|STOPPED|EXITED/);
    }
    expect(await out("backend", "pgrep -c -x node")).toBe("1");
    expect(await out("proxy", masters("nginx"))).toBe(await out("proxy", "supervisorctl pid nginx"));
    // drills-start --prepare rewrote the env file from the one the user data wrote.
    expect(await out("backend", "cat /etc/drills/backend.env")).toMatch(/^DB_HOST='datastore'$/m);
    const health = await sh("proxy", "curl -fsS --max-time 10 http://127.0.0.1/api/health");
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: "ok", db: "ok" });
  });

  it("brings the datastore back after a reboot: supervisor at boot, distro postgresql still off, time-to-live kept", async () => {
    const ttlBefore = await out("datastore", "cat /etc/drills/expires-at");
    const ip = await s.ip("datastore");
    const t = Date.now();
    // docker restart: SIGRTMIN+3 (systemd halts cleanly), then a fresh boot with an empty /run.
    await s.docker.getContainer(s.node("datastore").name).restart({ t: 60 });
    const bootSeconds = await waitBooted("datastore");
    const healthySeconds = await s.waitHealthy("datastore", 120);
    process.stderr.write(`userData[systemd]: datastore reboot: booted +${bootSeconds.toFixed(1)} s, healthy +${healthySeconds.toFixed(1)} s, total ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    // The user data's /etc/hosts lines point the backend at this address (an EC2 private IP is kept too).
    expect(await s.ip("datastore")).toBe(ip);
    expect(await out("datastore", "systemctl is-active supervisor")).toBe("active");
    expect(await out("datastore", "systemctl is-active postgresql postgresql@15-main || true")).toBe("inactive\ninactive");
    const postmaster = await out("datastore", masters("postgres"));
    expect(postmaster).toMatch(/^\d+$/);
    expect(await out("datastore", unitOf(postmaster))).toBe("supervisor.service");
    expect(await out("datastore", "cat /etc/drills/expires-at")).toBe(ttlBefore);
    expect(await out("datastore", "systemctl is-active drills-ttl.timer")).toBe("active");
    expect(await out("datastore", "systemctl --failed --plain --no-legend --no-pager")).toBe("");
    // The backend reconnects: the chain answers again.
    let health = { code: -1, stdout: "", stderr: "" };
    for (let i = 0; i < 30 && health.code !== 0; i++) {
      if (i) await sleep(1000);
      health = await sh("proxy", "curl -fsS --max-time 5 http://127.0.0.1/api/health");
    }
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: "ok", db: "ok" });
  });

  it("times the boot and the user data per role", () => {
    const line = s.plan.nodes.map((n) => `${n.role} boot ${booted[n.role].toFixed(1)} s + user data ${s.results[n.role].seconds.toFixed(1)} s`).join(", ");
    process.stderr.write(`userData[systemd]: ${line}\n`);
    for (const n of s.plan.nodes) expect(s.results[n.role].seconds).toBeLessThan(15 * 60);
  });

  itTearsDown(() => s.stack);
});
