import { Created, recordResources, value } from "./mocks";

const created: Created[] = recordResources("level-baseline");

// Imported after setMocks so resources register against the mocks.
import { Level, validateLevelArgs } from "../../components/level";
import { getLevel } from "../../levels";
import { derivePort } from "../../plan/app";
import { parseOptions } from "../../plan/options";
import { T } from "./mocks";
import { lxcfsAvailable, LXCFS_MOUNTS } from "../../driver/lxcfs";


describe("Level on the docker target (mocks)", () => {
  let level: Level;
  beforeAll(async () => {
    const options = parseOptions({ level: "baseline", stack: "level-baseline" }, ["baseline"]);
    level = new Level("level-baseline", { level: getLevel("baseline"), options });
    await value(level.brief);
  });

  const of = (type: string) => created.filter((c) => c.type === type);
  type Options = import("dockerode").ContainerCreateOptions;
  const containers = () => of(T.container).map((c) => c.inputs.options as Options);

  it("renders exactly one network, three images, one volume, three containers and no actions", () => {
    expect(of("drills:levels:Level")).toHaveLength(1);
    expect(of("drills:docker:DockerTarget")).toHaveLength(1);
    expect(of(T.network).map((c) => c.inputs.name)).toEqual(["drills-level-baseline-net"]);
    expect(of(T.image)).toHaveLength(3);
    expect(of(T.volume).map((c) => c.inputs.name)).toEqual(["drills-level-baseline-uploads"]);
    // No container waits for another: they register in any order.
    expect(containers().map((o) => o.name).sort()).toEqual([
      "drills-level-baseline-backend",
      "drills-level-baseline-datastore",
      "drills-level-baseline-proxy",
    ]);
    expect(of(T.action)).toHaveLength(0);
    // No provider plugin is needed: every resource is one of ours, run by Pulumi itself.
    expect(created.filter((c) => c.type.startsWith("docker:") || c.type.startsWith("command:"))).toEqual([]);
  });

  it("builds images locally from the staged role contexts with the one Dockerfile", () => {
    for (const img of of(T.image)) {
      const staged = img.inputs.staged as { tag: string; dir: string; dockerfile: string; buildArgs: Record<string, string> };
      expect(img.inputs.tag).toBe(staged.tag);
      expect(staged.tag).toMatch(/^drills\/(proxy|backend|datastore):[0-9a-f]{16}$/);
      expect(staged.dir).toMatch(/\.drills\/contexts\/(proxy|backend|datastore)-[0-9a-f]{16}$/);
      expect(staged.dockerfile).toBe("roles/Dockerfile");
      expect(staged.buildArgs.ROLE).toMatch(/^(proxy|backend|datastore)$/);
      expect(staged.buildArgs.BASE_IMAGE).toBe("debian:bookworm-slim");
    }
  });

  it("gives every container limits, loopback-only ports, a healthcheck, labels (Pulumi's) and its network", () => {
    const base = derivePort("level-baseline");
    const expectedPorts: Record<string, number[]> = {
      "drills-level-baseline-datastore": [5432, base + 2],
      "drills-level-baseline-backend": [3000, base + 1],
      "drills-level-baseline-proxy": [80, base],
    };
    const ssh = { "22/tcp": [{ HostIp: "127.0.0.1", HostPort: String(base + 3) }] };
    for (const o of containers()) {
      const name = o.name as string;
      const host = o.HostConfig!;
      expect(host.Memory).toBeGreaterThan(0);
      expect(host.NanoCpus).toBeGreaterThan(0);
      expect(host.ShmSize).toBe((name.endsWith("-datastore") ? 256 : 64) * 1024 * 1024);
      const [internal, external] = expectedPorts[name];
      // SSH is published by the entry node (the proxy) only, on 127.0.0.1 as every port.
      expect(host.PortBindings).toEqual({
        [`${internal}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(external) }],
        ...(name.endsWith("-proxy") ? ssh : {}),
      });
      expect(o.Healthcheck?.Test).toEqual(["CMD", "/usr/local/bin/drills-health"]);
      expect(o.Labels).toEqual(
        expect.objectContaining({ "drills.stack": "level-baseline", "drills.level": "baseline", "drills.managed": "true", "drills.deployer": "pulumi" }),
      );
      expect(host.NetworkMode).toBe("drills-level-baseline-net");
    }
  });

  it("mounts the uploads volume on the backend only, and lxcfs's views on every node where the host serves them", () => {
    const lxcfs = lxcfsAvailable();
    for (const o of containers()) {
      const binds = (o.HostConfig?.Mounts ?? []).filter((m) => m.Type === "bind").map((m) => m.Target);
      expect(binds).toEqual(lxcfs ? LXCFS_MOUNTS.map((m) => m.target) : []);
      expect(o.Env).toContain(`OMP_NUM_THREADS=1`);
    }
    const mounts = (name: string) => (containers().find((o) => o.name === name)?.HostConfig?.Mounts ?? []).filter((m) => m.Type === "volume");
    expect(mounts("drills-level-baseline-backend")).toEqual([{ Type: "volume", Source: "drills-level-baseline-uploads", Target: "/var/lib/drills/uploads" }]);
    expect(mounts("drills-level-baseline-proxy")).toEqual([]);
  });

  it("exports the app URL, each node's access command and the brief", async () => {
    expect(await value(level.appUrl)).toBe(`http://127.0.0.1:${derivePort("level-baseline")}/`);
    const nodes = await value(level.nodes);
    expect(Object.keys(nodes).sort()).toEqual(["backend", "datastore", "proxy"]);
    const port = derivePort("level-baseline") + 3;
    expect(nodes.proxy.access).toBe(
      `ssh -i .drills/keys/level-baseline/id_ed25519 -o UserKnownHostsFile=.drills/keys/level-baseline/known_hosts -o StrictHostKeyChecking=accept-new -p ${port} oncall@127.0.0.1`,
    );
    expect(await (level.sshPrivateKey as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
    expect(await value(level.brief)).toMatch(/^# Baseline/);
  });
});

describe("Level validation before any resource", () => {
  it("is a pure function tests call directly", () => {
    const options = parseOptions({ level: "baseline" }, ["baseline"]);
    expect(() => validateLevelArgs({ level: getLevel("baseline"), options })).not.toThrow();
    expect(() => validateLevelArgs({ level: getLevel("baseline"), options: { ...options, level: "other" } })).toThrow(/Options name level "other"/);
  });

  it("refuses the aws target without drills:allowedCidr, before any resource", () => {
    const before = created.length;
    expect(() => parseOptions({ level: "baseline", target: "aws", stack: "aws-try" }, ["baseline"])).toThrow(/Missing config key drills:allowedCidr/);
    expect(created.slice(before)).toEqual([]);
  });
});
