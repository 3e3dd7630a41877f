import { Command } from "commander";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { nodeAccess } from "../compose/access";
import { renderGameBrief } from "../compose/brief";
import { certificateHtml } from "../game/certificate";
import { dataDir, playerDir, playerName, readRule, recordFile } from "../game/home";
import { diagnosisOf, playable, timeLimitOf } from "../game/levels";
import { pickForClass, pickLevel } from "../game/pick";
import { GameRecord, GameRow, stamp } from "../game/record";
import { INCIDENT_FILE, incidentTemplate, POSTMORTEM_FILE, postmortemTemplate, validateReport } from "../game/report";
import { describeRule } from "../game/score";
import { passedOf, playerRecord, summarize } from "../game/summary";
import { getLevel } from "../levels";
import { LevelDefinition } from "../levels/types";
import { DrillsError } from "../plan/errors";
import { gameId, neutralPlan } from "../plan/names";
import { LevelPlan } from "../plan/types";
import { LevelFlags } from "./plan";

type PlanOf = (id: string, o: LevelFlags) => Promise<{ level: LevelDefinition; plan: LevelPlan }>;

/** What the game commands borrow from main.ts (port placement, output). */
export interface GameDeps {
  placedPlan: PlanOf;
  runningPlan: PlanOf;
  out: (s: string) => void;
  info: (s: string) => void;
}

const random = (): number => crypto.randomInt(0, 2 ** 40) / 2 ** 40;

/** Open the record, run fn, close it (each command holds it only while it works). */
function withRecord<T>(fn: (r: GameRecord, dir: string) => T): T {
  const dir = dataDir();
  const r = GameRecord.open(recordFile(dir));
  try {
    return fn(r, dir);
  } finally {
    r.close();
  }
}

async function withRecordAsync<T>(fn: (r: GameRecord, dir: string) => Promise<T>): Promise<T> {
  const dir = dataDir();
  const r = GameRecord.open(recordFile(dir));
  try {
    return await fn(r, dir);
  } finally {
    r.close();
  }
}

/** The game a command is about: --game, else the player's only game in play. */
function currentGame(r: GameRecord, o: { game?: string; player?: string }, opts: { active?: boolean } = { active: true }): GameRow {
  if (o.game) {
    const g = r.game(o.game);
    if (!g) throw new DrillsError(`No game "${o.game}" in the record. \`drills record\` lists yours.`);
    if (opts.active && g.endedAt) throw new DrillsError(`Game ${g.id} has ended (${g.outcome}). Start another with \`drills play\`.`);
    return g;
  }
  const player = playerName(o.player);
  const games = r.games({ player, active: true });
  if (games.length === 1) return games[0];
  if (games.length === 0) {
    if (!opts.active) {
      const last = r.games({ player }).pop();
      if (last) return last;
    }
    throw new DrillsError(`${player} has no game in play. Start one with \`drills play\`.`);
  }
  throw new DrillsError(`${player} has ${games.length} games in play (${games.map((g) => g.id).join(", ")}): name one with --game.`);
}

const deployer = () => import("../driver/deployer");
const runtime = () => import("../runtime/game");

