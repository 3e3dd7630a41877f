import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { acquireStackLock, holderAlive, LockInfo, lockPath, procStartTime, tryLock } from "../../driver/lock";
import { isDrillsError } from "../../plan/errors";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "drills-lock-test-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A pid that ran and exited: what a SIGKILLed drills leaves in its lock. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

function writeLock(stack: string, info: Partial<LockInfo>): void {
  fs.writeFileSync(lockPath(stack, dir), JSON.stringify({ pid: 1, command: "drills up baseline", stack, started: new Date().toISOString(), ...info }));
}

describe("stack lock", () => {
  it("is taken once; a second try sees who holds it; release frees it", () => {
    const a = tryLock("s1", "drills up baseline", dir);
    if (!("lock" in a)) throw new Error("first lock not taken");
    const file = lockPath("s1", dir);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(expect.objectContaining({ pid: process.pid, command: "drills up baseline", stack: "s1" }));
    const b = tryLock("s1", "drills down baseline", dir);
    expect("heldBy" in b && b.heldBy !== "unknown" && b.heldBy.command).toBe("drills up baseline");
    a.lock.release();
    expect(fs.existsSync(file)).toBe(false);
    const c = tryLock("s1", "drills down baseline", dir);
    expect("lock" in c).toBe(true);
    if ("lock" in c) c.lock.release();
  });

  it("locks stacks independently", () => {
    const a = tryLock("s1", "x", dir);
    const b = tryLock("s2", "y", dir);
    expect("lock" in a && "lock" in b).toBe(true);
  });

  it("refuses after the wait, naming the command, pid and start time", async () => {
    const a = tryLock("s1", "drills up baseline --stack s1", dir);
    if (!("lock" in a)) throw new Error("first lock not taken");
    const started = Date.now();
    const err = await acquireStackLock("s1", "drills down baseline --stack s1", { dir, waitMs: 400 }).catch((e) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(isDrillsError(err)).toBe(true);
    const t = new Date(a.lock.info.started).toTimeString().slice(0, 8);
    expect((err as Error).message).toBe(
      `Stack s1 is busy: \`drills up baseline --stack s1\` (pid ${process.pid}) since ${t} is working on it, and only one drills command ` +
        `may work on a stack at a time. Wait until it finishes or stop it (Ctrl-C in its terminal, or \`kill ${process.pid}\`), then run this again.`,
    );
    a.lock.release();
  });

  it("waits while the holder finishes within the wait", async () => {
    const a = tryLock("s1", "drills check baseline", dir);
    if (!("lock" in a)) throw new Error("first lock not taken");
    const lines: string[] = [];
    setTimeout(() => a.lock.release(), 300);
    const b = await acquireStackLock("s1", "drills solve baseline", { dir, waitMs: 3000, log: (l) => lines.push(l) });
    expect(b.info.command).toBe("drills solve baseline");
    expect(lines[0]).toMatch(/^waiting for `drills check baseline` \(pid \d+\) since .* to finish with stack s1$/);
    b.release();
  });

  it("clears a lock whose process is gone (killed) and says so", async () => {
    const pid = deadPid();
    expect(holderAlive({ pid })).toBe(false);
    writeLock("s1", { pid });
    const lines: string[] = [];
    const l = await acquireStackLock("s1", "drills up baseline", { dir, waitMs: 0, log: (x) => lines.push(x) });
    expect(l.cleared?.pid).toBe(pid);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^cleared a lock left by \`drills up baseline\` \\(pid ${pid}\\) since .*, which is no longer running$`))]);
    l.release();
  });

  it("takes a reused pid (another start time) for a dead holder", () => {
    expect(procStartTime(process.pid)).toMatch(/^\d+$/);
    expect(holderAlive({ pid: process.pid, procStart: procStartTime(process.pid) })).toBe(true);
    expect(holderAlive({ pid: process.pid, procStart: "1" })).toBe(false);
  });

  it("treats a fresh unreadable lock as held, an old one as stale", () => {
    fs.mkdirSync(dir, { recursive: true });
    const file = lockPath("s1", dir);
    fs.writeFileSync(file, "");
    expect(tryLock("s1", "x", dir)).toEqual({ heldBy: "unknown" });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    const r = tryLock("s1", "x", dir);
    expect("lock" in r).toBe(true);
    if ("lock" in r) r.lock.release();
  });

  it("release leaves another holder's lock alone", () => {
    const a = tryLock("s1", "x", dir);
    if (!("lock" in a)) throw new Error("not taken");
    writeLock("s1", { pid: 999999 });
    a.lock.release();
    expect(fs.existsSync(lockPath("s1", dir))).toBe(true);
  });
});
