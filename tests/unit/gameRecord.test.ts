import { spawn } from "child_process";
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GameRecord } from "../../game/record";
import { sqlite } from "../../game/sqlite";

const ROOT = path.join(__dirname, "..", "..");
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "drills-record-"));

/** game/record.ts as one plain JS file a child process can load (the binding stays external). */
const BUNDLE = path.join(tmp(), "record.js");
beforeAll(() => {
  esbuild.buildSync({ entryPoints: [path.join(ROOT, "game", "record.ts")], bundle: true, platform: "node", format: "cjs", external: ["better-sqlite3"], outfile: BUNDLE, logLevel: "silent" });
});

/** A child `drills`-like process writing games: each game is one transaction (a row in games and its play event). */
function writer(file: string, tag: string, count: number): ReturnType<typeof spawn> {
  const code = `
    const { GameRecord } = require(${JSON.stringify(BUNDLE)});
    const r = GameRecord.open(${JSON.stringify(file)});
    for (let i = 0; i < ${count}; i++) {
      r.startGame({ id: "${tag}-" + i, player: "${tag}", level: "lvl", limitMinutes: 45 });
      r.addEvent("${tag}-" + i, "hint", "1");
      if (i === 20) process.stdout.write("going\\n");
    }
    r.close();
  `;
  // The bundle sits in a temp folder: resolve the binding from the repo's node_modules.
  return spawn(process.execPath, ["-e", code], { env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") }, stdio: ["ignore", "pipe", "pipe"] });
}

const exited = (c: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: string | null; err: string }> =>
  new Promise((resolve) => {
    let err = "";
    c.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    c.on("close", (code, signal) => resolve({ code, signal, err }));
  });

describe("the record", () => {
  it("keeps games, events, checks and the first fix", () => {
    const file = path.join(tmp(), "record.sqlite");
    const r = GameRecord.open(file);
    r.startGame({ id: "g-aaaaa", player: "ana", level: "disk-full", limitMinutes: 45, at: "2026-01-01T10:00:00Z" });
    r.addEvent("g-aaaaa", "hint", "1", "2026-01-01T10:05:00Z");
    r.recordCheck("g-aaaaa", false, "still broken", "2026-01-01T10:10:00Z");
    const fixed = r.recordCheck("g-aaaaa", true, "", "2026-01-01T10:20:00Z");
    expect(fixed).toMatchObject({ fixedAt: "2026-01-01T10:20:00Z", late: false, outcome: "playing" });
    // A later OK does not move the fix time.
    expect(r.recordCheck("g-aaaaa", true, "", "2026-01-01T11:20:00Z").fixedAt).toBe("2026-01-01T10:20:00Z");
    expect(r.endGame("g-aaaaa", "end", "2026-01-01T10:30:00Z")).toMatchObject({ outcome: "passed", endedAt: "2026-01-01T10:30:00Z" });
    expect(r.events("g-aaaaa").map((e) => e.kind)).toEqual(["play", "hint", "check-no", "check-ok", "check-ok", "end"]);
    expect(r.hintsUsed("g-aaaaa")).toBe(1);
    r.close();
    // Reopened: the same.
    const again = GameRecord.open(file);
    expect(again.games({ player: "ana" })).toHaveLength(1);
    again.close();
  });

  it("marks a fix after the time limit late, and a give-up failed", () => {
    const r = GameRecord.open(path.join(tmp(), "record.sqlite"));
    r.startGame({ id: "g-late1", player: "bo", level: "x", limitMinutes: 45, at: "2026-01-01T10:00:00Z" });
    expect(r.recordCheck("g-late1", true, "", "2026-01-01T10:46:00Z").late).toBe(true);
    r.startGame({ id: "g-gave1", player: "bo", level: "x", limitMinutes: 45, at: "2026-01-01T10:00:00Z" });
    expect(r.endGame("g-gave1", "give-up").outcome).toBe("failed");
    r.startGame({ id: "g-left1", player: "bo", level: "x", limitMinutes: 45 });
    expect(r.endGame("g-left1", "end").outcome).toBe("abandoned");
    expect(r.games({ player: "bo", active: true }).map((g) => g.id)).toEqual(["g-late1"]);
    r.close();
  });

  it("takes two writers at once: nothing lost, nothing refused", async () => {
    const file = path.join(tmp(), "record.sqlite");
    GameRecord.open(file).close();
    const [a, b] = [writer(file, "a", 150), writer(file, "b", 150)];
    const results = await Promise.all([exited(a), exited(b)]);
    expect(results.map((x) => ({ code: x.code, err: x.err }))).toEqual([{ code: 0, err: "" }, { code: 0, err: "" }]);
    const r = GameRecord.open(file);
    expect(r.games().length).toBe(300);
    expect(r.games().every((g) => r.events(g.id).length === 2)).toBe(true);
    r.close();
  }, 60_000);

  it("survives a writer killed mid-write: every game whole or absent", async () => {
    const file = path.join(tmp(), "record.sqlite");
    GameRecord.open(file).close();
    const w = writer(file, "k", 100_000);
    const done = exited(w);
    await new Promise<void>((resolve) => w.stdout!.once("data", () => resolve()));
    await new Promise((r) => setTimeout(r, 150));
    w.kill("SIGKILL");
    expect((await done).signal).toBe("SIGKILL");
    const r = GameRecord.open(file);
    const games = r.games();
    expect(games.length).toBeGreaterThan(20);
    // startGame is one transaction (game + play event); the hint is the next one: at most the last game lacks it.
    const plays = games.map((g) => r.events(g.id).filter((e) => e.kind === "play").length);
    expect(plays.every((n) => n === 1)).toBe(true);
    expect(games.filter((g) => r.events(g.id).length !== 2).length).toBeLessThanOrEqual(1);
    // And it takes writes again.
    r.startGame({ id: "after", player: "k", level: "lvl", limitMinutes: 45 });
    r.close();
  }, 60_000);

  it("refuses a corrupt file, clearly, and leaves it as it was", () => {
    const file = path.join(tmp(), "record.sqlite");
    const junk = Buffer.from("this is not a database at all, just some text someone saved here\n".repeat(100));
    fs.writeFileSync(file, junk);
    expect(() => GameRecord.open(file)).toThrow(/record\.sqlite is not a usable drills record: it is not an SQLite database.*left untouched/);
    expect(fs.readFileSync(file).equals(junk)).toBe(true);
  });

  it("refuses a damaged record (a valid header, garbage pages)", () => {
    const file = path.join(tmp(), "record.sqlite");
    const r = GameRecord.open(file);
    for (let i = 0; i < 200; i++) r.startGame({ id: `g-${i}`, player: "p", level: "l", limitMinutes: 45 });
    r.close();
    const buf = fs.readFileSync(file);
    buf.fill(0xab, 4096 + 50, Math.min(buf.length, 4096 * 3));
    fs.writeFileSync(file, buf);
    expect(() => GameRecord.open(file)).toThrow(/not a usable drills record/);
    expect(fs.readFileSync(file).equals(buf)).toBe(true);
  });

  it("refuses another program's SQLite database and does not touch it", () => {
    const file = path.join(tmp(), "other.sqlite");
    const Ctor = sqlite();
    const db = new Ctor(file);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine');");
    db.close();
    const before = fs.readFileSync(file);
    expect(() => GameRecord.open(file)).toThrow(/another program's SQLite database \(application id 0, tables: notes\)/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});
