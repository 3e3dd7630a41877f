import { Role } from "../plan/types";
import { CheckContext, Story } from "./types";

/**
 * Run a story's verify script on a node. The script prints `MISSING <key>`
 * for each artifact that is not there; the answer is those artifacts'
 * descriptions (each once), or why the node could not be inspected.
 */
export async function missingArtifacts(ctx: CheckContext, role: Role, script: string, artifacts: Record<string, string>): Promise<string[]> {
  const r = await ctx.exec(role, script);
  const keys = [...new Set(r.stdout.split("\n").filter((l) => l.startsWith("MISSING ")).map((l) => l.slice(8).trim()))];
  const missing = keys.map((k) => artifacts[k] ?? `MISSING ${k}`);
  if (r.code !== 0 && missing.length === 0) missing.push(`(could not inspect the ${role}: ${r.stderr.trim()})`);
  return missing;
}

/** A story whose artifacts one verify script on one node checks (see missingArtifacts). */
export function scriptedStory(role: Role, artifacts: Record<string, string>, script: string): Story {
  return { artifacts: Object.values(artifacts), verify: (ctx) => missingArtifacts(ctx, role, script, artifacts) };
}
