import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { stageImage } from "../images/context";
import { volumeDriverOpts } from "../plan/app";
import { LABEL_ROLE, nodeOf } from "../plan/names";
import { readinessSeconds } from "../plan/recipe";
import { LevelPlan, NodeSpec, Role } from "../plan/types";

export interface DockerTargetArgs {
  /** The level plan to render, endpoints resolved (plan/endpoints.ts dockerPlan); every field is carried. */
  plan: LevelPlan;
}

function labelList(labels: Record<string, string>): docker.types.input.ContainerLabel[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** Seconds as Docker's duration strings. */
const secs = (n: number): string => `${n}s`;

/**
 * Renders a level plan on a Docker engine: one network, an image per role
 * (built locally, never pushed), a volume per plan volume, a container per
 * node started in dependency order and waited on until healthy, then the
 * fault actions via `docker exec`.
 */
export class DockerTarget extends pulumi.ComponentResource {
  public readonly network: docker.Network;
  public readonly containers: Record<string, docker.Container> = {};
  /** Resolves once every node is healthy and every action has run. */
  public readonly ready: pulumi.Output<string[]>;

  constructor(name: string, args: DockerTargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:docker:DockerTarget", name, {}, opts);
    const plan = args.plan;
    if (JSON.stringify(plan).includes("{{")) throw new Error(`plan ${plan.stack}: resolve endpoints (dockerPlan) before rendering`);
    const labels = labelList(plan.labels);

    this.network = new docker.Network(
      `${name}-net`,
      { name: plan.networkName, labels, driver: "bridge" },
      { parent: this },
    );

    // One image per role, built from the same staged context as the CLI's driver builds.
    const images = new Map<Role, docker.Image>();
    for (const n of plan.nodes) {
      const staged = stageImage(n.image);
      images.set(
        n.role,
        new docker.Image(
          `${name}-${n.role}-image`,
          {
            imageName: staged.tag,
            skipPush: true,
            buildOnPreview: false,
            build: {
              context: staged.dir,
              dockerfile: path.join(staged.dir, staged.dockerfile),
              args: staged.buildArgs,
            },
          },
          { parent: this },
        ),
      );
    }

    const byRole = new Map<Role, docker.Container>();
    for (const n of plan.nodes) {
      const volumes = n.volumes.map(
        (v) => new docker.Volume(
          `${name}-${v.name.replace(`${plan.prefix}-`, "")}-volume`,
          { name: v.name, labels, driverOpts: volumeDriverOpts(v) },
          { parent: this },
        ),
      );
      const deps = n.dependsOn.map((r) => {
        const d = byRole.get(r);
        if (!d) throw new Error(`plan ${plan.stack}: node ${n.role} depends on ${r}, which comes later or is missing`);
        return d;
      });
      const image = images.get(n.role) as docker.Image;
      const container = new docker.Container(
        `${name}-${n.role}`,
        containerArgs(n, plan, image.imageName, this.network.name, volumes.map((v) => v.name)),
        { parent: this, dependsOn: [...deps, ...volumes] },
      );
      byRole.set(n.role, container);
      this.containers[n.role] = container;
    }

    // Fault actions run once every node is healthy (wait: true above).
    const all = Array.from(byRole.values());
    let previous: pulumi.Resource[] = all;
    const actions: command.local.Command[] = [];
    for (const a of plan.actions) {
      const target = nodeOf(plan, a.node);
      const cmd = new command.local.Command(
        `${name}-action-${a.id}`,
        { create: `docker exec -i ${target.name} bash -s`, stdin: a.script },
        { parent: this, dependsOn: previous },
      );
      previous = [cmd];
      actions.push(cmd);
    }

    this.ready = pulumi.all([...all.map((c) => c.id), ...actions.map((c) => c.id)]);
    this.registerOutputs({ network: this.network.name, ready: this.ready });
  }
}

/** Container arguments for one node; exported so unit tests read them directly. */
export function containerArgs(
  n: NodeSpec,
  plan: LevelPlan,
  image: pulumi.Input<string>,
  network: pulumi.Input<string>,
  volumeNames: pulumi.Input<string>[],
): docker.ContainerArgs {
  return {
    name: n.name,
    hostname: n.hostname,
    image,
    envs: Object.entries(n.env).map(([k, v]) => `${k}=${v}`),
    labels: labelList({ ...plan.labels, [LABEL_ROLE]: n.role }),
    memory: n.memoryMiB,
    memorySwap: n.memoryMiB,
    cpus: String(n.cpus),
    shmSize: n.shmMiB,
    restart: n.restart,
    ports: n.ports.map((p) => ({ internal: p.internal, external: p.host, ip: "127.0.0.1" })),
    networksAdvanced: [{ name: network, aliases: [n.hostname] }],
    mounts: n.volumes.map((v, i) => ({ type: "volume", source: volumeNames[i], target: v.target })),
    healthcheck: {
      tests: n.healthcheck.command,
      interval: secs(n.healthcheck.intervalSeconds),
      timeout: secs(n.healthcheck.timeoutSeconds),
      retries: n.healthcheck.retries,
      startPeriod: secs(n.healthcheck.startPeriodSeconds),
    },
    wait: true,
    waitTimeout: readinessSeconds(n.healthcheck),
    mustRun: true,
  };
}
