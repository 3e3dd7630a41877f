import { DrillsError } from "../plan/errors";
import { badCorsLevel } from "./badCors";
import { baseline } from "./baseline";
import { corsAndFullDiskLevel } from "./corsAndFullDisk";
import { diskFullLevel } from "./diskFull";
import { lockedMigrationLevel } from "./lockedMigration";
import { missingIndexLevel } from "./missingIndex";
import { LevelDefinition } from "./types";

export { LevelDefinition } from "./types";

/** Every level, by id. Add a level: write levels/<id>.ts, list it here, add stacks/Pulumi.level-<id>.yaml. */
export const LEVELS: readonly LevelDefinition[] = [
  baseline,
  missingIndexLevel,
  lockedMigrationLevel,
  badCorsLevel,
  diskFullLevel,
  corsAndFullDiskLevel,
];

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
