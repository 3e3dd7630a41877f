import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { connect } from "../../driver/engine";
import { diagnosisOf, namesOf } from "../../game/levels";
import { getLevel } from "../../levels";
import { run } from "../../runtime/game";
import { solutionActions } from "../../runtime/verdict";
import { planFor } from "../../cli/plan";
import { neutralPlan } from "../../plan/names";
import { recordedBase } from "../../driver/ports";
import { spawn } from "child_process";
import { CLI, leftovers, ROOT, Run } from "./helpers";
import { engineText, nodeFindings } from "./spoilers";

// These tests get their own data folder and player names: the record is theirs alone.
const DATA = fs.mkdtempSync(path.join(os.tmpdir(), "drills-game-test-"));

/** The built CLI as a player runs it, on this test's data folder (Jest's process.env does not reach children). */
function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, DRILLS_DATA: DATA } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15 * 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const spoiled = (text: string, names: string[]): string[] => names.filter((n) => text.toLowerCase().includes(n.toLowerCase()));

async function play(player: string, level: string): Promise<{ game: string; out: string; access: Record<string, string> }> {
  const r = await runCli(["play", "--player", player, "--level", level, "--json"]);
  if (r.code !== 0) throw new Error(`play failed: ${r.stderr}`);
  const json = JSON.parse(r.stdout) as { game: string; appUrl: string; nodes: Record<string, { access: string }> };
  expect(json.game).toMatch(/^g-[a-z0-9]{5}$/);
  expect(Object.keys(json.nodes).sort()).toEqual(["backend", "datastore", "proxy"]);
  return { game: json.game, out: r.stdout + r.stderr, access: Object.fromEntries(Object.entries(json.nodes).map(([k, v]) => [k, v.access])) };
}

