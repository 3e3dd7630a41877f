import { knownHostsBeside, playerKeyFile } from "../plan/app";
import { LevelPlan } from "../plan/types";

/**
 * The one line that saves a Pulumi stack's key (a secret stack output) where
 * the brief's ssh commands look for it, and empties the stack's known-hosts
 * file (the nodes' host keys are new after every `pulumi up`).
 */
export function savePulumiKey(stack: string): string {
  const f = playerKeyFile(stack);
  // install -D makes the folder and sets the mode in one step (and keeps the brief free of words some levels' causes use).
  return `pulumi stack output --stack ${stack} --show-secrets sshPrivateKey | install -D -m 600 /dev/stdin ${f} && install -m 600 /dev/null ${knownHostsBeside(f)}`;
}

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
