import { renderGameBrief } from "../../compose/brief";
import { levelPlan } from "../../compose/plan";
import { diagnosisOf, namesOf, playable } from "../../game/levels";
import { pickForClass, pickLevel } from "../../game/pick";
import { GameEvent } from "../../game/record";
import { incidentTemplate, postmortemTemplate, validateReport } from "../../game/report";
import { certification, DEFAULT_RULE, parseRule, Passed, score } from "../../game/score";
import { certificateHtml } from "../../game/certificate";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { downCommand, gameId, isGameId, isGamePlan, LABEL_LEVEL, neutralPlan, upCommand } from "../../plan/names";
import { levelIds } from "../../levels";
import { stackHeading, statusLines } from "../../cli/status";
import { cli } from "../cliInProcess";
import { GameRecord } from "../../game/record";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A seeded [0, 1) generator (mulberry32), so a failure replays. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("picking a level", () => {
  const all = ["a", "b", "c", "d", "e"];

  it("never repeats a passed level while others remain, and reaches every other one", () => {
    for (let seed = 0; seed < 50; seed++) {
      const rnd = seeded(seed);
      const passed = new Set(["a", "c"]);
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const p = pickLevel(all, passed, new Set(), rnd);
        expect(passed.has(p)).toBe(false);
        seen.add(p);
      }
      expect([...seen].sort()).toEqual(["b", "d", "e"]);
    }
  });

  it("plays a passed level again only when every level is passed, and never one in play", () => {
    const rnd = seeded(7);
    for (let i = 0; i < 100; i++) expect(pickLevel(all, new Set(all), new Set(["b"]), rnd)).not.toBe("b");
    expect(pickLevel(all, new Set(["a", "b", "c", "d"]), new Set(), rnd)).toBe("e");
  });

  it("gives a class distinct levels where possible, each one the player has not passed", () => {
    const rnd = seeded(3);
    const picks = pickForClass(all, (p) => new Set(p === "ana" ? ["a", "b"] : []), ["ana", "bo", "chen"], rnd);
    expect(new Set(picks.values()).size).toBe(3);
    expect(["a", "b"]).not.toContain(picks.get("ana"));
    const crowd = pickForClass(["a", "b"], () => new Set(), ["p1", "p2", "p3"], rnd);
    expect(new Set(crowd.values()).size).toBe(2);
  });
});

describe("scoring", () => {
  const g = (minutes: number, extra: { late?: boolean; outcome?: "playing" | "passed" | "failed" } = {}) => ({
    startedAt: "2026-01-01T10:00:00Z",
    fixedAt: new Date(Date.parse("2026-01-01T10:00:00Z") + minutes * 60_000).toISOString(),
    late: extra.late ?? false,
    outcome: extra.outcome ?? "passed",
  });

  it("starts at 100 and loses points for hints and time", () => {
    expect(score(g(0), 0, 4)).toBe(100);
    expect(score(g(30), 0, 4)).toBe(90);
    expect(score(g(0), 2, 4)).toBe(80);
    // The last hint is the solution: it costs more.
    expect(score(g(0), 4, 4)).toBe(100 - 30 - 30);
    expect(score(g(300), 4, 4)).toBe(0);
  });

  it("caps a late fix and scores a give-up or no fix 0", () => {
    expect(score(g(50, { late: true }), 0, 4)).toBe(40);
    expect(score(g(10, { outcome: "failed" }), 0, 4)).toBe(0);
    expect(score({ startedAt: "2026-01-01T10:00:00Z", fixedAt: null, late: false, outcome: "abandoned" as const }, 0, 4)).toBe(0);
  });
});

