import { LevelPlan } from "../plan/types";

/** Per-node facts a player needs (the `nodes` stack output, `drills up --json`). */
export interface NodeAccess {
  /** Docker: the container; on AWS, `instance` (the instance's Name tag) instead. */
  container?: string;
  instance?: string;
  access: string;
  ports: Record<string, string>;
}

/** Each node of a Docker plan (endpoints resolved): its container, shell command and published ports. */
export function nodeAccess(plan: LevelPlan): Record<string, NodeAccess> {
  return Object.fromEntries(
    plan.nodes.map((n) => [
      n.role,
      {
        container: n.name,
        access: n.accessCommand,
        ports: Object.fromEntries(n.ports.map((p) => [p.name, `127.0.0.1:${p.host}`])),
      },
    ]),
  );
}
