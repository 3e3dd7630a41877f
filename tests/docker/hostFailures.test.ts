import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { levelPlan } from "../../compose/plan";
import { up } from "../../driver/deployer";
import { connect } from "../../driver/engine";
import { lockPath } from "../../driver/lock";
import { LABEL_BASE_PORT } from "../../driver/ports";
import { getLevel, levelIds } from "../../levels";
import { derivePort } from "../../plan/app";
import { LABEL_GAME } from "../../plan/names";
import { dockerPlan } from "../../plan/endpoints";
import { isDrillsError } from "../../plan/errors";
import { parseOptions } from "../../plan/options";
import { CLI, leftovers, ROOT, Run, runCli } from "./helpers";

jest.setTimeout(20 * 60_000);

/**
 * When the host misbehaves: a port taken by another program, an image that
 * fails to build, a port taken while the level starts, `down` while `up`
 * runs, an `up` killed outright. Each prints what the user saw.
 */

const NOTHING = { containers: 0, networks: 0, volumes: 0 };
const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

function report(title: string, r: Pick<Run, "code" | "stdout" | "stderr">): void {
  process.stderr.write(`\n===== ${title} (exit ${r.code})\n--- stdout ---\n${r.stdout.trimEnd()}\n--- stderr ---\n${r.stderr.trimEnd()}\n`);
}

/** Another program listening on 127.0.0.1:port. */
function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer((c) => c.end());
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
}
const close = (s: net.Server): Promise<void> => new Promise((r) => s.close(() => r()));

/** Start the CLI in the background, collecting its output. */
function startCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<Run>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