/** Run a brief's ssh line with OpenSSH's own client (host keys are new per game; batch mode: no prompt). */
function sshLine(line: string, command: string): Promise<Run> {
  const quiet = "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR";
  const withOpts = line.replace(/ssh -i /g, `ssh ${quiet} -i `);
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", `${withOpts} ${command}`], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("the game", () => {
  // One level end to end (deterministic: --level, as an instructor would; the random pick is unit-tested).
  const LEVEL = process.env.DRILLS_GAME_LEVEL ?? "locked-migration";

  it(`a scripted player plays ${LEVEL} end to end`, async () => {
    const player = "game-test-solo";
    const level = getLevel(LEVEL);
    const names = namesOf(level);
    const { game, out, access } = await play(player, LEVEL);
    try {
      expect({ output: spoiled(out, names) }).toEqual({ output: [] });
      // The brief's way in works: its ssh line reaches the backend through the proxy, with sudo.
      const who = await sshLine(access.backend, "sudo -n id -un");
      expect({ code: who.code, user: who.stdout.trim(), err: who.stderr.trim() }).toEqual({ code: 0, user: "root", err: "" });
      expect({ engine: spoiled(await engineText(game), names) }).toEqual({ engine: [] });
      expect({ nodes: await nodeFindings(game, names) }).toEqual({ nodes: [] });

      const hint = await runCli(["hint", "--player", player]);
      expect(hint.stdout).toMatch(/^Hint 1 of \d+/);
      const no = await runCli(["check", "--player", player]);
      expect({ code: no.code, out: no.stdout }).toMatchObject({ code: 1, out: expect.stringMatching(/^NO: game g-/) });
      expect(spoiled(no.stdout + hint.stdout, [level.id, level.title])).toEqual([]);

      // The reference solution, applied on the nodes as a player would (docker exec).
      const base = await recordedBase(await connect(), game);
      const plan = neutralPlan(planFor(LEVEL, { stack: game, basePort: String(base) }).plan);
      await run(plan, solutionActions(level, plan));
      const ok = await runCli(["check", "--player", player]);
      expect({ code: ok.code, out: ok.stdout }).toMatchObject({ code: 0, out: expect.stringMatching(/^OK: game g-\S+ is fixed \([\d.]+ min from play to fix\)/) });

      // The report: templates, a wrong diagnosis refused, a real one accepted.
      const rep = await runCli(["report", "--player", player]);
      expect(rep.code).toBe(0);
      const dir = path.join(DATA, "players", player, game);
      const incidentFile = path.join(dir, "incident-report.md");
      const pmFile = path.join(dir, "postmortem.md");
      const template = await runCli(["report", "--player", player, "--check"]);
      expect(template.code).toBe(1);
      expect(template.stdout).toMatch(/"Impact" is empty or still the template/);

      const incident = fs
        .readFileSync(incidentFile, "utf8")
        .replace(/(## Summary\n\n)<!--.*-->/, "$1Users could not load a page for several minutes after the alert; it was restored by the fix described below.")
        .replace(/(## Timeline\n\n)/, "$1")
        .replace(/(- \S+ paged[^\n]*\n)/, "$1- looked at the backend and datastore processes and logs, compared with the alert\n")
        .replace(/(## Impact\n\n)<!--.*-->/, "$1Every user who opened the affected page got an error after a long wait for the whole incident.")
        .replace(/(## Detection\n\n)<!--.*-->/, "$1The uptime alert fired and paged on call within a minute of the change.")
        .replace(/(## Mitigation\n\n)<!--.*-->/, "$1Applied the fix on the datastore node and verified the page loads fast again with curl and the check.");
      fs.writeFileSync(incidentFile, incident);
      const terms = diagnosisOf(level).map((t) => t[0]);
      const pmTemplate = fs.readFileSync(pmFile, "utf8");
      const pm = (cause: string): string =>
        pmTemplate
          .replace(/(## Root cause\n\n)<!--.*-->/, `$1${cause}`)
          .replace(/(## Contributing factors\n\n)<!--.*-->/, "$1The release had no timeout and nothing watched the rollout for errors after it shipped.")
          .replace(/(## What went well\n\n)<!--.*-->/, "$1The alert fired quickly and was accurate.")
          .replace(/(## What went badly\n\n)<!--.*-->/, "$1It took a while to find where the requests waited.")
          .replace(/(## Action items\n\n)<!--.*-->/, `$1- Add a CI check and an alert that catch ${terms.join(" and ")} problems before release (owner: platform team)`);
      fs.writeFileSync(pmFile, pm("The network between the backend and the datastore dropped packets, so queries timed out."));
      const wrong = await runCli(["report", "--player", player, "--check"]);
      expect({ code: wrong.code, out: wrong.stdout }).toMatchObject({ code: 1, out: expect.stringContaining("the root cause does not match what broke") });
      fs.writeFileSync(pmFile, pm(`What broke was the ${terms.join(" and the ")}: the requests waited on it until they timed out, as the logs showed.`));
      const accepted = await runCli(["report", "--player", player, "--check"]);
      expect({ code: accepted.code, out: accepted.stdout }).toEqual({ code: 0, out: expect.stringMatching(/^accepted/) });

      const end = await runCli(["end", "--player", player]);
      expect(end.stdout).toMatch(new RegExp(`game ${game} ended \\(passed\\)`));
      expect(await leftovers(game)).toEqual({ containers: 0, networks: 0, volumes: 0 });
      // Its key went with it.
      expect(fs.existsSync(path.join(ROOT, ".drills", "keys", game))).toBe(false);

      const rec = JSON.parse((await runCli(["record", "--player", player, "--json"])).stdout) as {
        games: Array<{ game: string; level: string; outcome: string; hints: number; report: boolean; score: number }>;
      };
      expect(rec.games).toEqual([expect.objectContaining({ game, level: LEVEL, outcome: "passed", hints: 1, report: true })]);
      expect(rec.games[0].score).toBeGreaterThan(0);
    } finally {
      await runCli(["end", "--game", game]);
    }
  }, 20 * 60_000);

  // Spoilers on the engine and inside the nodes: every level's lifecycle (levels.test.ts) runs as a game does,
  // under a neutral game id, and scans them (tests/docker/spoilers.ts); the scripted player above does it through `play`.

  it("a class of two comes up and goes down", async () => {
    const up = await runCli(["class", "up", "--players", "game-test-a,game-test-b"]);
    const games = [...up.stdout.matchAll(/^game-test-[ab]: game (g-[a-z0-9]{5})$/gm)].map((m) => m[1]);
    try {
      expect({ code: up.code, games: games.length, err: up.code === 0 ? "" : up.stderr }).toEqual({ code: 0, games: 2, err: "" });
      const status = JSON.parse((await runCli(["class", "status", "--json"])).stdout) as Array<{ player: string; level: string; game: string }>;
      const mine = status.filter((s) => games.includes(s.game));
      expect(mine.map((s) => s.player).sort()).toEqual(["game-test-a", "game-test-b"]);
      expect(new Set(mine.map((s) => s.level)).size).toBe(2);
      const dir = fs.readdirSync(path.join(DATA, "classes"));
      const briefs = path.join(DATA, "classes", dir[0]);
      expect(fs.readdirSync(briefs).sort()).toEqual(["briefs.html", "game-test-a.md", "game-test-b.md"]);
      for (const s of mine) expect(spoiled(fs.readFileSync(path.join(briefs, `${s.player}.md`), "utf8"), namesOf(getLevel(s.level)))).toEqual([]);
      const down = await runCli(["class", "down"]);
      expect(down.code).toBe(0);
      for (const g of games) expect(await leftovers(g)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    } finally {
      for (const g of games) await runCli(["end", "--game", g]);
    }
  }, 30 * 60_000);
});
