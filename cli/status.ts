import type { StackStatus } from "../driver/deployer";

/** A stack's heading in `drills status`: a game's never names its level (no spoilers), but says why and where it shows. */
export function stackHeading(s: Pick<StackStatus, "stack" | "level" | "game">): string {
  if (s.level) return `${s.stack} (level ${s.level})`;
  const hidden = "level hidden until the game ends; `drills record` shows it then";
  if (s.game) return s.game === s.stack ? `game ${s.game} (${hidden})` : `${s.stack} (game ${s.game}; ${hidden})`;
  return `${s.stack} (level unknown: its containers carry no drills.level label)`;
}

/** What `drills status` prints: each stack, then one line per node. */
export function statusLines(stacks: StackStatus[]): string[] {
  if (stacks.length === 0) return ["no drills levels are running"];
  return stacks.flatMap((s) => [
    stackHeading(s),
    ...s.nodes.map((n) => `  ${n.role.padEnd(10)} ${n.container.padEnd(36)} ${n.state}/${n.health}  ${n.ports.join(" ")}`),
  ]);
}
