import { levels } from "../levels";
import { categoryOf } from "./levels";
import { GameRecord, GameRow } from "./record";
import { certification, minutesToFix, Passed, Rule, RuleStatus, score } from "./score";

export interface GameSummary {
  game: string;
  level: string;
  outcome: GameRow["outcome"];
  startedAt: string;
  minutes?: number;
  hints: number;
  late: boolean;
  report: boolean;
  score: number;
}

export interface PlayerRecord {
  player: string;
  games: GameSummary[];
  passed: Passed[];
  rule: Rule;
  status: RuleStatus;
}

const hintCount = (level: string): number => levels().find((l) => l.id === level)?.hints.length ?? 0;

/** A game as the record shows it (level included: the record is read after the game, or by instructors). */
export function summarize(record: GameRecord, g: GameRow): GameSummary {
  const hints = record.hintsUsed(g.id);
  const minutes = minutesToFix(g);
  return {
    game: g.id,
    // A game in play never names its level (the record is player-visible).
    level: g.endedAt ? g.level : "(hidden while in play)",
    outcome: g.fixedAt && g.outcome === "playing" ? "passed" : g.outcome,
    startedAt: g.startedAt,
    ...(minutes === undefined ? {} : { minutes: Math.round(minutes * 10) / 10 }),
    hints,
    late: g.late,
    report: g.reportAcceptedAt !== null,
    score: score(g, hints, hintCount(g.level)),
  };
}

/** Levels a player fixed (not given up), for picking and certification. */
export function passedOf(record: GameRecord, player: string): Passed[] {
  return record
    .games({ player })
    .filter((g) => g.fixedAt !== null && g.outcome !== "failed")
    .map((g) => {
      const s = summarize(record, g);
      const level = levels().find((l) => l.id === g.level);
      return { level: g.level, category: level ? categoryOf(level) : "app", game: g.id, minutes: s.minutes ?? 0, hints: s.hints, late: g.late, report: s.report, score: s.score };
    });
}

export function playerRecord(record: GameRecord, player: string, rule: Rule): PlayerRecord {
  const passed = passedOf(record, player);
  return { player, games: record.games({ player }).map((g) => summarize(record, g)), passed, rule, status: certification(passed, rule) };
}
