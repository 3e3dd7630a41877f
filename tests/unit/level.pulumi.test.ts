import { Created, recordResources, value } from "./mocks";

const created: Created[] = recordResources("level-baseline");

// Imported after setMocks so resources register against the mocks.
import { Level, validateLevelArgs } from "../../components/level";
import { getLevel } from "../../levels";
import { derivePort } from "../../plan/app";
import { parseOptions } from "../../plan/options";


describe("Level on the docker target (mocks)", () => {
  let level: Level;
  beforeAll(async () => {
    const options = parseOptions({ level: "baseline", stack: "level-baseline" }, ["baseline"]);
    level = new Level("level-baseline", { level: getLevel("baseline"), options });
    await value(level.brief);
  });

  const of = (type: string) => created.filter((c) => c.type === type);

  it("renders exactly one network, three images, one volume, three containers and no commands", () => {
    expect(of("drills:levels:Level")).toHaveLength(1);
    expect(of("drills:docker:DockerTarget")).toHaveLength(1);
    expect(of("docker:index/network:Network").map((c) => c.inputs.name)).toEqual(["drills-level-baseline-net"]);
    expect(of("docker:index/image:Image")).toHaveLength(3);
    expect(of("docker:index/volume:Volume").map((c) => c.inputs.name)).toEqual(["drills-level-baseline-uploads"]);
    expect(of("docker:index/container:Container").map((c) => c.inputs.name)).toEqual([
      "drills-level-baseline-datastore",
      "drills-level-baseline-backend",
      "drills-level-baseline-proxy",
    ]);
    expect(of("command:local:Command")).toHaveLength(0);
  });

  it("builds images locally from the staged role contexts with the one Dockerfile, never pushing", () => {
    for (const img of of("docker:index/image:Image")) {
      expect(img.inputs.skipPush).toBe(true);
      expect(img.inputs.imageName).toMatch(/^drills\/(proxy|backend|datastore):[0-9a-f]{16}$/);
      const build = img.inputs.build as { context: string; dockerfile: string; args: Record<string, string> };
      expect(build.context).toMatch(/\.drills\/contexts\/(proxy|backend|datastore)-[0-9a-f]{16}$/);
      expect(build.dockerfile).toBe(`${build.context}/roles/Dockerfile`);
      expect(build.args.ROLE).toMatch(/^(proxy|backend|datastore)$/);
      expect(build.args.BASE_IMAGE).toBe("debian:bookworm-slim");
    }
  });

  it("gives every container limits, loopback-only ports, a healthcheck, wait and labels", () => {
    const base = derivePort("level-baseline");
    const expectedPorts: Record<string, number[]> = {
      "drills-level-baseline-datastore": [5432, base + 2],
      "drills-level-baseline-backend": [3000, base + 1],
      "drills-level-baseline-proxy": [80, base],
    };
    for (const c of of("docker:index/container:Container")) {
      const i = c.inputs as {
        name: string;
        memory: number;
        cpus: string;
        shmSize: number;
        wait: boolean;
        ports: Array<{ internal: number; external: number; ip: string }>;
        healthcheck: { tests: string[] };
        labels: Array<{ label: string; value: string }>;
        networksAdvanced: Array<{ name: string }>;
      };
      expect(i.memory).toBeGreaterThan(0);
      expect(Number(i.cpus)).toBeGreaterThan(0);
      expect(i.shmSize).toBe(i.name.endsWith("-datastore") ? 256 : 64);
      expect(i.wait).toBe(true);
      expect(i.ports).toEqual([{ internal: expectedPorts[i.name][0], external: expectedPorts[i.name][1], ip: "127.0.0.1" }]);
      expect(i.healthcheck.tests).toEqual(["CMD", "/usr/local/bin/drills-health"]);
      expect(i.labels).toEqual(
        expect.arrayContaining([
          { label: "drills.stack", value: "level-baseline" },
          { label: "drills.level", value: "baseline" },
          { label: "drills.managed", value: "true" },
        ]),
      );
      expect(i.networksAdvanced[0].name).toBe("drills-level-baseline-net");
    }
  });

  it("mounts the uploads volume on the backend only", () => {
    const mounts = (name: string) =>
      (of("docker:index/container:Container").find((c) => c.inputs.name === name)?.inputs.mounts ?? []) as unknown[];
    expect(mounts("drills-level-baseline-backend")).toEqual([
      { type: "volume", source: "drills-level-baseline-uploads", target: "/var/lib/drills/uploads" },
    ]);
    expect(mounts("drills-level-baseline-proxy")).toEqual([]);
  });

  it("exports the app URL, each node's access command and the brief", async () => {
    expect(await value(level.appUrl)).toBe(`http://127.0.0.1:${derivePort("level-baseline")}/`);
    const nodes = await value(level.nodes);
    expect(Object.keys(nodes).sort()).toEqual(["backend", "datastore", "proxy"]);
    expect(nodes.proxy.access).toBe("docker exec -it drills-level-baseline-proxy bash");
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
