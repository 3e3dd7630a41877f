import * as pulumi from "@pulumi/pulumi";
import { nodeAccess, NodeAccess } from "../compose/access";
import { renderBrief } from "../compose/brief";
import { levelPlan } from "../compose/plan";
import { LevelDefinition } from "../levels/types";
import { dockerPlan } from "../plan/endpoints";
import { DrillsError } from "../plan/errors";
import { AwsOptions, LevelOptions } from "../plan/options";
import { LevelPlan } from "../plan/types";
import { AwsTarget } from "./aws/awsTarget";
import { DockerTarget } from "./docker/target";

export interface LevelArgs {
  /** The level to run (levels/<id>.ts). */
  level: LevelDefinition;
  /** Validated options (plan/options.ts parseOptions). */
  options: LevelOptions;
}

/**
 * One level: builds the plan from the level's data and renders it on the
 * chosen target. Outputs the app URL, each node's access command and the
 * player brief.
 */
export class Level extends pulumi.ComponentResource {
  public readonly appUrl: pulumi.Output<string>;
  public readonly apiUrl: pulumi.Output<string | undefined>;
  public readonly nodes: pulumi.Output<Record<string, NodeAccess>>;
  public readonly brief: pulumi.Output<string>;
  /** The level's generated SSH key (secret): `pulumi stack output --show-secrets sshPrivateKey`. */
  public readonly sshPrivateKey?: pulumi.Output<string>;

  constructor(name: string, args: LevelArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate and plan before registering anything, so a bad config or two
    // conflicting faults fail at preview with nothing created.
    validateLevelArgs(args);
    const plan = levelPlan(args.level, args.options);
    super("drills:levels:Level", name, {}, opts);

    // Each target resolves the plan's endpoints; outputs come once it is ready.
    let resolved: pulumi.Output<LevelPlan>;
    let nodes: pulumi.Output<Record<string, NodeAccess>> | undefined;
    if (plan.target === "aws") {
      const t = new AwsTarget(name, { plan, aws: args.options.aws as AwsOptions }, { parent: this });
      resolved = t.resolved;
      this.sshPrivateKey = t.privateKey;
      nodes = t.nodes;
    } else {
      const p = dockerPlan(plan);
      const t = new DockerTarget(name, { plan: p }, { parent: this });
      this.sshPrivateKey = t.privateKey;
      resolved = t.ready.apply(() => p);
    }
    this.appUrl = resolved.apply((p) => p.appUrl);
    this.apiUrl = resolved.apply((p) => p.apiUrl);
    this.nodes = nodes ?? resolved.apply((p) => nodeAccess(p));
    this.brief = resolved.apply((p) => renderBrief(args.level, p, "pulumi"));

    this.registerOutputs({ appUrl: this.appUrl, apiUrl: this.apiUrl, nodes: this.nodes, brief: this.brief, sshPrivateKey: this.sshPrivateKey });
  }
}

/** Checks that need the level and options together; throws DrillsError. */
export function validateLevelArgs(args: LevelArgs): void {
  if (args.options.level !== args.level.id) {
    throw new DrillsError(`Options name level "${args.options.level}" but the level given is "${args.level.id}".`);
  }
  if (args.options.target === "aws" && !args.options.aws) {
    throw new DrillsError("drills:target is aws but the AWS settings were not validated (use parseOptions).");
  }
}