describe("the certification rule", () => {
  const p = (level: string, category: string, extra: Partial<Passed> = {}): Passed => ({ level, category, game: `g-${level}`, minutes: 10, hints: 0, late: false, report: true, score: 90, ...extra });

  it("needs five distinct levels across three categories, each with an accepted report (default)", () => {
    const five = [p("a", "proxy"), p("b", "app"), p("c", "datastore"), p("d", "datastore"), p("e", "node")];
    expect(certification(five, DEFAULT_RULE)).toMatchObject({ met: true, missing: [] });
    expect(certification(five.slice(0, 4), DEFAULT_RULE)).toMatchObject({ met: false, missing: ["1 more level(s)"] });
    const twoCats = five.map((x) => ({ ...x, category: x.category === "node" || x.category === "proxy" ? "app" : x.category }));
    expect(certification(twoCats, DEFAULT_RULE)).toMatchObject({ met: false, missing: ["1 more category"] });
    const noReport = [...five.slice(0, 4), p("e", "node", { report: false })];
    expect(certification(noReport, DEFAULT_RULE).met).toBe(false);
    const late = [...five.slice(0, 4), p("e", "node", { late: true })];
    expect(certification(late, DEFAULT_RULE).met).toBe(false);
    // The same level twice counts once.
    expect(certification([...five.slice(0, 4), p("d", "node")], DEFAULT_RULE).met).toBe(false);
  });

  it("is the instructor's to change, and a bad rule file is refused clearly", () => {
    const rule = parseRule({ minLevels: 1, minCategories: 1, requireReports: false }, "certification.json");
    expect(certification([p("a", "app", { report: false })], rule).met).toBe(true);
    expect(() => parseRule({ minLevels: "five" }, "certification.json")).toThrow(/minLevels must be a whole number/);
    expect(() => parseRule({ levels: 3 }, "certification.json")).toThrow(/unknown key "levels"/);
  });

  it("prints a one-page certificate from the record", () => {
    const html = certificateHtml({ player: "ana <x>", rule: DEFAULT_RULE, counted: [p("a", "app")], titles: { a: "Title A" }, issuedAt: "2026-01-01T00:00:00Z" });
    expect(html).toMatch(/@page \{ size: A4 portrait/);
    expect(html).toContain("ana &lt;x&gt;");
    expect(html).toContain("<td>Title A</td><td>app</td><td>10 min</td>");
  });
});

describe("the report", () => {
  const events: GameEvent[] = [
    { id: 1, game: "g-abcde", at: "2026-01-01T10:00:00Z", kind: "play", detail: "" },
    { id: 2, game: "g-abcde", at: "2026-01-01T10:07:00Z", kind: "hint", detail: "1" },
    { id: 3, game: "g-abcde", at: "2026-01-01T10:12:00Z", kind: "check-no", detail: "" },
    { id: 4, game: "g-abcde", at: "2026-01-01T10:20:00Z", kind: "check-ok", detail: "" },
  ];
  const diagnosis = [["lock", "transaction"]];
  const filled = (cause: string, action = "- Add a lock_timeout check to the migration pipeline (owner: platform team)"): { incident: string; postmortem: string } => ({
    incident: incidentTemplate("g-abcde", "ana", events)
      .replace("<!-- Two or three sentences: what users saw, for how long, and how it ended. -->", "The user list failed for twenty minutes after a deploy until the fix.")
      .replace(/(- 2026-01-01T10:00:00Z[^\n]*\n)/, "$1- 2026-01-01T10:03:00Z looked at top on every node: idle\n")
      .replace(/<!-- Who was affected[^>]*-->/, "Every user opening the user list saw an error after thirty seconds.")
      .replace(/<!-- How the incident was detected[^>]*-->/, "The uptime check on the users API paged on call.")
      .replace(/<!-- What you did to restore service[^>]*-->/, "Ended the stuck session on the datastore and verified the list loads fast."),
    postmortem: postmortemTemplate("g-abcde")
      .replace(/<!-- What was really wrong[^>]*-->/, cause)
      .replace(/<!-- What made it possible[^>]*-->/, "Migrations run with no timeout and nothing alerts on long ones.")
      .replace(/<!-- One item per line. -->/, "- The alert was precise.")
      .replace(/<!-- One item per line. -->/, "- Finding the holder took long.")
      .replace(/<!-- One per line[^>]*-->/, action),
  });

  it("refuses the templates as written, listing what is missing", () => {
    const problems = validateReport({ incident: incidentTemplate("g-abcde", "ana", events), postmortem: postmortemTemplate("g-abcde"), events, diagnosis });
    expect(problems).toEqual(
      expect.arrayContaining([
        'incident report: "Summary" is empty or still the template',
        'incident report: "Impact" is empty or still the template',
        'postmortem: "Root cause" is empty or still the template',
        'postmortem: "Action items" is empty or still the template',
        "incident report: the timeline holds only the prefilled events; add what you looked at and what you did, with times",
      ]),
    );
    expect(validateReport({ incident: "", postmortem: "", events, diagnosis })).toContain('incident report: the "Timeline" section is missing');
  });

  it("accepts a real one", () => {
    expect(validateReport({ ...filled("A deploy's migration held an exclusive lock on users in a transaction that never ended."), events, diagnosis })).toEqual([]);
  });

  it("refuses a root cause that blames the wrong thing, without naming the right one", () => {
    const problems = validateReport({ ...filled("The network between the backend and the datastore was flaky and dropped packets."), events, diagnosis });
    expect(problems).toEqual(["postmortem: the root cause does not match what broke"]);
    expect(problems.join(" ")).not.toMatch(/lock|transaction/);
  });

  it("needs the recorded events in the timeline, in order", () => {
    const r = filled("The lock was held by an open transaction of the migration.");
    const swapped = r.incident.replace("2026-01-01T10:07:00Z", "XX").replace("2026-01-01T10:12:00Z", "2026-01-01T10:07:00Z").replace("XX", "2026-01-01T10:12:00Z");
    expect(validateReport({ ...r, incident: swapped, events, diagnosis })).toEqual([
      "incident report: the timeline must hold the recorded events in order; missing or out of order from: check-no at 2026-01-01T10:12:00Z, check-ok at 2026-01-01T10:20:00Z",
    ]);
  });

  it("needs an action item that prevents a repeat of what broke, with an owner, and stays blameless", () => {
    const cause = "The lock was held by an open transaction of the migration.";
    expect(validateReport({ ...filled(cause, "- Apologise to the users who saw errors (owner: support)"), events, diagnosis })).toEqual([
      "postmortem: no action item names something that would prevent a repeat of what broke",
    ]);
    expect(validateReport({ ...filled(cause, "- Add a lock_timeout check to migrations in CI"), events, diagnosis })).toEqual(["postmortem: every action item needs an owner (`(owner: NAME)`)"]);
    expect(validateReport({ ...filled(`${cause} The deployer was careless.`), events, diagnosis })).toEqual([
      "postmortem: keep it blameless: describe systems and decisions, not people's failings",
    ]);
  });

  it("the templates name nothing of the level", () => {
    for (const l of playable()) {
      const text = incidentTemplate("g-abcde", "ana", events) + postmortemTemplate("g-abcde");
      for (const n of namesOf(l)) expect({ level: l.id, name: n, found: text.toLowerCase().includes(n.toLowerCase()) }).toEqual({ level: l.id, name: n, found: false });
    }
  });

  it("every playable level has diagnosis terms for each fault", () => {
    for (const l of playable()) for (const terms of diagnosisOf(l)) expect({ level: l.id, terms: terms.length > 0 }).toEqual({ level: l.id, terms: true });
  });
});

describe("neutral games", () => {
  it("game ids are random, short and neutral", () => {
    const id = gameId(Buffer.from([1, 2, 3, 4, 5]));
    expect(id).toMatch(/^g-[a-z0-9]{5}$/);
    expect(isGameId(id)).toBe(true);
    expect(isGameId("level-baseline")).toBe(false);
  });

  it.each(playable().map((l) => [l.id]))("level %s as a game: no name, label, hostname, env, URL or brief line names it", (id) => {
    const level = playable().find((l) => l.id === id)!;
    const stack = "g-abcde";
    const plan = neutralPlan(dockerPlan(levelPlan(level, parseOptions({ level: id, stack, target: "docker" }, levelIds()))));
    expect(plan.labels[LABEL_LEVEL]).toBeUndefined();
    expect(plan.labels["drills.game"]).toBe(stack);
    const { actions: _a, ...visible } = plan;
    const engineSide = JSON.stringify({ ...visible, level: undefined });
    const brief = renderGameBrief(level, plan, stack, 45);
    for (const n of namesOf(level)) {
      expect({ name: n, inPlan: engineSide.toLowerCase().includes(n.toLowerCase()) }).toEqual({ name: n, inPlan: false });
      expect({ name: n, inBrief: brief.toLowerCase().includes(n.toLowerCase()) }).toEqual({ name: n, inBrief: false });
    }
    for (const w of level.faults.flatMap((f) => f.spoilers)) expect({ spoiler: w, inBrief: brief.toLowerCase().includes(w.toLowerCase()) }).toEqual({ spoiler: w, inBrief: false });
    expect(brief).toContain(`drills check --game ${stack}`);
  });
});

describe("the levels a game hands out", () => {
  it("each declares where its trouble lives, and together they span the rule's categories", () => {
    const undeclared = playable().filter((l) => l.category === undefined).map((l) => l.id);
    expect(undeclared).toEqual([]);
    expect(new Set(playable().map((l) => l.category)).size).toBeGreaterThanOrEqual(3);
  });

  it("never include the warm-up or the healthy tour", () => {
    const ids = playable().map((l) => l.id);
    expect(ids).not.toContain("tutorial");
    expect(ids).not.toContain("baseline");
  });
});

describe("drills status", () => {
  const node = { role: "proxy", container: "drills-g-abcde-proxy", state: "running", health: "healthy", ports: ["127.0.0.1:20000->22"] };

  it("shows a game's stack by its game id, says its level is hidden and where it shows, and names no level", () => {
    const lines = statusLines([{ stack: "g-abcde", game: "g-abcde", nodes: [node] }]);
    expect(lines[0]).toBe("game g-abcde (level hidden until the game ends; `drills record` shows it then)");
    expect(lines[0]).not.toContain("?");
    expect(lines[1]).toMatch(/^ {2}proxy\s+drills-g-abcde-proxy\s+running\/healthy {2}127\.0\.0\.1:20000->22$/);
    for (const l of playable()) expect(lines.join("\n")).not.toContain(l.id);
  });

  it("shows a level's stack with its level, and a stack without either label plainly", () => {
    expect(stackHeading({ stack: "level-baseline", level: "baseline" })).toBe("level-baseline (level baseline)");
    expect(stackHeading({ stack: "x", game: "g-abcde" })).toBe("x (game g-abcde; level hidden until the game ends; `drills record` shows it then)");
    expect(stackHeading({ stack: "old" })).toBe("old (level unknown: its containers carry no drills.level label)");
    expect(statusLines([])).toEqual(["no drills levels are running"]);
  });
});

describe("what a failed up tells a game's player to run", () => {
  const placed = (stack?: string) => dockerPlan(levelPlan(playable()[0], parseOptions({ level: playable()[0].id, ...(stack ? { stack } : {}), target: "docker" }, levelIds())));

  it("a game: `drills play` again, `drills down <game id>` for leftovers; never the level nor --stack", () => {
    const game = neutralPlan(placed("g-abcde"));
    expect(isGamePlan(game)).toBe(true);
    expect(upCommand(game)).toBe("drills play");
    expect(downCommand(game)).toBe("drills down g-abcde");
  });

  it("a level keeps `drills up/down <level> [--stack S]`", () => {
    const id = playable()[0].id;
    expect(isGamePlan(placed())).toBe(false);
    expect(upCommand(placed())).toBe(`drills up ${id}`);
    expect(downCommand(placed("mine"))).toBe(`drills down ${id} --stack mine`);
    // A game id as a level's stack name is still a level's stack.
    expect(downCommand(placed("g-abcde"))).toBe(`drills down ${id} --stack g-abcde`);
  });
});

describe("drills down <game id>", () => {
  it("refuses a game in play (end closes its record too), before touching the engine", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drills-down-game-"));
    const saved = process.env.DRILLS_DATA;
    process.env.DRILLS_DATA = dir;
    try {
      const r = GameRecord.open(path.join(dir, "record.sqlite"));
      r.startGame({ id: "g-abcde", player: "ana", level: playable()[0].id, limitMinutes: 45 });
      r.close();
      const down = await cli("down", "g-abcde");
      expect(down).toEqual({ code: 1, stdout: "", stderr: "drills: Game g-abcde is in play: end it with `drills end --game g-abcde` (or `drills give-up`), which also closes its record.\n" });
    } finally {
      if (saved === undefined) delete process.env.DRILLS_DATA;
      else process.env.DRILLS_DATA = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
