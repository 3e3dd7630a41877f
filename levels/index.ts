import { DrillsError } from "../plan/errors";
import { baseline } from "./baseline";
import { LevelDefinition } from "./types";

export { LevelDefinition } from "./types";

/** Every level, by id. Add a level: write levels/<id>.ts and list it here. */
export const LEVELS: readonly LevelDefinition[] = [baseline];

export function levelIds(): string[] {
  return LEVELS.map((l) => l.id);
}

export function getLevel(id: string): LevelDefinition {
  const level = LEVELS.find((l) => l.id === id);
  if (!level) {
    throw new DrillsError(
      `Unknown level "${id}". Valid levels: ${levelIds().join(", ")}. ` +
        "Run `drills list` to see them with a one-line description.",
    );
  }
  return level;
}
