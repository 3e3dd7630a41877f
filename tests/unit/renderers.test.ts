import { containerArgs } from "../../components/dockerTarget";
import { levelPlan } from "../../compose/plan";
import { createOptions } from "../../driver/deployer";
import { stageImage } from "../../images/context";
import { levels, levelIds } from "../../levels";
import { volumeDriverOpts } from "../../plan/app";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { readinessSeconds } from "../../plan/recipe";

/**
 * One plan, two renderers: the Pulumi component and the CLI's Docker
 * deployer must carry every node field the same way. A field one of them
 * drops fails here.
 */
describe.each(levels().map((l) => [l.id]))("%s: Pulumi and driver render the same nodes", (id) => {
  const level = levels().find((l) => l.id === id)!;
  const plan = dockerPlan(levelPlan(level, parseOptions({ level: id }, levelIds())));

  it.each(plan.nodes.map((n) => [n.role, n]))("%s", (_role, n) => {
    const tag = stageImage(n.image).tag;
    const p = containerArgs(n, plan, tag, plan.networkName, n.volumes.map((v) => v.name));
    const d = createOptions(n, plan, tag);
    const host = d.HostConfig!;

    expect(d.name).toBe(p.name);
    expect(d.Hostname).toBe(p.hostname);
    expect(d.Image).toBe(p.image);
    expect(d.Env).toEqual(p.envs);
    expect(Object.entries(d.Labels!).map(([label, value]) => ({ label, value }))).toEqual(p.labels);
    expect(host.Memory).toBe((p.memory as number) * 1024 * 1024);
    expect(host.MemorySwap).toBe((p.memorySwap as number) * 1024 * 1024);
    expect(host.NanoCpus! / 1e9).toBe(Number(p.cpus));
    expect(host.ShmSize).toBe((p.shmSize as number) * 1024 * 1024);
    expect(host.RestartPolicy?.Name).toBe(p.restart);
    const ports = p.ports as Array<{ internal: number; external: number; ip: string }>;
    expect(host.PortBindings).toEqual(Object.fromEntries(ports.map((x) => [`${x.internal}/tcp`, [{ HostIp: x.ip, HostPort: String(x.external) }]])));
    for (const x of ports) expect(x.ip).toBe("127.0.0.1");
    expect(host.Mounts).toEqual((p.mounts as Array<{ type: string; source: string; target: string }>).map((m) => ({ Type: m.type, Source: m.source, Target: m.target })));
    const hc = p.healthcheck as { tests: string[]; interval: string; timeout: string; retries: number; startPeriod: string };
    const seconds = (s: string) => Number(/^(\d+)s$/.exec(s)?.[1] ?? NaN);
    expect(d.Healthcheck).toEqual({
      Test: hc.tests,
      Interval: seconds(hc.interval) * 1e9,
      Timeout: seconds(hc.timeout) * 1e9,
      Retries: hc.retries,
      StartPeriod: seconds(hc.startPeriod) * 1e9,
    });
    // The readiness budget: Pulumi's wait timeout and the driver's deadline use the plan's one formula.
    expect(p.waitTimeout).toBe(readinessSeconds(n.healthcheck));
    expect(d.NetworkingConfig?.EndpointsConfig?.[plan.networkName]?.Aliases).toEqual((p.networksAdvanced as Array<{ aliases: string[] }>)[0].aliases);
    // dependsOn: every node this one needs comes before it in the plan (both renderers start in plan order).
    const order = plan.nodes.map((x) => x.role);
    for (const dep of n.dependsOn) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(n.role));
    // Build inputs: both renderers build from the same staged context (images/context.ts).
    expect(stageImage(n.image).files.length).toBeGreaterThan(0);
    // Every field of the node spec is accounted for above or in the image/volume specs.
    expect(Object.keys(n).sort()).toEqual(
      ["accessCommand", "cpus", "dependsOn", "env", "healthcheck", "hostname", "image", "memoryMiB", "name", "ports", "restart", "role", "shmMiB", "volumes"].sort(),
    );
    expect(Object.keys(n.image).sort()).toEqual(["buildArgs", "dockerfile", "inputs", "role"]);
    for (const v of n.volumes) expect(volumeDriverOpts(v) === undefined).toBe(v.sizeMiB === undefined);
  });
});
