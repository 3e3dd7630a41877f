import { DrillsError } from "../plan/errors";

/**
 * A level for a player: at random among the candidates they have not passed
 * (nor are playing), else among every candidate not being played. `random`
 * returns [0, 1) (crypto-backed in the CLI, seeded in tests).
 */
export function pickLevel(candidates: readonly string[], passed: ReadonlySet<string>, playing: ReadonlySet<string>, random: () => number): string {
  if (candidates.length === 0) throw new DrillsError("There are no levels to play.");
  const fresh = candidates.filter((c) => !passed.has(c) && !playing.has(c));
  const pool = fresh.length > 0 ? fresh : candidates.filter((c) => !playing.has(c));
  const from = pool.length > 0 ? pool : candidates;
  return from[Math.min(from.length - 1, Math.floor(random() * from.length))];
}

/**
 * Distinct levels for a class where possible: each player gets one they have
 * not passed and nobody else in the class got, falling back to repeats.
 */
export function pickForClass(candidates: readonly string[], passedBy: (player: string) => ReadonlySet<string>, players: readonly string[], random: () => number): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const p of players) {
    const passed = passedBy(p);
    const notTaken = candidates.filter((c) => !taken.has(c));
    const level = notTaken.length > 0 ? pickLevel(notTaken, passed, new Set(), random) : pickLevel(candidates, passed, new Set(), random);
    taken.add(level);
    out.set(p, level);
  }
  return out;
}
