import * as fs from "fs";
import * as path from "path";
import { stageImage } from "../../images/context";
import { getLevel } from "../../levels";
import { LevelPlan } from "../../plan/types";

const ROOT = path.join(__dirname, "..", "..");
import { renderBrief } from "../../compose/brief";
import { levelPlan } from "../../compose/plan";
import { derivePort, OWN_BIG_DATA_FILES } from "../../plan/app";
import { LABEL_STACK } from "../../plan/names";
import { DrillsError } from "../../plan/errors";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";

const planOf = (raw: Record<string, string>) => {
  const o = parseOptions({ level: "baseline", ...raw }, ["baseline"]);
  return dockerPlan(levelPlan(getLevel(o.level), o));
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
    expect(plan.nodes.flatMap((n) => n.ports.map((p) => p.host))).toEqual([base + 2, base + 1, base, base + 3]);
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

  it("tags role images by content where they are built; the seed size changes only the datastore tag", () => {
    const tags = (p: LevelPlan) => p.nodes.map((n) => stageImage(n.image).tag);
    const bigger = planOf({ seedInvoices: "12345" });
    const [a, b] = [tags(plan), tags(bigger)];
    for (const t of a) expect(t).toMatch(/^drills\/(datastore|backend|proxy):[0-9a-f]{16}$/);
    expect(b[0]).not.toBe(a[0]);
    expect(bigger.nodes[0].image.buildArgs.SEED_INVOICES).toBe("12345");
    expect(b[1]).toBe(a[1]);
    expect(b[2]).toBe(a[2]);
    const backend = stageImage(plan.nodes[1].image);
    expect(backend.files).toContain("app/backend/vendor.js");
    expect(backend.files).toContain("roles/Dockerfile");
    expect(stageImage(plan.nodes[0].image).files).toContain("roles/datastore/provision.sh");
    // The staged context holds exactly the listed files, byte for byte.
    for (const f of backend.files) expect(fs.readFileSync(path.join(backend.dir, f)).equals(fs.readFileSync(path.join(ROOT, f)))).toBe(true);
    expect(backend.files.some((f) => f.startsWith("roles/proxy/") || f.startsWith("app/frontend/"))).toBe(false);
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
    const md = renderBrief(getLevel("baseline"), plan, "cli");
    expect(md).toContain("npx drills up baseline");
    expect(md).toContain("npx drills down baseline");
    expect(md).not.toContain("pulumi");
    const viaPulumi = renderBrief(getLevel("baseline"), plan, "pulumi");
    expect(viaPulumi).toContain("pulumi up --stack level-baseline");
    expect(viaPulumi).toContain("pulumi destroy --stack level-baseline");
    expect(viaPulumi).not.toContain("drills down");
    expect(md).toContain(plan.appUrl);
    for (const n of plan.nodes) expect(md).toContain(n.accessCommand);
    const dir = `.drills/keys/${plan.stack}`;
    expect(md).toContain(`ssh -i ${dir}/id_ed25519 -o UserKnownHostsFile=${dir}/known_hosts -o StrictHostKeyChecking=accept-new -p ${derivePort(plan.stack) + 3} oncall@127.0.0.1`);
  });
});

describe("a big seed's datastore", () => {
  const planFor = (level: string) => dockerPlan(levelPlan(getLevel(level), parseOptions({ level }, [level])));

  it("gets 1 GiB and, on PostgreSQL, its big files copied into its own layer before the fault's actions", () => {
    const plan = planFor("missing-index");
    expect(plan.nodes.find((n) => n.role === "datastore")!.memoryMiB).toBe(1024);
    expect(plan.actions[0]).toMatchObject({ id: "datastore-own-files", node: "datastore", script: OWN_BIG_DATA_FILES });
    expect(plan.actions.slice(1).every((a) => a.id.startsWith("missing-index-"))).toBe(true);
  });

  it("on MariaDB gets the memory only (it opens its files at start), and a small seed neither", () => {
    const mariadb = planFor("number-as-string");
    expect(mariadb.nodes.find((n) => n.role === "datastore")!.memoryMiB).toBe(1024);
    expect(mariadb.actions.map((a) => a.id)).not.toContain("datastore-own-files");
    const small = planFor("disk-full");
    expect(small.nodes.find((n) => n.role === "datastore")!.memoryMiB).toBe(512);
    expect(small.actions.map((a) => a.id)).not.toContain("datastore-own-files");
  });
});
