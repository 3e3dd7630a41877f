import * as pulumi from "@pulumi/pulumi";
import { Created, recordResources, T, value } from "./mocks";

const created: Created[] = recordResources("parity");

// Imported after setMocks so resources register against the mocks.
import type { ContainerCreateOptions } from "dockerode";
import { Level } from "../../components/level";
import { levelPlan } from "../../compose/plan";
import { createOptions, NodeRef } from "../../driver/deployer";
import { lxcfsAvailable } from "../../driver/lxcfs";
import { stageImage } from "../../images/context";
import { levels, levelIds } from "../../levels";
import { dockerPlan } from "../../plan/endpoints";
import { LABEL_DEPLOYER } from "../../plan/names";
import { parseOptions } from "../../plan/options";
import { readinessSeconds } from "../../plan/recipe";

/**
 * One plan, two renderers: the Pulumi component and the CLI's Docker
 * deployer must carry every node field the same way. Here the Pulumi
 * program (with mocks) and the deployer are compared on every node of every
 * level: container options, dependency order, build context and readiness
 * budget. A field one of them drops fails here.
 */
describe.each(levels().map((l) => [l.id]))("%s: Pulumi and the CLI's deployer render the same nodes", (id) => {
  const level = levels().find((l) => l.id === id)!;
  const stack = `parity-${id}`;
  const plan = dockerPlan(levelPlan(level, parseOptions({ level: id, stack }, levelIds())));
  const res: Created[] = [];
  const deps = new Map<string, string[]>();

  beforeAll(async () => {
    const start = created.length;
    const l = new Level(stack, { level, options: parseOptions({ level: id, stack }, levelIds()) }, {
      transformations: [
        (a) => {
          deps.set(a.name, ((a.opts.dependsOn ?? []) as pulumi.Resource[]).map((r) => (r as unknown as { __name?: string }).__name ?? "?"));
          return undefined;
        },
      ],
    });
    await value(l.brief);
    res.push(...created.slice(start));
  });

  it.each(plan.nodes.map((n) => [n.role, n]))("%s", (_role, n) => {
    const tag = stageImage(n.image).tag;
    const pulumiSide = res.find((c) => c.type === T.container && c.name === `${stack}-${n.role}`)!;
    const p = pulumiSide.inputs.options as ContainerCreateOptions;
    const d = createOptions(n, plan, tag, { lxcfs: lxcfsAvailable() });

    // Identical Docker options, but for who manages them.
    expect(p.Labels?.[LABEL_DEPLOYER]).toBe("pulumi");
    const { [LABEL_DEPLOYER]: _who, ...pulumiLabels } = p.Labels ?? {};
    expect({ ...p, Labels: pulumiLabels }).toEqual(d);
    expect(p.Image).toBe(tag);
    // The readiness budget: both wait with the plan's one formula on the same healthcheck.
    const node = pulumiSide.inputs.node as NodeRef;
    expect(node).toEqual({ name: n.name, role: n.role, healthcheck: n.healthcheck });
    expect(readinessSeconds(node.healthcheck)).toBe(readinessSeconds(n.healthcheck));
    // dependsOn: neither renderer makes a node wait for another (each role retries what it needs):
    // the deployer starts every node at once, and no Pulumi container depends on another container.
    const pulumiDeps = deps.get(`${stack}-${n.role}`) ?? [];
    expect(pulumiDeps.filter((d) => plan.nodes.some((x) => d === `${stack}-${x.role}`))).toEqual([]);
    const order = plan.nodes.map((x) => x.role);
    for (const dep of n.dependsOn) expect(order).toContain(dep);
    // Build inputs: both build from the same staged context (images/context.ts).
    const image = res.find((c) => c.type === T.image && c.name === `${stack}-${n.role}-image`)!;
    expect(image.inputs.staged).toEqual(stageImage(n.image));
    // Volumes: the same spec, made by the deployer's own createVolume (ext4 or its tmpfs fallback decided on the host).
    for (const v of n.volumes) {
      const vol = res.find((c) => c.type === T.volume && c.inputs.name === v.name)!;
      expect(vol.inputs.volume).toEqual(v);
    }
    // Every field of the node spec is accounted for above.
    expect(Object.keys(n).sort()).toEqual(
      [
        "accessCommand", "cpus", "dependsOn", "env", "healthcheck", "hostname", "image", "memoryMiB", "name", "ports", "restart", "role", "shmMiB", "volumes",
        ...(n.cpuPeriodMs === undefined ? [] : ["cpuPeriodMs"]),
      ].sort(),
    );
    // The CPU quota: cpus per 100 ms period by default, or cpus x the node's own period.
    if (n.cpuPeriodMs === undefined) {
      expect(d.HostConfig?.NanoCpus).toBe(Math.round(n.cpus * 1e9));
    } else {
      expect(d.HostConfig).toMatchObject({ CpuPeriod: n.cpuPeriodMs * 1000, CpuQuota: Math.round(n.cpus * n.cpuPeriodMs * 1000) });
      expect(d.HostConfig?.NanoCpus).toBeUndefined();
    }
    expect(Object.keys(n.image).sort()).toEqual(["buildArgs", "dockerfile", "inputs", "role"]);
  });
});
