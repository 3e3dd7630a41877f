import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { utils } from "ssh2";
import { down, up } from "../../driver/deployer";
import { connect } from "../../driver/engine";
import { levelPlan } from "../../compose/plan";
import { getLevel, levelIds, shortcutsOf } from "../../levels";
import { PLAYER_USER, SSH_PORT } from "../../plan/app";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { Role } from "../../plan/types";
import { dockerSshAccess, execOn, openSession, runOverSsh, sshContext, sshExec, SshAccess } from "../../runtime/ssh";
import { keyForUp, knownHostsPath, playerKeyPath, removePlayerKey } from "../../runtime/sshKeys";
import { checkLevel, probeLevel, solutionActions } from "../../runtime/verdict";
import { leftovers, ROOT, runCli } from "./helpers";

jest.setTimeout(20 * 60_000);

const report = (line: string) => process.stderr.write(`${line}\n`);
const ID = "bad-cors";
const stack = `test-ssh-${ID}`;
const level = getLevel(ID);
const plan = dockerPlan(levelPlan(level, parseOptions({ level: ID, stack }, levelIds())));
const roles: Role[] = plan.nodes.map((n) => n.role);

/**
 * Each node's line from the brief, exactly as printed, run with OpenSSH's
 * client from the project folder (no terminal: nothing can prompt).
 */
