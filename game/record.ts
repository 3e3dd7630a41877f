import * as fs from "fs";
import * as path from "path";
import { DrillsError } from "../plan/errors";
import { Database, sqlite } from "./sqlite";

/** "dril" in the SQLite header: marks a file as a drills record. */
export const APPLICATION_ID = 0x6472696c;
const SCHEMA_VERSION = 1;
const SQLITE_MAGIC = "SQLite format 3\0";

export type Outcome = "playing" | "passed" | "failed" | "abandoned";
export type EventKind = "play" | "hint" | "check-no" | "check-ok" | "report-refused" | "report-accepted" | "end" | "give-up";

export interface GameRow {
  id: string;
  player: string;
  level: string;
  /** The class (instructor's `class up`) the game belongs to, if any. */
  klass: string | null;
  startedAt: string;
  limitMinutes: number;
  fixedAt: string | null;
  endedAt: string | null;
  outcome: Outcome;
  /** Fixed after the level's time limit. */
  late: boolean;
  reportAcceptedAt: string | null;
}

export interface GameEvent {
  id: number;
  game: string;
  at: string;
  kind: EventKind;
  detail: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS games (
  id TEXT PRIMARY KEY,
  player TEXT NOT NULL,
  level TEXT NOT NULL,
  klass TEXT,
  started_at TEXT NOT NULL,
  limit_minutes INTEGER NOT NULL,
  fixed_at TEXT,
  ended_at TEXT,
  outcome TEXT NOT NULL DEFAULT 'playing',
  late INTEGER NOT NULL DEFAULT 0,
  report_accepted_at TEXT
);
CREATE INDEX IF NOT EXISTS games_player ON games (player);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  game TEXT NOT NULL REFERENCES games (id),
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_game ON events (game);
`;

/** Seconds precision, UTC: what the timeline shows and the report check matches. */
export function stamp(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function gameOf(r: Record<string, unknown>): GameRow {
  return {
    id: String(r.id),
    player: String(r.player),
    level: String(r.level),
    klass: r.klass === null ? null : String(r.klass),
    startedAt: String(r.started_at),
    limitMinutes: Number(r.limit_minutes),
    fixedAt: r.fixed_at === null ? null : String(r.fixed_at),
    endedAt: r.ended_at === null ? null : String(r.ended_at),
    outcome: String(r.outcome) as Outcome,
    late: Number(r.late) === 1,
    reportAcceptedAt: r.report_accepted_at === null ? null : String(r.report_accepted_at),
  };
}

/** A file that is not ours: say what it is and that it was left alone. */
function notOurs(file: string, why: string): DrillsError {
  return new DrillsError(
    `${file} is not a usable drills record: ${why}. It was left untouched. ` +
      "Move it aside (or restore a backup) and run the command again, or point DRILLS_DATA at another folder.",
  );
}

function isCorruption(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? "";
  return code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT");
}

/**
 * The game's record: one SQLite file. WAL journal and synchronous=FULL make
 * a write either whole or absent after a crash; every write is one
 * IMMEDIATE transaction and a busy timeout queues concurrent `drills`
 * processes instead of failing them.
 */
export class GameRecord {
  private constructor(
    readonly file: string,
    private readonly db: Database,
  ) {}

  static open(file: string): GameRecord {
    if (fs.existsSync(file)) {
      const st = fs.statSync(file);
      if (!st.isFile()) throw notOurs(file, "it is not a file");
      if (st.size > 0) {
        const fd = fs.openSync(file, "r");
        const head = Buffer.alloc(16);
        fs.readSync(fd, head, 0, 16, 0);
        fs.closeSync(fd);
        if (head.toString("latin1") !== SQLITE_MAGIC) throw notOurs(file, "it is not an SQLite database (corrupt, or some other file)");
      }
    } else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
    }
    const Ctor = sqlite();
    let db: Database | undefined;
    try {
      db = new Ctor(file, { timeout: 15_000 });
      const id = Number(db.pragma("application_id", { simple: true }));
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map(
        (t) => t.name,
      );
      if (id !== APPLICATION_ID && (id !== 0 || tables.length > 0)) {
        throw notOurs(file, `it is another program's SQLite database (application id ${id}, tables: ${tables.join(", ") || "none"})`);
      }
      const check = String(db.pragma("quick_check", { simple: true }));
      if (check !== "ok") throw notOurs(file, `SQLite reports it damaged (${check})`);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      const init = db.transaction(() => {
        db!.exec(SCHEMA);
        db!.pragma(`application_id = ${APPLICATION_ID}`);
        const v = Number(db!.pragma("user_version", { simple: true }));
        if (v > SCHEMA_VERSION) throw notOurs(file, `it was written by a newer drills (schema ${v}; this one knows ${SCHEMA_VERSION})`);
        if (v < SCHEMA_VERSION) db!.pragma(`user_version = ${SCHEMA_VERSION}`);
      });
      init.immediate();
      return new GameRecord(file, db);
    } catch (e) {
      db?.close();
      if (isCorruption(e)) throw notOurs(file, `SQLite cannot read it (${(e as Error).message})`);
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  private write<R>(fn: () => R): R {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      if (isCorruption(e)) throw notOurs(this.file, `SQLite cannot write it (${(e as Error).message})`);
      throw e;
    }
  }

  startGame(g: { id: string; player: string; level: string; klass?: string; limitMinutes: number; at?: string }): GameRow {
    const at = g.at ?? stamp();
    this.write(() => {
      this.db
        .prepare("INSERT INTO games (id, player, level, klass, started_at, limit_minutes) VALUES (?, ?, ?, ?, ?, ?)")
        .run(g.id, g.player, g.level, g.klass ?? null, at, g.limitMinutes);
      this.db.prepare("INSERT INTO events (game, at, kind, detail) VALUES (?, ?, 'play', '')").run(g.id, at);
    });
    return this.game(g.id)!;
  }

  addEvent(game: string, kind: EventKind, detail = "", at = stamp()): GameEvent {
    const r = this.write(() => this.db.prepare("INSERT INTO events (game, at, kind, detail) VALUES (?, ?, ?, ?)").run(game, at, kind, detail));
    return { id: Number(r.lastInsertRowid), game, at, kind, detail };
  }

  /** A check's verdict; the first OK fixes the game's time (late when past its limit). Returns the game after. */
  recordCheck(game: string, ok: boolean, detail: string, at = stamp()): GameRow {
    this.write(() => {
      this.db.prepare("INSERT INTO events (game, at, kind, detail) VALUES (?, ?, ?, ?)").run(game, at, ok ? "check-ok" : "check-no", detail);
      if (!ok) return;
      const g = gameOf(this.db.prepare("SELECT * FROM games WHERE id = ?").get(game)!);
      if (g.fixedAt !== null || g.outcome === "failed") return;
      const late = Date.parse(at) - Date.parse(g.startedAt) > g.limitMinutes * 60_000;
      this.db.prepare("UPDATE games SET fixed_at = ?, late = ? WHERE id = ?").run(at, late ? 1 : 0, game);
    });
    return this.game(game)!;
  }

  /** End a game: passed when it was fixed, else abandoned; give-up marks it failed whatever happened. */
  endGame(game: string, how: "end" | "give-up", at = stamp()): GameRow {
    this.write(() => {
      const g = gameOf(this.db.prepare("SELECT * FROM games WHERE id = ?").get(game)!);
      if (g.endedAt !== null) return;
      const outcome: Outcome = how === "give-up" ? "failed" : g.fixedAt !== null ? "passed" : "abandoned";
      this.db.prepare("INSERT INTO events (game, at, kind, detail) VALUES (?, ?, ?, '')").run(game, at, how);
      this.db.prepare("UPDATE games SET ended_at = ?, outcome = ? WHERE id = ?").run(at, outcome, game);
    });
    return this.game(game)!;
  }

  reportVerdict(game: string, accepted: boolean, detail: string, at = stamp()): void {
    this.write(() => {
      this.db.prepare("INSERT INTO events (game, at, kind, detail) VALUES (?, ?, ?, ?)").run(game, at, accepted ? "report-accepted" : "report-refused", detail);
      if (accepted) this.db.prepare("UPDATE games SET report_accepted_at = coalesce(report_accepted_at, ?) WHERE id = ?").run(at, game);
    });
  }

  game(id: string): GameRow | undefined {
    const r = this.db.prepare("SELECT * FROM games WHERE id = ?").get(id);
    return r ? gameOf(r) : undefined;
  }

  games(filter: { player?: string; active?: boolean; klass?: string } = {}): GameRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.player !== undefined) (where.push("player = ?"), params.push(filter.player));
    if (filter.klass !== undefined) (where.push("klass = ?"), params.push(filter.klass));
    if (filter.active === true) where.push("ended_at IS NULL");
    if (filter.active === false) where.push("ended_at IS NOT NULL");
    const sql = `SELECT * FROM games${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at, id`;
    return this.db.prepare(sql).all(...params).map(gameOf);
  }

  events(game: string): GameEvent[] {
    return this.db
      .prepare("SELECT * FROM events WHERE game = ? ORDER BY id")
      .all(game)
      .map((r) => ({ id: Number(r.id), game: String(r.game), at: String(r.at), kind: String(r.kind) as EventKind, detail: String(r.detail) }));
  }

  /** Hints the game has used so far. */
  hintsUsed(game: string): number {
    return Number(this.db.prepare("SELECT count(*) AS n FROM events WHERE game = ? AND kind = 'hint'").get(game)!.n);
  }
}
