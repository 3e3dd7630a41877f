import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DrillsError } from "../plan/errors";

/**
 * One command per stack at a time on this host: `up`, `down`, `check` and
 * `solve` hold a lock file created with O_EXCL. A second command waits a few
 * seconds, then refuses naming who holds it. A lock whose process is gone
 * (killed) is cleared.
 */

export interface LockInfo {
  pid: number;
  /** What holds it, as the user typed it: "drills up baseline". */
  command: string;
  stack: string;
  /** ISO time the command started. */
  started: string;
  /** The holder's start time in clock ticks (/proc/<pid>/stat), so a reused pid is not taken for the holder. */
  procStart?: string;
}

/** Where lock files live: DRILLS_LOCK_DIR, else <tmp>/drills-locks. */
export function lockDir(): string {
  return process.env.DRILLS_LOCK_DIR ?? path.join(os.tmpdir(), "drills-locks");
}

export function lockPath(stack: string, dir = lockDir()): string {
  return path.join(dir, `${stack}.lock`);
}

/** Field 22 of /proc/<pid>/stat (start time since boot); undefined where /proc is not readable. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote a lock still runs (same pid and, where known, same start time). */
export function holderAlive(info: Pick<LockInfo, "pid" | "procStart">): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = procStartTime(info.pid);
  return !(info.procStart && now && now !== info.procStart);
}

/** "drills up baseline (pid 1234) since 01:02:03" */
export function describeLock(info: LockInfo): string {
  const t = new Date(info.started);
  const since = Number.isNaN(t.getTime()) ? info.started : t.toTimeString().slice(0, 8);
  return `\`${info.command}\` (pid ${info.pid}) since ${since}`;
}

function readLock(file: string): LockInfo | "unreadable" | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return "unreadable";
  }
  try {
    const v = JSON.parse(text) as LockInfo;
    return typeof v.pid === "number" ? v : "unreadable";
  } catch {
    return "unreadable";
  }
}

/** A lock file this process holds; release() removes it (also done at exit). */
export interface StackLock {
  file: string;
  info: LockInfo;
  /** Set when a lock left by a dead process was cleared to take this one. */
  cleared?: LockInfo;
  release(): void;
}

export type Attempt = { lock: StackLock } | { heldBy: LockInfo | "unknown" };

/** A lock file whose content cannot be read is stale once this old (its writer died between create and write). */
const UNREADABLE_STALE_MS = 5_000;

/** One try: take the lock, or say who has it. Stale locks (dead holder) are removed and the try repeated. */
export function tryLock(stack: string, command: string, dir = lockDir()): Attempt {
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    // Shared by every user of the host, like /tmp (the umask would narrow mkdir's mode).
    try {
      fs.chmodSync(dir, 0o1777);
    } catch {
      // another user made it first: theirs is as good
    }
  }
  const file = lockPath(stack, dir);
  const info: LockInfo = { pid: process.pid, command, stack, started: new Date().toISOString(), procStart: procStartTime(process.pid) };
  let cleared: LockInfo | undefined;
  for (let i = 0; i < 3; i++) {
    try {
      const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
      fs.writeSync(fd, JSON.stringify(info));
      fs.closeSync(fd);
      const release = (): void => {
        process.removeListener("exit", release);
        releaseIfOurs(file, info);
      };
      // Released at exit too (an error, process.exit on Ctrl-C); a SIGKILL leaves it, and the next command clears it.
      process.once("exit", release);
      const lock: StackLock = { file, info, cleared, release };
      return { lock };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const held = readLock(file);
    if (held === undefined) continue; // released meanwhile
    if (held === "unreadable") {
      const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age < UNREADABLE_STALE_MS) return { heldBy: "unknown" };
      removeStale(file, held);
      continue;
    }
    if (holderAlive(held)) return { heldBy: held };
    if (removeStale(file, held)) cleared = held;
  }
  return { heldBy: readLock(file) as LockInfo | undefined ?? "unknown" };
}

/**
 * Remove a stale lock, unless someone replaced it meanwhile: a short-lived
 * side lock makes "still the same stale content? then unlink" atomic between
 * two commands clearing the same lock.
 */
function removeStale(file: string, seen: LockInfo | "unreadable"): boolean {
  const side = `${file}.clearing`;
  try {
    fs.closeSync(fs.openSync(side, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY));
  } catch {
    // Another command is clearing it (or died doing so: drop a side lock older than a few seconds).
    const age = Date.now() - (fs.statSync(side, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > UNREADABLE_STALE_MS) fs.rmSync(side, { force: true });
    return false;
  }
  try {
    const now = readLock(file);
    if (JSON.stringify(now) !== JSON.stringify(seen)) return false;
    fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.rmSync(side, { force: true });
  }
}

function releaseIfOurs(file: string, info: LockInfo): void {
  const held = readLock(file);
  if (held !== "unreadable" && held?.pid === info.pid && held.started === info.started) fs.rmSync(file, { force: true });
}

export interface LockOptions {
  /** How long to wait for another command to finish; default DRILLS_LOCK_WAIT_SECONDS or 5 s. */
  waitMs?: number;
  log?: (line: string) => void;
  dir?: string;
}

/** Take the stack's lock, waiting briefly; a DrillsError naming the holder when it stays busy. */
export async function acquireStackLock(stack: string, command: string, opts: LockOptions = {}): Promise<StackLock> {
  const waitMs = opts.waitMs ?? Number(process.env.DRILLS_LOCK_WAIT_SECONDS ?? 5) * 1000;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    const a = tryLock(stack, command, opts.dir);
    if ("lock" in a) {
      if (a.lock.cleared) opts.log?.(`cleared a lock left by ${describeLock(a.lock.cleared)}, which is no longer running`);
      return a.lock;
    }
    const who = a.heldBy === "unknown" ? "another drills command" : describeLock(a.heldBy);
    if (Date.now() >= deadline) {
      const stop = a.heldBy === "unknown" ? "" : ` or stop it (Ctrl-C in its terminal, or \`kill ${a.heldBy.pid}\`)`;
      throw new DrillsError(
        `Stack ${stack} is busy: ${who} is working on it, and only one drills command may work on a stack at a time. ` +
          `Wait until it finishes${stop}, then run this again.`,
      );
    }
    if (!told) opts.log?.(`waiting for ${who} to finish with stack ${stack}`);
    told = true;
    await new Promise((r) => setTimeout(r, 200));
  }
}