async function until(what: string, cond: () => Promise<boolean>, ms = 10 * 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function recordedBase(stack: string): Promise<number | undefined> {
  const nets = await (await connect()).listNetworks({ filters: { label: [`drills.stack=${stack}`] } });
  const b = nets[0]?.Labels?.[LABEL_BASE_PORT];
  return b ? Number(b) : undefined;
}

/** Every game's network on the engine with the base port `up` recorded on it. */
async function gameBases(): Promise<Map<string, number>> {
  const nets = await (await connect()).listNetworks({ filters: { label: [LABEL_GAME, LABEL_BASE_PORT] } });
  return new Map(nets.map((n) => [n.Labels![LABEL_GAME], Number(n.Labels![LABEL_BASE_PORT])]));
}

describe("drills when the host misbehaves", () => {
  const stacks = ["test-hf-port", "test-hf-race", "test-hf-kill", "test-hf-build", "test-hf-health"];
  beforeAll(async () => {
    for (const s of stacks) await runCli(["down", "baseline", "--stack", s]);
  });
  afterAll(async () => {
    for (const s of stacks) await runCli(["down", "baseline", "--stack", s]);
  });

  it("a program on the derived port: up moves to a free block (check and down find it); `down` during `up` is refused; --base-port on it is refused", async () => {
    const stack = "test-hf-port";
    const derived = derivePort(stack);
    const squatter = await listen(derived);
    try {
      // An explicit --base-port on the taken port: one paragraph, nothing created.
      const refused = await runCli(["up", "baseline", "--stack", stack, "--base-port", String(derived)]);
      report("up --base-port <a port another program holds>", refused);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`^drills: Port ${derived} on 127\\.0\\.0\\.1 is taken by another program: node \\(pid ${process.pid}\\), and stack ${stack} needs it .*--base-port`),
      );
      expect(refused.stderr).not.toMatch(STACK_TRACE);
      expect(await leftovers(stack)).toEqual(NOTHING);

      // Derived: up moves on, and says so.
      const bg = startCli(["up", "baseline", "--stack", stack]);
      // As soon as `up` holds the stack (its lock), before its image checks, containers and health waits.
      await until("up's lock", async () => fs.existsSync(lockPath(stack)), 60_000);
      // Meanwhile `down` (and `check`) on the same stack wait briefly, then refuse naming the up. The wait is
      // made 0 here: the level is ready within the usual 5 s now, which would let `down` in after `up` ends.
      const down = await runCli(["down", "baseline", "--stack", stack], { env: { DRILLS_LOCK_WAIT_SECONDS: "0" } });
      report("down while up is starting", down);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(
        new RegExp(`^drills: Stack ${stack} is busy: \`drills up baseline --stack ${stack}\` \\(pid ${bg.child.pid}\\) since \\d\\d:\\d\\d:\\d\\d is working on it`, "m"),
      );
      expect(down.stderr).not.toMatch(STACK_TRACE);
      const upRun = await bg.done;
      report("up with another program on its derived port", { ...upRun, stdout: upRun.stdout.split("\n").slice(0, 6).join("\n") + "\n[... brief ...]" });
      expect(upRun.code).toBe(0);
      const base = derived + 10;
      expect(upRun.stderr).toContain(`port ${derived} is taken by another program: node (pid ${process.pid}); stack ${stack} uses ports ${base}-${base + 3} instead`);
      expect(upRun.stdout).toContain(`http://127.0.0.1:${base}/`);
      expect(await recordedBase(stack)).toBe(base);
      expect((await fetch(`http://127.0.0.1:${base}/api/health`)).status).toBe(200);

      // Later commands find the stack where it is, though the derived port is free again.
      await close(squatter);
      const check = await runCli(["check", "baseline", "--stack", stack]);
      report("check on the moved stack", check);
      expect(check.code).toBe(0);
      expect(check.stdout).toMatch(/^OK/);
    } finally {
      if (squatter.listening) await close(squatter);
    }
    const d = await runCli(["down", "baseline", "--stack", stack]);
    expect(d.code).toBe(0);
    expect(await leftovers(stack)).toEqual(NOTHING);
  });

  it("an image that fails to build: one paragraph with the build's last lines, nothing left", async () => {
    const stack = "test-hf-build";
    // A throwaway role whose provisioning fails, as a broken provision.sh would.
    const roleDir = path.join(ROOT, ".drills", "test-hf-broken", "role");
    fs.mkdirSync(roleDir, { recursive: true });
    fs.writeFileSync(
      path.join(roleDir, "provision.sh"),
      `#!/bin/bash\necho "installing packages (${Date.now()})"\necho "E: Unable to locate package postgresql-99" >&2\nexit 100\n`,
    );
    const plan = dockerPlan(levelPlan(getLevel("baseline"), parseOptions({ level: "baseline", stack }, levelIds())));
    const broken = {
      ...plan,
      nodes: plan.nodes.map((n) =>
        n.role !== "datastore"
          ? n
          : { ...n, image: { ...n.image, inputs: ["roles/Dockerfile", ".drills/test-hf-broken/role"], buildArgs: { ...n.image.buildArgs, ROLE: "../.drills/test-hf-broken/role" } } },
      ),
    };
    const err = await up(broken).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDrillsError(err)).toBe(true);
    const msg = (err as Error).message;
    report("up whose datastore image fails to build (what `drills up` prints after `drills: `)", { code: 1, stdout: "", stderr: `drills: ${msg}` });
    expect(msg).toMatch(new RegExp(`^\`drills up baseline\` \\(stack ${stack}\\) failed while building the datastore image: Building drills/datastore:\\w+ from roles/Dockerfile failed: `));
    expect(msg).toMatch(/Last lines of the build output:\n(    .*\n)*    E: Unable to locate package postgresql-99\n/);
    expect(msg).toContain(`Nothing of stack ${stack} had been created. Fix what the build output says (images that did build are kept), then run \`drills up baseline --stack ${stack}\` again.`);
    expect(await leftovers(stack)).toEqual(NOTHING);
    fs.rmSync(path.join(ROOT, ".drills", "test-hf-broken"), { recursive: true, force: true });
  });

  it("a node that never becomes healthy, with --keep-on-failure: one paragraph with its log, everything kept and how to remove it", async () => {
    const stack = "test-hf-health";
    const plan = dockerPlan(levelPlan(getLevel("baseline"), parseOptions({ level: "baseline", stack }, levelIds())));
    // The proxy's healthcheck fails at once, as a node whose service never comes up.
    const sick = {
      ...plan,
      nodes: plan.nodes.map((n) =>
        n.role !== "proxy" ? n : { ...n, healthcheck: { ...n.healthcheck, command: ["CMD", "false"], startPeriodSeconds: 0, intervalSeconds: 1, retries: 4 } },
      ),
    };
    const err = await up(sick, { keepOnFailure: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDrillsError(err)).toBe(true);
    const msg = (err as Error).message;
    report("up whose proxy never becomes healthy, --keep-on-failure (what `drills up` prints after `drills: `)", { code: 1, stdout: "", stderr: `drills: ${msg}` });
    expect(msg).toMatch(
      new RegExp(`^\`drills up baseline\` \\(stack ${stack}\\) failed while starting node proxy \\(drills-${stack}-proxy\\): Node proxy \\(drills-${stack}-proxy\\) did not become healthy( within 4 s)?: state running, health (unhealthy|starting)`),
    );
    expect(msg).toMatch(new RegExp(`\nLast lines of drills-${stack}-proxy log:\n    `));
    expect(msg).toContain(`Kept what this up created (--keep-on-failure): remove it with \`drills down baseline --stack ${stack}\`.`);
    expect(msg).toContain(`\`docker logs drills-${stack}-proxy\``);
    expect(await leftovers(stack)).toEqual({ containers: 3, networks: 1, volumes: 1 });
    const d = await runCli(["down", "baseline", "--stack", stack]);
    expect(d.code).toBe(0);
    expect(await leftovers(stack)).toEqual(NOTHING);
  });

  it("a port taken while the level starts: up removes what it created and says what happened", async () => {
    const stack = "test-hf-race";
    const bg = startCli(["up", "baseline", "--stack", stack]);
    // After the port check, once the network exists: someone grabs the proxy's port.
    // Polled often: the proxy binds its port a few hundred ms after the network exists.
    await until("the network", async () => (await recordedBase(stack)) !== undefined, 10 * 60_000, 5);
    const base = (await recordedBase(stack)) as number;
    const squatter = await listen(base);
    try {
      const r = await bg.done;
      report("a program takes the proxy's port while up starts the nodes", r);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`^drills: \`drills up baseline\` \\(stack ${stack}\\) failed while starting node proxy \\(drills-${stack}-proxy\\): .*127\\.0\\.0\\.1:${base}.*address already in use`, "m"),
      );
      expect(r.stderr).toContain(`Removed what this up had created (3 containers, 1 networks, 1 volumes): nothing of stack ${stack} is left.`);
      expect(r.stderr).toContain(`Port ${base} on 127.0.0.1 was taken by another program: node (pid ${process.pid}) after drills checked it.`);
      expect(r.stderr).not.toMatch(STACK_TRACE);
      expect(await leftovers(stack)).toEqual(NOTHING);
    } finally {
      await close(squatter);
    }
  });

  it("an up killed outright (SIGKILL): its lock is cleared and up works again", async () => {
    const stack = "test-hf-kill";
    const bg = startCli(["up", "baseline", "--stack", stack]);
    await until("the first container", async () => (await leftovers(stack)).containers > 0);
    bg.child.kill("SIGKILL");
    await bg.done;
    const lock = JSON.parse(fs.readFileSync(lockPath(stack), "utf8")) as { pid: number; command: string };
    expect(lock).toEqual(expect.objectContaining({ pid: bg.child.pid, command: `drills up baseline --stack ${stack}` }));

    // Plain `up` says what is left and how to go on.
    const plain = await runCli(["up", "baseline", "--stack", stack]);
    report("up after an up was killed", plain);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(new RegExp(`cleared a lock left by \`drills up baseline --stack ${stack}\` \\(pid ${bg.child.pid}\\) since .*, which is no longer running`));
    expect(plain.stderr).toMatch(new RegExp(`drills: Stack ${stack} already has resources .*--recreate`));

    const again = await runCli(["up", "baseline", "--stack", stack, "--recreate"]);
    report("up --recreate after an up was killed", { ...again, stdout: again.stdout.split("\n").slice(0, 4).join("\n") + "\n[... brief ...]" });
    expect(again.code).toBe(0);
    expect(fs.existsSync(lockPath(stack))).toBe(false);
    const d = await runCli(["down", "baseline", "--stack", stack]);
    expect(d.code).toBe(0);
    expect(await leftovers(stack)).toEqual(NOTHING);
  });

  it("a game whose up fails (a port taken while it starts): `drills play` says to play again, names no level, leaves nothing (key included)", async () => {
    // The game's own data folder: the record is this test's alone.
    const env = { DRILLS_DATA: fs.mkdtempSync(path.join(os.tmpdir(), "drills-hf-game-")) };
    const before = await gameBases();
    const bg = startCli(["play", "--player", "hf-game", "--level", "baseline"], env);
    let game = "";
    await until(
      "the game's network",
      async () => {
        game = [...(await gameBases()).keys()].find((g) => !before.has(g)) ?? "";
        return game !== "";
      },
      10 * 60_000,
      5,
    );
    const base = (await gameBases()).get(game)!;
    const squatter = await listen(base);
    try {
      const r = await bg.done;
      report("a program takes a game's proxy port while `drills play` starts it", r);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^drills: \`drills play\` \\(game ${game}\\) failed while starting node proxy \\(drills-${game}-proxy\\): .*127\\.0\\.0\\.1:${base}.*address already in use`, "m"));
      expect(r.stderr).toContain(`Removed what this up had created (3 containers, 1 networks, 1 volumes): nothing of stack ${game} is left.`);
      expect(r.stderr).toContain(`Port ${base} on 127.0.0.1 was taken by another program: node (pid ${process.pid}) after drills checked it. Stop what holds it and run \`drills play\` again.`);
      // Nothing a game cannot run: no `drills up/down <game> --stack`, no --base-port, and no level name.
      expect(r.stderr).not.toMatch(/drills (up|down) |--stack|--base-port|baseline/);
      expect(r.stderr).not.toMatch(STACK_TRACE);
      expect(await leftovers(game)).toEqual(NOTHING);
      expect(fs.existsSync(path.join(ROOT, ".drills", "keys", game))).toBe(false);
      // The game never reached the record, and `drills down <game id>` (what a failed cleanup would suggest) runs.
      const rec = JSON.parse((await runCli(["record", "--player", "hf-game", "--json"], { env })).stdout) as { games: unknown[] };
      expect(rec.games).toEqual([]);
      const d = await runCli(["down", game], { env });
      report("drills down <game id> after the failed play", d);
      expect({ code: d.code, out: d.stdout.trim() }).toEqual({ code: 0, out: `${game}: removed 0 containers, 0 networks, 0 volumes` });
    } finally {
      await close(squatter);
      // Had the game won the port race it would be in play, and `down` refuses a game in play.
      await runCli(["give-up", "--player", "hf-game", "--game", game], { env });
      await runCli(["down", game], { env });
    }
  });
});
