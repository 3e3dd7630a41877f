import { containerArgs } from "../../components/dockerTarget";
import { createOptions } from "../../driver/level";
import { LEVELS, levelIds } from "../../levels";
import { buildPlan, volumeDriverOpts } from "../../plan/build";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";

/**
 * One plan, two renderers: the Pulumi component and the real-run driver must
 * carry every node field the same way. A field one of them drops fails here.
 */
describe.each(LEVELS.map((l) => [l.id]))("%s: Pulumi and driver render the same nodes", (id) => {
  const level = LEVELS.find((l) => l.id === id)!;
  const plan = dockerPlan(buildPlan(level, parseOptions({ level: id }, levelIds())));

  it.each(plan.nodes.map((n) => [n.role, n]))("%s", (_role, n) => {
    const p = containerArgs(n, plan, n.image.tag, plan.networkName, n.volumes.map((v) => v.name));
    const d = createOptions(n, plan);
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
    expect(d.Healthcheck).toEqual({
      Test: hc.tests,
      Interval: parseInt(hc.interval, 10) * 1e9,
      Timeout: parseInt(hc.timeout, 10) * 1e9,
      Retries: hc.retries,
      StartPeriod: parseInt(hc.startPeriod, 10) * 1e9,
    });
    expect(d.NetworkingConfig?.EndpointsConfig?.[plan.networkName]?.Aliases).toEqual((p.networksAdvanced as Array<{ aliases: string[] }>)[0].aliases);
    // Every field of the node spec is accounted for above or in the image/volume specs.
    expect(Object.keys(n).sort()).toEqual(
      ["accessCommand", "cpus", "dependsOn", "env", "healthcheck", "hostname", "image", "memoryMiB", "name", "ports", "restart", "role", "shmMiB", "volumes"].sort(),
    );
    for (const v of n.volumes) expect(volumeDriverOpts(v) === undefined).toBe(v.sizeMiB === undefined);
  });
});
