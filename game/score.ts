import { DrillsError } from "../plan/errors";
import { GameRow } from "./record";

/** The certification rule; instructors change it in certification.json. */
export interface Rule {
  /** Distinct levels passed. */
  minLevels: number;
  /** Distinct categories among them. */
  minCategories: number;
  /** Each counted level needs an accepted report. */
  requireReports: boolean;
  /** Whether a level fixed past its time limit counts. */
  countLate: boolean;
}

export const DEFAULT_RULE: Rule = { minLevels: 5, minCategories: 3, requireReports: true, countLate: false };

export function parseRule(raw: unknown, where: string): Rule {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new DrillsError(`${where}: the rule must be a JSON object such as ${JSON.stringify(DEFAULT_RULE)}.`);
  const o = raw as { [k: string]: unknown };
  const rule: Rule = { ...DEFAULT_RULE };
  for (const [k, v] of Object.entries(o)) {
    if (k === "minLevels" || k === "minCategories") {
      if (!Number.isInteger(v) || (v as number) < 0) throw new DrillsError(`${where}: ${k} must be a whole number >= 0 (got ${JSON.stringify(v)}).`);
      rule[k] = v as number;
    } else if (k === "requireReports" || k === "countLate") {
      if (typeof v !== "boolean") throw new DrillsError(`${where}: ${k} must be true or false (got ${JSON.stringify(v)}).`);
      rule[k] = v;
    } else {
      throw new DrillsError(`${where}: unknown key "${k}" (known: ${Object.keys(DEFAULT_RULE).join(", ")}).`);
    }
  }
  return rule;
}

export function describeRule(r: Rule): string {
  return (
    `at least ${r.minLevels} distinct levels across at least ${r.minCategories} categories` +
    (r.requireReports ? ", each with an accepted report" : "") +
    (r.countLate ? "" : ", fixed within the time limit")
  );
}

/** Minutes from play to fix (undefined when not fixed). */
export function minutesToFix(g: Pick<GameRow, "startedAt" | "fixedAt">): number | undefined {
  if (!g.fixedAt) return undefined;
  return Math.max(0, (Date.parse(g.fixedAt) - Date.parse(g.startedAt)) / 60_000);
}

/**
 * A game's score out of 100: a fix within the limit starts at 100, loses 10
 * per hint (the last hint is the solution: 30) and 1 per 3 minutes; a late fix
 * is capped at 40; no fix (or a give-up) scores 0.
 */
export function score(g: Pick<GameRow, "startedAt" | "fixedAt" | "late" | "outcome">, hints: number, totalHints: number): number {
  const minutes = minutesToFix(g);
  if (minutes === undefined || g.outcome === "failed") return 0;
  const solutionSeen = totalHints > 0 && hints >= totalHints;
  const hintCost = 10 * Math.min(hints, solutionSeen ? totalHints - 1 : hints) + (solutionSeen ? 30 : 0);
  const s = Math.max(0, 100 - hintCost - Math.floor(minutes / 3));
  return g.late ? Math.min(s, 40) : s;
}

export interface Passed {
  level: string;
  category: string;
  game: string;
  minutes: number;
  hints: number;
  late: boolean;
  report: boolean;
  score: number;
}

export interface RuleStatus {
  met: boolean;
  /** Levels that count toward the rule (best game per level). */
  counted: Passed[];
  categories: string[];
  missing: string[];
}

/** Whether the games a player passed meet the rule, and what is still missing. */
export function certification(passed: Passed[], rule: Rule): RuleStatus {
  const ok = passed.filter((p) => (rule.countLate || !p.late) && (!rule.requireReports || p.report));
  const best = new Map<string, Passed>();
  for (const p of ok) {
    const b = best.get(p.level);
    if (!b || p.score > b.score) best.set(p.level, p);
  }
  const counted = [...best.values()].sort((a, b) => a.level.localeCompare(b.level));
  const categories = [...new Set(counted.map((p) => p.category))].sort();
  const missing: string[] = [];
  if (counted.length < rule.minLevels) missing.push(`${rule.minLevels - counted.length} more level(s)`);
  if (categories.length < rule.minCategories) missing.push(`${rule.minCategories - categories.length} more categor${rule.minCategories - categories.length === 1 ? "y" : "ies"}`);
  return { met: missing.length === 0, counted, categories, missing };
}
