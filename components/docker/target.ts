import * as pulumi from "@pulumi/pulumi";
import { authorizeKeyScript } from "../../driver/playerKey";
import { createOptions, HostView } from "../../driver/deployer";
import { connect } from "../../driver/engine";
import { requirePortsFree } from "../../driver/ports";
import { lxcfsAvailable } from "../../driver/lxcfs";
import { stageImage } from "../../images/context";
import { isDrillsError } from "../../plan/errors";
import { deployedBy, nodeOf } from "../../plan/names";
import { LevelPlan, Role } from "../../plan/types";
import { Action, Container, Image, KeyPair, Network, PlayerKey, Volume } from "./resources";

export interface DockerTargetArgs {
  /** The level plan to render, endpoints resolved (plan/endpoints.ts dockerPlan); every field is carried. */
  plan: LevelPlan;
}

/**
 * Renders a level plan on the local Docker engine: one network, an image per
 * role (built locally from its staged context, never pushed), a volume per
 * plan volume, a container per node, all started at once and each waited on
 * until healthy, then the fault actions in order. The resources run the
 * same code as the CLI's deployer (components/docker/resources.ts).
 */
export class DockerTarget extends pulumi.ComponentResource {
  public readonly network: Network;
  public readonly containers: Partial<Record<Role, Container>> = {};
  /** Resolves once every node is healthy and every action has run. */
  public readonly ready: pulumi.Output<string[]>;
  /** The stack's SSH key (secret): the player's user on every node accepts it. */
  public readonly privateKey: pulumi.Output<string>;

  constructor(name: string, args: DockerTargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:docker:DockerTarget", name, {}, opts);
    if (JSON.stringify(args.plan).includes("{{")) throw new Error(`plan ${args.plan.stack}: resolve endpoints (dockerPlan) before rendering`);
    // Labelled as Pulumi's: `drills down` refuses to remove it behind Pulumi's back.
    const plan = deployedBy(args.plan, "pulumi");

    // Truthful node tools where the host serves lxcfs (scripts/ensure-lxcfs.sh).
    const host: HostView = { lxcfs: lxcfsAvailable() };

    // The CLI's port check, at preview too: a taken port fails before anything is created.
    const portsFree = pulumi.output(checkPorts(plan));
    this.network = new Network(`${name}-net`, { name: portsFree.apply(() => plan.networkName), labels: plan.labels, stack: plan.stack }, { parent: this });

    for (const n of plan.nodes) {
      const staged = stageImage(n.image);
      const image = new Image(`${name}-${n.role}-image`, { staged }, { parent: this });
      const volumes = n.volumes.map(
        // After the network, which waits for the port check and refuses a stack `drills up` started:
        // a refused or taken stack leaves nothing behind (images are shared, kept anyway).
        (v) => new Volume(`${name}-${n.role}-${v.target.split("/").pop()}`, { name: v.name, labels: plan.labels, volume: v }, { parent: this, dependsOn: [this.network] }),
      );
      this.containers[n.role] = new Container(
        `${name}-${n.role}`,
        // The very options the CLI's deployer sends to Docker, with the image's tag once built.
        { options: createOptions(n, plan, staged.tag, host), node: { name: n.name, role: n.role, healthcheck: n.healthcheck } },
        // No container waits for another: each role retries what it needs, so Pulumi starts them all at once.
        { parent: this, dependsOn: [this.network, image, ...volumes] },
      );
    }

    // The player's key, given at start (never in an image), as the CLI's `up` does.
    const key = new KeyPair(`${name}-key`, { comment: `drills ${plan.stack}` }, { parent: this });
    this.privateKey = pulumi.secret(key.privateKey);
    const keyActions = plan.nodes.map(
      (n) =>
        new PlayerKey(
          `${name}-${n.role}-key`,
          { container: n.name, containerId: (this.containers[n.role] as Container).id, script: key.publicKey.apply((k) => authorizeKeyScript(k)) },
          { parent: this, dependsOn: [this.containers[n.role] as Container] },
        ),
    );

    // Fault actions run in order once every node is healthy; each re-runs when its node is replaced.
    const all = plan.nodes.map((n) => this.containers[n.role] as Container);
    let previous: pulumi.Resource[] = all;
    const actions: Action[] = [];
    for (const a of plan.actions) {
      const target = nodeOf(plan, a.node);
      const cmd = new Action(
        `${name}-action-${actions.length}`,
        { container: target.name, containerId: (this.containers[a.node] as Container).id, script: a.script },
        { parent: this, dependsOn: previous },
      );
      previous = [cmd];
      actions.push(cmd);
    }

    this.ready = pulumi.all([...all.map((c) => c.id), ...keyActions.map((k) => k.id), ...actions.map((c) => c.id)]);
    this.registerOutputs({ network: this.network.id, ready: this.ready });
  }
}

/** Every port the plan publishes is free or the stack's own (an update); a RunError naming the holder otherwise. */
async function checkPorts(plan: LevelPlan): Promise<boolean> {
  // Unit tests with Pulumi mocks register no real resource: leave the host alone.
  if (pulumi.runtime.getMonitor()?.constructor?.name === "MockMonitor") return true;
  // No engine: the network's create says so in its own words.
  const docker = await connect().catch(() => undefined);
  if (!docker) return false;
  try {
    await requirePortsFree(docker, plan, "pulumi", true);
    return true;
  } catch (e) {
    if (isDrillsError(e)) throw new pulumi.RunError(e.message);
    throw e;
  }
}
