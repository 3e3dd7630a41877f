import * as fs from "fs";
import * as path from "path";
import { up, down } from "../../driver/deployer";
import { levelPlan } from "../../compose/plan";
import { getLevel, levelIds, levels } from "../../levels";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { lifecycle } from "../../smoke/lifecycle";
import { pulumi, pulumiSetup } from "../../smoke/pulumi";
import { leftovers } from "./helpers";

jest.setTimeout(30 * 60_000);

const report = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The real Pulumi engine (built from Go modules by scripts/pulumi-toolchain.sh)
 * runs every level from its stack file with the README's commands: up, a
 * second up changes nothing and the symptom is there, the solution,
 * check OK, destroy, nothing left, stack rm. One level also has a node
 * replaced and its faults re-applied. What the CLI's deployer proves for each
 * level (check NO, shortcuts, story, healthy paths) is levels.test.ts's; the benchmark
 * compares the two deployers' times.
 */
describe.each(levels().filter((l) => !l.id.startsWith("zz-")).map((l) => l.id))("level %s through the real Pulumi engine", (id) => {
  it("lives its whole lifecycle; the second up is a no-op", async () => {
    const r = await lifecycle(id, "pulumi", { log: report, replace: id === "disk-full", shortcuts: false, brokenCheck: false });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    if (id === "disk-full") expect(r.steps.map((s) => s.step)).toContain("its faults are back");
    report(`[${id}] Pulumi: ready ${r.readySeconds?.toFixed(1)} s, up ${r.upSeconds?.toFixed(1)} s, lifecycle ${r.totalSeconds?.toFixed(1)} s; symptom ${r.symptom}; fixed ${r.fixed ?? "-"}`);
  });
});

describe("Pulumi and the CLI never manage the same stack", () => {
  it("drills down refuses a Pulumi-managed stack, and Pulumi refuses one drills up started", async () => {
    const setup = pulumiSetup();
    const stack = "level-baseline";
    // stack select --create adds an encryptionsalt to the stack file; keep the committed one.
    const file = path.join(__dirname, "..", "..", "stacks", `Pulumi.${stack}.yaml`);
    const committed = fs.readFileSync(file, "utf8");
    try {
      // Leftovers of an earlier, interrupted run: Pulumi's first, then the CLI's.
      await pulumi(setup, ["stack", "select", "--create", stack]);
      await pulumi(setup, ["destroy", "--yes", "--stack", stack]);
      await down(stack);
      const plan = dockerPlan(levelPlan(getLevel("baseline"), parseOptions({ level: "baseline", stack }, levelIds())));
      // The CLI's level first: Pulumi refuses it with a clear message and creates nothing.
      await up(plan);
      await pulumi(setup, ["stack", "select", "--create", stack]);
      const refused = await pulumi(setup, ["up", "--yes", "--skip-preview", "--stack", stack]);
      expect(refused.code).not.toBe(0);
      expect(`${refused.stdout}${refused.stderr}`).toMatch(/was started by `drills up`/);
      await down(stack);
      // Then Pulumi's: the CLI's down refuses it and leaves it whole.
      const ok = await pulumi(setup, ["up", "--yes", "--skip-preview", "--stack", stack]);
      expect(ok.code).toBe(0);
      await expect(down(stack)).rejects.toThrow(/managed by Pulumi.*pulumi destroy --stack level-baseline/);
      expect(await leftovers(stack)).toEqual({ containers: 3, networks: 1, volumes: 1 });
      expect((await pulumi(setup, ["destroy", "--yes", "--stack", stack])).code).toBe(0);
      expect((await pulumi(setup, ["stack", "rm", "--yes", "--preserve-config", "--stack", stack])).code).toBe(0);
      expect(await leftovers(stack)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    } finally {
      fs.writeFileSync(file, committed);
    }
  });
});
