import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ActionSpec, Role } from "../../plan/types";

export interface FaultActionsArgs {
  /** The plan's actions, in order (scripts may hold unresolved placeholders). */
  actions: ActionSpec[];
  /** The same actions' scripts, endpoints resolved. */
  scripts: pulumi.Output<string[]>;
  /** The instance each role runs on. */
  instances: Partial<Record<Role, aws.ec2.Instance>>;
  /** How to SSH to a role's node (through the entry node for the private ones). */
  connection: (role: Role) => command.types.input.remote.ConnectionArgs;
  /** What the first action waits for (every node's readiness). */
  after: pulumi.Resource[];
}

/**
 * The level's faults, applied over SSH (`sudo bash -s`) one after another,
 * through the entry node as every SSH session.
 * Each re-runs when the instance it acts on is replaced (triggers).
 */
export class FaultActions extends pulumi.ComponentResource {
  public readonly commands: command.remote.Command[] = [];

  constructor(name: string, args: FaultActionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:aws:FaultActions", name, {}, opts);
    let previous: pulumi.Resource[] = args.after;
    args.actions.forEach((a, i) => {
      const inst = args.instances[a.node];
      if (!inst) throw new Error(`action ${a.id} runs on ${a.node}, which the plan lacks`);
      const cmd = new command.remote.Command(
        `${name}-action-${a.id}`,
        {
          connection: args.connection(a.node),
          create: "sudo bash -s",
          stdin: args.scripts.apply((s) => s[i]),
          triggers: [inst.id],
        },
        { parent: this, dependsOn: previous },
      );
      previous = [cmd];
      this.commands.push(cmd);
    });
    this.registerOutputs({ done: pulumi.all(this.commands.map((c) => c.stdout)) });
  }
}
