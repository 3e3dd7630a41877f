import { getLevel } from "../../levels";
import { renderBrief } from "../../plan/brief";
import { buildPlan, derivePort, LABEL_STACK } from "../../plan/build";
import { DrillsError } from "../../plan/errors";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";

const planOf = (raw: Record<string, string>) => {
  const o = parseOptions({ level: "baseline", ...raw }, ["baseline"]);
  return dockerPlan(buildPlan(getLevel(o.level), o));
};

describe("baseline plan", () => {
  const plan = planOf({});

  it("has exactly the three nodes, in start order", () => {
    expect(plan.nodes.map((n) => n.role)).toEqual(["datastore", "backend", "proxy"]);
    expect(plan.nodes.map((n) => n.name)).toEqual([
      "drills-level-baseline-datastore",
      "drills-level-baseline-backend",
      "drills-level-baseline-proxy",
    ]);
    expect(plan.actions).toEqual([]);
  });

  it("limits every node's memory (at most 512 MiB) and CPU (at most one core)", () => {
    for (const n of plan.nodes) {
      expect(n.memoryMiB).toBeGreaterThan(0);
      expect(n.memoryMiB).toBeLessThanOrEqual(512);
      expect(n.cpus).toBeGreaterThan(0);
      expect(n.cpus).toBeLessThanOrEqual(1);
    }
  });

  it("publishes consecutive ports from the stack's base and gives the app URL", () => {
    const base = derivePort("level-baseline");
    expect(plan.nodes.flatMap((n) => n.ports.map((p) => p.host))).toEqual([base + 2, base + 1, base]);
    expect(plan.appUrl).toBe(`http://127.0.0.1:${base}/`);
  });

  it("gives each node a healthcheck and the backend its datastore", () => {
    for (const n of plan.nodes) expect(n.healthcheck.command).toEqual(["CMD", "/usr/local/bin/drills-health"]);
    const backend = plan.nodes[1];
    expect(backend.env).toMatchObject({ DB_ENGINE: "postgres", DB_HOST: "datastore", DB_PORT: "5432" });
    expect(backend.dependsOn).toEqual(["datastore"]);
    expect(plan.nodes[2].env.BACKEND_HOST).toBe("backend");
  });

  it("labels resources with the level and stack", () => {
    expect(plan.labels).toEqual({ "drills.managed": "true", "drills.level": "baseline", [LABEL_STACK]: "level-baseline" });
  });

  it("tags role images by content; the seed size changes only the datastore tag", () => {
    const bigger = planOf({ seedInvoices: "12345" });
    for (const i of [0, 1, 2]) expect(plan.nodes[i].image.tag).toMatch(/^drills\/(datastore|backend|proxy):[0-9a-f]{16}$/);
    expect(bigger.nodes[0].image.tag).not.toBe(plan.nodes[0].image.tag);
    expect(bigger.nodes[0].image.buildArgs.SEED_INVOICES).toBe("12345");
    expect(bigger.nodes[1].image.tag).toBe(plan.nodes[1].image.tag);
    expect(bigger.nodes[2].image.tag).toBe(plan.nodes[2].image.tag);
    expect(plan.nodes[1].image.inputs).toContain("app/backend/vendor.js");
    expect(plan.nodes[0].image.inputs).toContain("roles/datastore/provision.sh");
  });
});

describe("two stacks side by side", () => {
  it("derive different names, labels and ports", () => {
    const a = planOf({ stack: "class-a" });
    const b = planOf({ stack: "class-b" });
    expect(a.networkName).not.toBe(b.networkName);
    expect(a.nodes[2].name).toBe("drills-class-a-proxy");
    expect(a.labels[LABEL_STACK]).toBe("class-a");
    expect(a.nodes[2].ports[0].host).not.toBe(b.nodes[2].ports[0].host);
    expect(planOf({ stack: "class-a", basePort: "30000" }).appUrl).toBe("http://127.0.0.1:30000/");
  });
});

describe("level registry", () => {
  it("rejects an unknown level with the valid ids", () => {
    expect(() => getLevel("nope")).toThrow(DrillsError);
    expect(() => getLevel("nope")).toThrow(/Valid levels: baseline/);
  });
});

describe("brief", () => {
  it("says how to boot, reach the app and every node", () => {
    const plan = planOf({});
    const md = renderBrief(getLevel("baseline"), plan);
    expect(md).toContain("npx drills up baseline");
    expect(md).toContain("pulumi up --stack level-baseline");
    expect(md).toContain(plan.appUrl);
    for (const n of plan.nodes) expect(md).toContain(`docker exec -it ${n.name} bash`);
  });
});
