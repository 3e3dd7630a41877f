import { levels } from "../levels";
import { LevelCategory, LevelDefinition } from "../levels/types";

export const DEFAULT_TIME_LIMIT_MINUTES = 45;

/** Levels a game can hand out: those with something broken (not the baseline tour, not the warm-up). */
export function playable(): LevelDefinition[] {
  return levels().filter((l) => l.faults.length > 0 && !l.warmUp);
}

export const categoryOf = (l: LevelDefinition): LevelCategory => l.category ?? "app";
export const timeLimitOf = (l: LevelDefinition): number => l.timeLimitMinutes ?? DEFAULT_TIME_LIMIT_MINUTES;

/** Per fault, the terms a correct root cause uses: the fault's diagnosis, else its spoiler words. */
export function diagnosisOf(l: LevelDefinition): string[][] {
  return l.faults.map((f) => [...(f.diagnosis ?? f.spoilers)]);
}

/**
 * Everything that would tell a player which level they got: the level's id
 * and title and its faults' ids, with dashes also as spaces and underscores.
 * (Spoiler words are held to the brief by the level tests; names are held here.)
 */
export function namesOf(l: LevelDefinition): string[] {
  const ids = [l.id, ...l.faults.map((f) => f.id)];
  const variants = ids.flatMap((id) => [id, id.replace(/-/g, " "), id.replace(/-/g, "_")]);
  return [...new Set([...variants, l.title])];
}