async function withGameLock<T>(game: string, what: string, info: (s: string) => void, fn: () => Promise<T>): Promise<T> {
  const { acquireStackLock } = await import("../driver/lock");
  const lock = await acquireStackLock(game, what === "down" ? `drills down ${game}` : `drills ${what} --game ${game}`, { log: (l) => info(`  ${l}`) });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Bring a level up as a new game; the record gets the level, the engine only the game id. */
async function startGame(d: GameDeps, r: GameRecord, player: string, level: LevelDefinition, klass?: string): Promise<{ g: GameRow; plan: LevelPlan }> {
  const id = gameId(crypto.randomBytes(5));
  const limit = timeLimitOf(level);
  return withGameLock(id, "play", d.info, async () => {
    const placed = await d.placedPlan(level.id, { stack: id });
    const plan = neutralPlan(placed.plan);
    // Interrupted before the record has it: nothing could end it later, so remove it now.
    const onSignal = (): void => {
      d.info("\ninterrupted: removing what this game created");
      void deployer()
        .then((m) => m.down(id))
        .finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      // Quiet: what `up` logs names nodes and images only, never the faults (revealFaults off).
      // The game's own key, given to the nodes at start: the brief's ssh lines use it.
      const keys = await import("../runtime/sshKeys");
      const playerKey = keys.keyForUp(plan.stack).publicKey;
      try {
        await (await deployer()).up(plan, { log: (l) => d.info(`  ${l}`), playerKey });
      } catch (e) {
        // A failed up removed what it created (its message says so); the game never reached the record, so its key goes too.
        keys.removePlayerKey(plan.stack);
        throw e;
      }
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    // The clock starts when the player gets the brief.
    const g = r.startGame({ id, player, level: level.id, klass, limitMinutes: limit });
    return { g, plan };
  });
}

async function gamePlan(d: GameDeps, g: GameRow): Promise<{ level: LevelDefinition; plan: LevelPlan }> {
  const { level, plan } = await d.runningPlan(g.level, { stack: g.id });
  return { level, plan: neutralPlan(plan) };
}

async function tearDown(d: GameDeps, g: GameRow): Promise<string> {
  const res = await withGameLock(g.id, "end", d.info, async () => (await deployer()).down(g.id, (l) => d.info(`  ${l}`)));
  (await import("../runtime/sshKeys")).removePlayerKey(g.id);
  return `removed ${res.containers} containers, ${res.networks} networks, ${res.volumes} volumes`;
}

/**
 * `drills down <game id>`: remove what a game left on the engine when no game
 * in play owns it (a `drills play` whose up failed before the record had it).
 * A game in play is ended with `drills end`, which also closes its record.
 */
export async function downGame(d: GameDeps, id: string): Promise<void> {
  const g = withRecord((r) => r.game(id));
  if (g && g.endedAt === null) throw new DrillsError(`Game ${id} is in play: end it with \`drills end --game ${id}\` (or \`drills give-up\`), which also closes its record.`);
  const res = await withGameLock(id, "down", d.info, async () => (await deployer()).down(id, (l) => d.info(`  ${l}`)));
  (await import("../runtime/sshKeys")).removePlayerKey(id);
  d.out(`${id}: removed ${res.containers} containers, ${res.networks} networks, ${res.volumes} volumes`);
}

const minutes = (from: string, to: string = stamp()): number => (Date.parse(to) - Date.parse(from)) / 60_000;

/** `drills check` on a game: grade, record, print (exit 0 on OK). */
export async function checkGame(d: GameDeps, o: { game?: string; player?: string; json?: boolean }): Promise<void> {
  await withRecordAsync(async (r) => {
    const g = currentGame(r, o);
    const { level, plan } = await gamePlan(d, g);
    const v = await withGameLock(g.id, "check", d.info, async () => (await runtime()).check(level, plan));
    const after = r.recordCheck(g.id, v.ok, v.ok ? "" : v.reasons.join(" | "));
    const first = v.ok && g.fixedAt === null;
    if (o.json) {
      d.out(JSON.stringify({ game: g.id, ok: v.ok, reasons: v.reasons, fixedAt: after.fixedAt, late: after.late }, null, 2));
    } else if (v.ok) {
      const took = minutes(after.startedAt, after.fixedAt ?? stamp()).toFixed(1);
      d.out(`OK: game ${g.id} is fixed${first ? ` (${took} min from play to fix${after.late ? `, late: the limit is ${after.limitMinutes} min` : ""})` : ""}`);
      d.out(`Next: \`drills report --game ${g.id}\`, then \`drills end --game ${g.id}\`.`);
    } else {
      const late = minutes(g.startedAt) > g.limitMinutes ? ` (past the ${g.limitMinutes}-minute limit: a fix now counts as late)` : "";
      d.out(`NO: game ${g.id} is not fixed yet${late}`);
      for (const reason of v.reasons) d.out(`  - ${reason}`);
    }
    process.exitCode = v.ok ? 0 : 1;
  });
}

/** `drills hint` on a game: the next staged hint, recorded. */
export function hintGame(d: GameDeps, o: { game?: string; player?: string }): void {
  withRecord((r) => {
    const g = currentGame(r, o);
    const level = getLevel(g.level);
    const used = r.hintsUsed(g.id);
    const count = level.hints.length;
    if (used >= count) {
      d.out(`No more hints: you have seen all ${count}. The last one (the solution): ${level.hints[count - 1]}`);
      return;
    }
    const n = used + 1;
    r.addEvent(g.id, "hint", String(n));
    d.out(`Hint ${n} of ${count}${n === count ? " (the solution)" : ""}: ${level.hints[n - 1]}`);
  });
}

export function gameCommands(p: Command, d: GameDeps): void {
  p.command("play")
    .description("start a game: a random level you have not passed, under a neutral game id; prints the brief")
    .option("--player <name>", "who plays (default: your login name)")
    .option("--level <id>", "instructors: this level instead of a random one")
    .option("--json", "print game, appUrl and each node's access command as JSON")
    .action(async (o: { player?: string; level?: string; json?: boolean }) => {
      const player = playerName(o.player);
      await withRecordAsync(async (r) => {
        const active = r.games({ player, active: true });
        if (active.length > 0) {
          throw new DrillsError(`${player} already has game ${active[0].id} in play: finish it with \`drills end --game ${active[0].id}\` (or \`drills give-up\`) first.`);
        }
        const passed = new Set(passedOf(r, player).map((x) => x.level));
        const level = o.level ? getLevel(o.level) : getLevel(pickLevel(playable().map((l) => l.id), passed, new Set(), random));
        const { g, plan } = await startGame(d, r, player, level);
        if (o.json) {
          d.out(JSON.stringify({ game: g.id, appUrl: plan.appUrl, ...(plan.apiUrl ? { apiUrl: plan.apiUrl } : {}), nodes: nodeAccess(plan) }, null, 2));
          return;
        }
        d.out(renderGameBrief(level, plan, g.id, g.limitMinutes));
      });
    });

  p.command("report")
    .description("write the incident report and postmortem templates for a game; --check grades them")
    .option("--game <id>", "the game (default: your game in play, else your last one)")
    .option("--player <name>", "whose game (default: your login name)")
    .option("--dir <folder>", "where the documents are (default: your folder in the instructor's data folder)")
    .option("--check", "grade the documents: accepted, or what is missing")
    .action((o: { game?: string; player?: string; dir?: string; check?: boolean }) => {
      withRecord((r, data) => {
        const g = currentGame(r, o, { active: false });
        const dir = path.resolve(o.dir ?? path.join(playerDir(data, g.player), g.id));
        const files = { incident: path.join(dir, INCIDENT_FILE), postmortem: path.join(dir, POSTMORTEM_FILE) };
        if (!o.check) {
          fs.mkdirSync(dir, { recursive: true });
          const events = r.events(g.id);
          for (const [file, text] of [
            [files.incident, incidentTemplate(g.id, g.player, events)],
            [files.postmortem, postmortemTemplate(g.id)],
          ] as const) {
            if (fs.existsSync(file)) d.out(`kept ${file} (already there)`);
            else {
              fs.writeFileSync(file, text);
              d.out(`wrote ${file}`);
            }
          }
          d.out(`Fill them in, then \`drills report --game ${g.id} --check\`.`);
          return;
        }
        for (const f of Object.values(files)) {
          if (!fs.existsSync(f)) throw new DrillsError(`${f} does not exist: run \`drills report --game ${g.id}\` to write the templates first.`);
        }
        const problems = validateReport({
          incident: fs.readFileSync(files.incident, "utf8"),
          postmortem: fs.readFileSync(files.postmortem, "utf8"),
          events: r.events(g.id),
          diagnosis: diagnosisOf(getLevel(g.level)),
        });
        r.reportVerdict(g.id, problems.length === 0, problems.join(" | "));
        if (problems.length === 0) d.out(`accepted: the report of game ${g.id} is in the record`);
        else {
          d.out(`refused: the report of game ${g.id} is not complete yet`);
          for (const x of problems) d.out(`  - ${x}`);
        }
        process.exitCode = problems.length === 0 ? 0 : 1;
      });
    });

  p.command("record")
    .description("your record: games, time, hints, reports, score, and whether the certification rule is met")
    .option("--player <name>", "whose record (default: your login name)")
    .option("--json", "print JSON")
    .action((o: { player?: string; json?: boolean }) => {
      withRecord((r, data) => {
        const rec = playerRecord(r, playerName(o.player), readRule(data));
        if (o.json) return d.out(JSON.stringify(rec, null, 2));
        d.out(`${rec.player}: ${rec.games.length} game(s)`);
        for (const x of rec.games) {
          const time = x.minutes === undefined ? "not fixed" : `${x.minutes} min${x.late ? " (late)" : ""}`;
          d.out(`  ${x.game}  ${x.startedAt}  ${x.level.padEnd(24)} ${x.outcome.padEnd(9)} ${time.padEnd(16)} hints ${x.hints}  report ${x.report ? "accepted" : "-"}  score ${x.score}`);
        }
        d.out(`Certification rule: ${describeRule(rec.rule)}.`);
        d.out(
          rec.status.met
            ? `Met (${rec.status.counted.length} levels, categories ${rec.status.categories.join(", ")}): \`drills certificate\` writes the certificate.`
            : `Not met yet: ${rec.status.missing.join(", ")} (counted so far: ${rec.status.counted.length} levels, categories ${rec.status.categories.join(", ") || "none"}).`,
        );
      });
    });

  p.command("end")
    .description("end a game: remove everything it runs; the record keeps the result")
    .option("--game <id>", "the game (default: your game in play)")
    .option("--player <name>", "whose game (default: your login name)")
    .action(async (o: { game?: string; player?: string }) => {
      await withRecordAsync(async (r) => {
        const g = currentGame(r, o);
        const removed = await tearDown(d, g);
        const after = r.endGame(g.id, "end");
        d.out(`game ${g.id} ended (${after.outcome}): ${removed}`);
      });
    });

  p.command("give-up")
    .description("end a game as failed and show the solution")
    .option("--game <id>", "the game (default: your game in play)")
    .option("--player <name>", "whose game (default: your login name)")
    .action(async (o: { game?: string; player?: string }) => {
      await withRecordAsync(async (r) => {
        const g = currentGame(r, o);
        const level = getLevel(g.level);
        const removed = await tearDown(d, g);
        r.endGame(g.id, "give-up");
        d.out(`game ${g.id} ended as failed: ${removed}`);
        d.out(`It was: ${level.title}.`);
        d.out(`The solution: ${level.hints[level.hints.length - 1]}`);
      });
    });

  p.command("certificate")
    .description("write a printable certificate (HTML) once the certification rule is met")
    .option("--player <name>", "whose certificate (default: your login name)")
    .option("--out <file>", "where to write it (default: certificate.html in the player's folder)")
    .action((o: { player?: string; out?: string }) => {
      withRecord((r, data) => {
        const player = playerName(o.player);
        const rule = readRule(data);
        const rec = playerRecord(r, player, rule);
        if (!rec.status.met) {
          throw new DrillsError(`${player} does not meet the certification rule yet (${describeRule(rule)}): ${rec.status.missing.join(", ")}.`);
        }
        const titles = Object.fromEntries(rec.status.counted.map((x) => [x.level, getLevel(x.level).title]));
        const file = path.resolve(o.out ?? path.join(playerDir(data, player), "certificate.html"));
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, certificateHtml({ player, rule, counted: rec.status.counted, titles, issuedAt: stamp() }));
        d.out(`wrote ${file}`);
      });
    });

  p.command("reveal")
    .description("instructors: which level a game is")
    .requiredOption("--game <id>", "the game")
    .action((o: { game: string }) => {
      withRecord((r) => {
        const g = currentGame(r, o, { active: false });
        const level = getLevel(g.level);
        d.out(`${g.id} (${g.player}): ${level.id}: ${level.title}`);
      });
    });

  const klass = p.command("class").description("instructors: a class of players, one game each");
  klass
    .command("up")
    .description("start one game per player (distinct levels where possible) and write printable briefs")
    .requiredOption("--players <names>", "comma-separated player names")
    .action(async (o: { players: string }) => {
      const players = [...new Set(o.players.split(",").map((s) => s.trim()).filter(Boolean))].map((s) => playerName(s));
      if (players.length === 0) throw new DrillsError("--players needs at least one name, e.g. --players ana,bo,chen.");
      await withRecordAsync(async (r, data) => {
        const busy = players.filter((pl) => r.games({ player: pl, active: true }).length > 0);
        if (busy.length > 0) throw new DrillsError(`Already in play: ${busy.join(", ")}. End their games first (\`drills class down\` or \`drills end --game G\`).`);
        const id = `c-${stamp().replace(/[-:TZ]/g, "").slice(0, 12)}`;
        const picks = pickForClass(
          playable().map((l) => l.id),
          (pl) => new Set(passedOf(r, pl).map((x) => x.level)),
          players,
          random,
        );
        const dir = path.join(data, "classes", id);
        fs.mkdirSync(dir, { recursive: true });
        const briefs: Array<{ player: string; text: string }> = [];
        for (const pl of players) {
          const level = getLevel(picks.get(pl)!);
          d.info(`starting a game for ${pl}`);
          const { g, plan } = await startGame(d, r, pl, level, id);
          const text = renderGameBrief(level, plan, g.id, g.limitMinutes);
          fs.writeFileSync(path.join(dir, `${pl}.md`), `Player: ${pl}\n\n${text}`);
          briefs.push({ player: pl, text });
          d.out(`${pl}: game ${g.id}`);
        }
        const esc = (s: string): string => s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
        const html =
          `<!doctype html><html><head><meta charset="utf-8"><title>Class ${id}</title><style>` +
          "@page{size:A4;margin:15mm} section{page-break-after:always} pre{white-space:pre-wrap;font-size:10pt}</style></head><body>\n" +
          briefs.map((b) => `<section><h2>${esc(b.player)}</h2><pre>${esc(b.text)}</pre></section>`).join("\n") +
          "\n</body></html>\n";
        fs.writeFileSync(path.join(dir, "briefs.html"), html);
        d.out(`class ${id}: briefs in ${dir} (one .md per player, briefs.html to print)`);
      });
    });

  klass
    .command("status")
    .description("every game in play: who, which level, hints, time")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      withRecord((r) => {
        const rows = r.games({ active: true }).map((g) => {
          const s = summarize(r, g);
          return { player: g.player, game: g.id, class: g.klass, level: g.level, hints: s.hints, minutes: Math.round(minutes(g.startedAt) * 10) / 10, fixed: g.fixedAt !== null, late: g.late, limitMinutes: g.limitMinutes };
        });
        if (o.json) return d.out(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return d.out("no games in play");
        for (const x of rows) {
          d.out(`${x.player.padEnd(16)} ${x.game}  ${x.level.padEnd(24)} hints ${x.hints}  ${x.minutes.toFixed(1)}/${x.limitMinutes} min  ${x.fixed ? `fixed${x.late ? " (late)" : ""}` : "not fixed"}`);
        }
      });
    });

  klass
    .command("down")
    .description("end every game of the class (or every game in play with --all)")
    .option("--class <id>", "the class (default: the latest)")
    .option("--all", "every game in play, class or not")
    .action(async (o: { class?: string; all?: boolean }) => {
      await withRecordAsync(async (r) => {
        const active = r.games({ active: true });
        const latest = o.class ?? active.map((g) => g.klass).filter((k): k is string => !!k).sort().pop();
        const games = o.all ? active : active.filter((g) => g.klass !== null && g.klass === latest);
        if (games.length === 0) return d.out("no class games in play");
        for (const g of games) {
          const removed = await tearDown(d, g);
          const after = r.endGame(g.id, "end");
          d.out(`${g.player}: game ${g.id} ended (${after.outcome}): ${removed}`);
        }
      });
    });
}

