import { shortcutsOf } from "../levels";
import { LevelDefinition } from "../levels/types";

/**
 * Instructor notes for a level (never shown to players): what each fault
 * does, the bounds it keeps, the artifacts its story leaves on the nodes, the
 * words that would give it away, and the staged hints with the solution.
 */
export function renderNotes(level: LevelDefinition): string {
  const lines = [`# Instructor notes: ${level.id} (${level.title})`, "", level.summary, ""];
  if (level.faults.length === 0) lines.push("No fault: the healthy app.", "");
  for (const f of level.faults) {
    lines.push(`## Fault ${f.id}`, "", f.description, "", "Bounds:", ...f.bounds.map((b) => `- ${b}`), "");
    if (f.story) lines.push("What its history leaves on the nodes (checked on every run):", ...f.story.artifacts.map((a) => `- ${a}`), "");
    if (f.symptomPaths?.length) lines.push(`Symptom paths: ${f.symptomPaths.map((p) => `/${p}`).join(", ")}`, "");
    lines.push(`Words the game never shows: ${f.spoilers.join(", ")}`, "");
  }
  if (level.brief.alert) lines.push("## Alert", "", level.brief.alert, "");
  lines.push("## Hints (the last is the solution)", "", ...level.hints.map((h, i) => `${i + 1}. ${h}`), "");
  const shortcuts = shortcutsOf(level);
  if (shortcuts.length) lines.push("## Shortcuts the check refuses", "", ...shortcuts.map((s) => `- ${s.description}`), "");
  return lines.join("\n");
}
