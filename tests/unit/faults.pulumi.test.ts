import * as pulumi from "@pulumi/pulumi";
import { Created, recordResources, T, value } from "./mocks";

const created: Created[] = recordResources("unit");
/** Resource options as the component passed them (dependsOn), by resource name. */
const optsByName = new Map<string, pulumi.ResourceOptions>();

import { Level } from "../../components/level";
import { badCors, STALE_ORIGIN } from "../../faults/badCors";
import { diskFull } from "../../faults/diskFull";
import { lockedMigration } from "../../faults/lockedMigration";
import { missingIndex } from "../../faults/missingIndex";
import { Fault } from "../../faults/types";
import { getLevel, levels } from "../../levels";
import { LevelDefinition } from "../../levels/types";
import { levelPlan } from "../../compose/plan";
import { derivePort } from "../../plan/app";
import { DrillsError } from "../../plan/errors";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { setEnv } from "../../plan/patch";


async function render(level: LevelDefinition, stack: string): Promise<Created[]> {
  const start = created.length;
  const options = parseOptions({ level: level.id, stack }, levels().map((l) => l.id));
  const l = new Level(stack, { level, options }, {
    transformations: [
      (a) => {
        optsByName.set(a.name, a.opts);
        return undefined;
      },
    ],
  });
  await value(l.brief);
  return created.slice(start);
}

type Options = import("dockerode").ContainerCreateOptions;
const ofType = (list: Created[], type: string) => list.filter((c) => c.type === type);
const container = (list: Created[], role: string): Options =>
  ofType(list, T.container).map((c) => c.inputs.options as Options).find((o) => String(o.name).endsWith(`-${role}`))!;

describe("every level renders on the docker target", () => {
  it.each(levels().map((l) => [l.id]))("%s: three containers, fault actions in their node after every node, re-run when it is replaced", async (id) => {
    const level = getLevel(id);
    const stack = `u-${id}`;
    const res = await render(level, stack);
    expect(ofType(res, T.container)).toHaveLength(3);
    const plan = dockerPlan(levelPlan(level, parseOptions({ level: id, stack }, levels().map((l) => l.id))));
    const cmds = ofType(res, T.action);
    // Names say nothing about the fault (they are visible to whoever reads the state).
    expect(cmds.map((c) => c.name)).toEqual(plan.actions.map((_a, i) => `${stack}-action-${i}`));
    cmds.forEach((c, i) => {
      const action = plan.actions[i];
      const node = plan.nodes.find((n) => n.role === action.node)!;
      expect(c.inputs.container).toBe(node.name);
      expect(c.inputs.script).toBe(action.script);
      // The trigger: the id of the container it acts on.
      expect(c.inputs.containerId).toBe(`${stack}-${node.role}-id`);
      // Ordered: the first waits for every container, each later one for the one before.
      const deps = (optsByName.get(c.name)?.dependsOn ?? []) as pulumi.Resource[];
      expect(deps).toHaveLength(i === 0 ? 3 : 1);
    });
  });
});

