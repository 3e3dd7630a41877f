import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lockedMigration, RUNNER_CMD } from "../../faults/lockedMigration";
import { ProbeResult } from "../../faults/types";
import { getLevel } from "../../levels";
import { levelPlan } from "../../compose/plan";
import { parseOptions } from "../../plan/options";

interface MigrateResult {
  applied: string[];
  pending: string[];
  busy: boolean;
}
type FakeDb = {
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  migrationRunning(): Promise<boolean>;
  applyMigration(version: string, sql: string): Promise<boolean>;
};
// The backend's plain JS module, loaded as the backend loads it.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { migrate } = require("../../app/backend/lib/migrate.js") as { migrate: (db: FakeDb, dir: string) => Promise<MigrateResult> };

describe("the app's migrations (app/backend/lib/migrate.js)", () => {
  let dir: string;
  let out: jest.SpyInstance;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "drills-migrations-"));
    for (const f of ["001_init.sql", "002_b.sql", "003_c.sql", "notes.txt"]) fs.writeFileSync(path.join(dir, f), `-- ${f}\n`);
  });
  beforeEach(() => (out = jest.spyOn(process.stdout, "write").mockImplementation(() => true)));
  afterEach(() => out.mockRestore());
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logged = () => out.mock.calls.map((c) => String(c[0])).join("");

  const fake = (opts: { running?: boolean; busyAt?: string; failAt?: string }) => {
    const calls: string[] = [];
    const db: FakeDb = {
      query: async (sql) => (sql.startsWith("SELECT version") ? [{ version: "001_init" }] : []),
      migrationRunning: async () => opts.running === true,
      applyMigration: async (version, sql) => {
        calls.push(`${version}:${sql.trim()}`);
        if (version === opts.failAt) throw new Error("terminating connection due to administrator command");
        return version !== opts.busyAt;
      },
    };
    return { db, calls };
  };

  it("applies the pending files in name order, each with its own text", async () => {
    const { db, calls } = fake({});
    expect(await migrate(db, dir)).toEqual({ applied: ["002_b", "003_c"], pending: [], busy: false });
    expect(calls).toEqual(["002_b:-- 002_b.sql", "003_c:-- 003_c.sql"]);
    expect(logged()).toMatch(/migrations: 2 pending \(002_b, 003_c\), 1 already applied/);
  });

  it("does not wait for another run: reports what is pending and applies nothing", async () => {
    const { db, calls } = fake({ running: true });
    expect(await migrate(db, dir)).toEqual({ applied: [], pending: ["002_b", "003_c"], busy: true });
    expect(calls).toEqual([]);
    expect(logged()).toMatch(/another migration run is in progress; not waiting for it \(pending: 002_b, 003_c\)/);
  });

  it("stops when another run takes the lock first (a race), keeping the rest pending", async () => {
    const { db } = fake({ busyAt: "003_c" });
    expect(await migrate(db, dir)).toEqual({ applied: ["002_b"], pending: ["003_c"], busy: true });
  });

  it("fails on a failed migration, logging that nothing was recorded", async () => {
    const { db, calls } = fake({ failAt: "002_b" });
    await expect(migrate(db, dir)).rejects.toThrow(/administrator command/);
    expect(calls).toHaveLength(1);
    expect(logged()).toMatch(/ERROR migration 002_b: failed after \d+\.\ds, rolled back, not recorded: terminating connection/);
  });
});

describe("locked-migration: the deploy's story and the brief", () => {
  const level = getLevel("locked-migration");
  const fault = level.faults[0];
  const plan = levelPlan(level, parseOptions({ level: level.id }, [level.id]));

  it("ships a real migration file and runs the node's deploy hook, no shell pipeline holding the table", () => {
    const [deploy, underWay] = fault.actions!(plan);
    expect(deploy.node).toBe("backend");
    expect(deploy.script).toContain("install -m 0644 /dev/stdin /opt/drills/migrations/postgres/003_users_last_seen_at.sql");
    expect(deploy.script).toMatch(/^ALTER TABLE users ADD COLUMN last_seen_at timestamp;$/m);
    expect(deploy.script).toMatch(/^drills-deploy "/m);
    expect(deploy.script).not.toMatch(/\bsleep\b|\bpsql\b|setsid/);
    expect(underWay.node).toBe("datastore");
    expect(fault.symptomPaths).toEqual(["api/users"]);
    expect(fault.story!.artifacts.length).toBeGreaterThanOrEqual(6);
    // The fault's own words never appear in the file a trainee reads.
    const file = deploy.script.slice(deploy.script.indexOf("-- 003_"), deploy.script.indexOf("DRILLS_MIGRATION\ndrills-deploy"));
    expect(["lock", "transaction", "fault", "drill", "stuck", "hang"].filter((w) => file.toLowerCase().includes(w))).toEqual([]);
  });

  it("the reference solution ends the session, then waits for the runner to exit", () => {
    const steps = fault.solution(plan);
    expect(steps.map((s) => s.node)).toEqual(["datastore", "backend"]);
    expect(steps[0].script).toContain("pg_terminate_backend");
    expect(steps[1].script).toContain(RUNNER_CMD);
  });

  it("the deploy hook is valid bash", () => {
    expect(spawnSync("bash", ["-n", "roles/backend/drills-deploy"]).status).toBe(0);
    expect(fs.statSync("roles/backend/drills-deploy").mode & 0o111).not.toBe(0);
  });

  const measured = (figures: Record<string, number | string>): Record<string, ProbeResult> => ({
    [fault.id]: { present: true, summary: "", figures },
  });
  const truth = {
    symptomStatus: 500,
    symptomMs: 30_021,
    symptomMessage: "Query read timeout",
    pageMessage: "Could not load users: Query read timeout",
    otherStatuses: "200 200 200",
    otherP50MaxMs: 40,
    cpuBusyMaxPct: 1.5,
    lockHolders: 1,
  };

  it("the brief holds when the figures match it", () => {
    expect(level.brief.contradictions!(measured(truth))).toEqual([]);
  });

  it.each([
    ["an instant error", { symptomMs: 800 }, 0],
    ["a hang past 35 s", { symptomMs: 45_000, symptomStatus: 0 }, 0],
    ["a different message", { symptomMessage: "timeout exceeded when trying to connect" }, 0],
    ["a slow invoice list", { otherP50MaxMs: 2500 }, 1],
    ["a failing upload list", { otherStatuses: "200 200 500" }, 1],
    ["a busy node", { cpuBusyMaxPct: 85 }, 2],
  ])("names the statement that %s contradicts", (_what, change, index) => {
    expect(level.brief.contradictions!(measured({ ...truth, ...change }))).toEqual([level.brief.symptoms[index]]);
  });

  it("a missing probe contradicts every statement", () => {
    expect(level.brief.contradictions!({})).toEqual(level.brief.symptoms);
  });

  it("rejects parameters it cannot honour", () => {
    expect(() => lockedMigration({ fastMs: 5 })).toThrow(/parameter fastMs is 5/);
  });
});