function briefLines(command = "hostname", line = (n: (typeof plan.nodes)[number]) => n.accessCommand) {
  return plan.nodes.map((n) => {
    const r = spawnSync("bash", ["-c", `${line(n)} ${command}`], { cwd: ROOT, timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
    return { role: n.role, code: r.status, out: r.stdout.toString().trim(), err: r.stderr.toString().trim() };
  });
}
const hasOpenSsh = spawnSync("ssh", ["-V"]).status === 0;

/**
 * One level played the way a player reaches it: SSH only. Probe, shortcuts,
 * solution and check all go through the SSH check context (runtime/ssh.ts),
 * never docker exec; only `up` (the instructor's side) uses the engine.
 */
describe(`level ${ID} over SSH on real Docker`, () => {
  let access: SshAccess;

  beforeAll(async () => {
    await down(stack);
    removePlayerKey(stack);
  });
  afterAll(async () => {
    await down(stack);
    removePlayerKey(stack);
  });

  it("comes up with the stack's own key, and only the proxy publishes SSH, on 127.0.0.1", async () => {
    const key = keyForUp(stack);
    expect(fs.statSync(key.file).mode & 0o777).toBe(0o600);
    const r = await up(plan, { playerKey: key.publicKey, log: (l) => report(`[ssh ${ID}] ${l}`) });
    report(`[ssh ${ID}] ready in ${r.readySeconds.toFixed(1)} s`);
    access = dockerSshAccess(plan, key.privateKey);

    const docker = await connect();
    for (const n of plan.nodes) {
      const info = await docker.getContainer(n.name).inspect();
      const ssh = info.NetworkSettings.Ports[`${SSH_PORT}/tcp`] ?? null;
      if (n.role === "proxy") expect(ssh).toEqual([expect.objectContaining({ HostIp: "127.0.0.1" })]);
      else expect({ role: n.role, ssh }).toEqual({ role: n.role, ssh: null });
      // The key is given at start, never baked into the image.
      const inImage = await docker.getImage(info.Image).inspect();
      expect(JSON.stringify(inImage.Config)).not.toContain(key.publicKey.split(" ")[1]);
    }
  });

  it("the stack's key logs in to every node (the others through the proxy), sudo works, another key is refused", async () => {
    for (const role of roles) {
      const s = await openSession(access, role);
      try {
        const r = await execOn(s.client, "id -un; hostname; sudo -n id -un");
        expect({ role, out: r.stdout.trim().split("\n") }).toEqual({ role, out: [PLAYER_USER, role, "root"] });
      } finally {
        s.close();
      }
      expect((await sshExec(access, role, "id -u")).stdout.trim()).toBe("0");
    }
    const other = utils.generateKeyPairSync("ed25519");
    await expect(openSession({ ...access, privateKey: other.private }, "proxy")).rejects.toThrow(/authentication/i);
    await expect(openSession({ ...access, privateKey: other.private }, "backend")).rejects.toThrow(/authentication/i);
  });

  it("the brief's one-line ssh commands work as printed with OpenSSH's client, keeping host keys in the stack's own file", () => {
    if (!hasOpenSsh) {
      report("[ssh] no OpenSSH client here: skipped");
      return;
    }
    for (const r of briefLines()) expect({ role: r.role, code: r.code, out: r.out }).toEqual({ role: r.role, code: 0, out: r.role });
    // The proxy under its published address, the others under their names; nothing added to ~/.ssh/known_hosts.
    // (Names may be hashed, HashKnownHosts: ssh-keygen -F finds them either way.)
    const sshPort = plan.nodes.find((n) => n.role === "proxy")!.ports.find((p) => p.internal === SSH_PORT)!.host;
    expect(fs.readFileSync(knownHostsPath(stack), "utf8").trim().split("\n")).toHaveLength(3);
    for (const host of [`[127.0.0.1]:${sshPort}`, "backend", "datastore"]) {
      expect({ host, found: spawnSync("ssh-keygen", ["-F", host, "-f", knownHostsPath(stack)]).status }).toEqual({ host, found: 0 });
    }
    // Again: the hosts are known now, so not a word on stderr.
    for (const r of briefLines()) expect(r).toEqual({ role: r.role, code: 0, out: r.role, err: "" });
  });

  it("plays the level over SSH only: symptom, SQL, every shortcut refused, solution, check OK", async () => {
    const ctx = sshContext(plan, access);
    const probes = await probeLevel(level, ctx);
    for (const f of level.faults) expect({ fault: f.id, present: probes[f.id].present }).toEqual({ fault: f.id, present: true });
    expect(level.brief.contradictions?.(probes) ?? []).toEqual([]);
    const broken = await checkLevel(level, ctx);
    expect(broken.ok).toBe(false);
    report(`[ssh ${ID}] broken: ${broken.reasons.join(" | ")}`);

    // SQL through a tunnel from the backend, as the app reaches the datastore.
    const rows = await ctx.sql("select count(*) as n from users");
    expect(Number(rows[0].n)).toBeGreaterThan(0);

    for (const s of shortcutsOf(level)) {
      await runOverSsh(access, s.actions(plan));
      const v = await checkLevel(level, ctx);
      report(`[ssh ${ID}] shortcut "${s.description}": ${v.ok ? "OK" : "NO"} ${v.reasons.join(" | ")}`);
      expect({ shortcut: s.description, ok: v.ok }).toEqual({ shortcut: s.description, ok: false });
      expect(v.reasons.length).toBeGreaterThan(0);
      if (s.undo) await runOverSsh(access, s.undo(plan));
    }
    const still = await probeLevel(level, ctx);
    for (const f of level.faults) expect({ fault: f.id, present: still[f.id].present }).toEqual({ fault: f.id, present: true });

    await runOverSsh(access, solutionActions(level, plan));
    const fixed = await checkLevel(level, ctx);
    expect({ ok: fixed.ok, reasons: fixed.reasons }).toEqual({ ok: true, reasons: [] });
  });

  it("down, then up again on the same port (new host keys): the same lines work as printed", async () => {
    if (!hasOpenSsh) {
      report("[ssh] no OpenSSH client here: skipped");
      return;
    }
    const before = fs.readFileSync(knownHostsPath(stack), "utf8");
    await down(stack);
    const key = keyForUp(stack);
    const r = await up(plan, { playerKey: key.publicKey, log: (l) => report(`[ssh ${ID} again] ${l}`) });
    report(`[ssh ${ID}] up again, ready in ${r.readySeconds.toFixed(1)} s`);
    for (const x of briefLines()) expect({ role: x.role, code: x.code, out: x.out, err: x.code === 0 ? "" : x.err }).toEqual({ role: x.role, code: 0, out: x.role, err: "" });
    // What up's fresh known-hosts file spares the player: the first up's host keys no longer match.
    const stale = path.join(path.dirname(knownHostsPath(stack)), "stale_known_hosts");
    fs.writeFileSync(stale, before);
    const old = briefLines("hostname", (n) => n.accessCommand.split(`.drills/keys/${stack}/known_hosts`).join(path.relative(ROOT, stale)));
    const proxy = old.find((x) => x.role === "proxy")!;
    expect({ code: proxy.code, changed: /REMOTE HOST IDENTIFICATION HAS CHANGED/.test(proxy.err) }).toEqual({ code: 255, changed: true });
    fs.rmSync(stale);
    access = dockerSshAccess(plan, key.privateKey);
  });

  it("`drills down` removes the stack and its key files", async () => {
    expect(fs.existsSync(playerKeyPath(stack))).toBe(true);
    const r = await runCli(["down", ID, "--stack", stack]);
    expect(r.code).toBe(0);
    expect(await leftovers(stack)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    expect(fs.existsSync(path.dirname(playerKeyPath(stack)))).toBe(false);
  });
});