describe("fault patches and actions", () => {
  it("missing-index drops the index on the datastore and bakes 3 M invoices", async () => {
    const res = await render(getLevel("missing-index"), "u2-missing-index");
    const ds = ofType(res, T.image).find((i) => String(i.inputs.tag).startsWith("drills/datastore"))!;
    expect((ds.inputs.staged as { buildArgs: Record<string, string> }).buildArgs.SEED_INVOICES).toBe("3000000");
    // First the big files get their own copy in the node's layer, then the index goes.
    const [own, drop] = ofType(res, T.action);
    expect(own.inputs.container).toBe("drills-u2-missing-index-datastore");
    expect(own.inputs.script).toMatch(/^find \/var\/lib\/postgresql .* -size \+64M /);
    expect(drop.inputs.container).toBe("drills-u2-missing-index-datastore");
    expect(drop.inputs.script).toContain("DROP INDEX IF EXISTS idx_invoices_customer;");
  });

  it("bad-cors moves the API to its own origin and allows the wrong one", async () => {
    const res = await render(getLevel("bad-cors"), "u2-bad-cors");
    const base = derivePort("u2-bad-cors");
    expect(container(res, "proxy").Env).toContain(`API_BASE=http://127.0.0.1:${base + 1}`);
    expect(container(res, "backend").Env).toContain(`CORS_ORIGIN=${STALE_ORIGIN}`);
    const plan = dockerPlan(levelPlan(getLevel("bad-cors"), parseOptions({ level: "bad-cors", stack: "u2-bad-cors" }, ["bad-cors"])));
    expect(plan.apiUrl).toBe(`http://127.0.0.1:${base + 1}/`);
  });

  it("disk-full caps the backend's uploads volume as a 64 MiB ext4 filesystem and fills only it", async () => {
    const res = await render(getLevel("disk-full"), "u2-disk-full");
    const vol = ofType(res, T.volume)[0].inputs;
    expect(vol.volume).toEqual({ name: "drills-u2-disk-full-uploads", target: "/var/lib/drills/uploads", sizeMiB: 64, filesystem: "ext4" });
    const cmd = ofType(res, T.action)[0];
    expect(cmd.inputs.container).toBe("drills-u2-disk-full-backend");
    // The fill is last night's run of the scheduled job, writing into the volume.
    expect(String(cmd.inputs.script)).toContain("0 2 * * * app /usr/local/bin/nightly-export");
    expect(String(cmd.inputs.script)).toContain("OUT_DIR=/var/lib/drills/uploads/.exports");
  });

  it("the composed level carries both faults' patches and actions", async () => {
    const res = await render(getLevel("cors-and-full-disk"), "u2-combo");
    expect(container(res, "backend").Env).toEqual(expect.arrayContaining([`CORS_ORIGIN=${STALE_ORIGIN}`]));
    expect(ofType(res, T.volume)[0].inputs.volume).toEqual(expect.objectContaining({ sizeMiB: 64, filesystem: "ext4" }));
  });
});

describe("composition", () => {
  const opts = (id: string) => parseOptions({ level: id, stack: `c-${id}` }, [id]);
  const levelWith = (faults: Fault[]): LevelDefinition => ({ ...getLevel("baseline"), id: "composed", faults });

  it("fails before any resource when two faults set one setting differently", async () => {
    const openCors: Fault = { ...badCors(), id: "open-cors", patch: (p) => setEnv(p, "backend", { CORS_ORIGIN: "*" }) };
    const level = levelWith([badCors(), openCors]);
    expect(() => levelPlan(level, opts("composed"))).toThrow(DrillsError);
    expect(() => levelPlan(level, opts("composed"))).toThrow(
      /Faults "bad-cors" and "open-cors" in level composed both change nodes\.backend\.env\.CORS_ORIGIN \(to "https:\/\/app\.staging\.drills\.internal" and to "\*"\)/,
    );
    const before = created.length;
    expect(() => new Level("c-conflict", { level, options: opts("composed") })).toThrow(/both change/);
    expect(created.slice(before)).toEqual([]);
  });

  it("allows faults that agree, and rejects a fault listed twice", () => {
    expect(() => levelPlan(levelWith([badCors(), diskFull()]), opts("composed"))).not.toThrow();
    expect(() => levelPlan(levelWith([diskFull(), diskFull()]), opts("composed"))).toThrow(/Fault "disk-full" is listed twice/);
  });
});

describe("fault parameters", () => {
  it.each([
    [() => diskFull({ sizeMiB: 4 }), /Fault disk-full: parameter sizeMiB is 4; it must be a whole number from 16 to 1024 \(default 64\)/],
    [() => diskFull({ sizeMiB: 64, minFreeMiB: 64 }), /parameter minFreeMiB is 64/],
    [() => missingIndex({ index: "drop table x;" }), /Fault missing-index: parameter index is "drop table x;"; it must be an SQL identifier/],
    [() => missingIndex({ slowMs: 1.5 }), /parameter slowMs is 1.5/],
    [() => lockedMigration({ table: "accounts" }), /parameter table is "accounts"; it must be users or invoices/],
  ])("rejects bad params %#", (make, message) => {
    expect(make).toThrow(DrillsError);
    expect(make).toThrow(message);
  });

  it("bad-cors validates an origin it is given", () => {
    expect(() => badCors({ allowedOrigin: "not a url" })).toThrow(/parameter allowedOrigin is "not a url"; it must be an origin like http:\/\/host:port/);
    expect(() => badCors({ allowedOrigin: "https://app.example.com" })).not.toThrow();
  });

  it("locked-migration refuses the mysql engine at preview", () => {
    const level: LevelDefinition = { ...getLevel("locked-migration"), engine: "mysql" };
    expect(() => levelPlan(level, parseOptions({ level: "locked-migration" }, ["locked-migration"]))).toThrow(
      /Fault locked-migration needs the postgres engine/,
    );
  });
});
