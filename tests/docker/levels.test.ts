import * as game from "../../runtime/game";
import { down, up } from "../../driver/deployer";
import { getLevel, levelIds, levels } from "../../levels";
import { levelPlan } from "../../compose/plan";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { leftovers } from "./helpers";

jest.setTimeout(30 * 60_000);

const report = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The product's promise, for real: every faulty level is broken the way its
 * brief says (symptom present, check fails), the reference solution fixes it
 * (check passes), and down leaves nothing behind.
 */
describe.each(levels().filter((l) => l.faults.length > 0 && !l.id.startsWith("zz-")).map((l) => l.id))("level %s on real Docker", (id) => {
  const stack = `test-${id}`;
  const level = getLevel(id);
  const plan = dockerPlan(levelPlan(level, parseOptions({ level: id, stack }, levelIds())));
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    await down(stack);
  });
  afterAll(async () => {
    await down(stack);
  });

  it("comes up healthy with the fault applied, printing nothing that names the fault", async () => {
    const printed: string[] = [];
    const r = await up(plan, { log: (l) => (printed.push(l), report(`[${id}] ${l}`)) });
    const words = level.faults.flatMap((f) => f.spoilers);
    const visible = printed.join("\n").split(id).join(" ").toLowerCase();
    expect(words.filter((w) => visible.includes(w.toLowerCase()))).toEqual([]);
    figures.readySeconds = Number(r.readySeconds.toFixed(1));
    figures.imageSeconds = Number(r.buildSeconds.toFixed(1));
  });

  it("shows the symptom, and the check fails with reasons", async () => {
    const probes = await game.probe(level, plan);
    for (const f of level.faults) {
      expect({ fault: f.id, present: probes[f.id].present, summary: probes[f.id].summary }).toEqual(
        expect.objectContaining({ fault: f.id, present: true }),
      );
      figures[`broken.${f.id}`] = probes[f.id].figures;
    }
    const verdict = await game.check(level, plan);
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons.length).toBeGreaterThanOrEqual(level.faults.length);
    figures.brokenReasons = verdict.reasons;
  });

  it("is fixed by the reference solution: the check passes", async () => {
    await game.solve(level, plan, (l) => report(`[${id}] solve ${l}`));
    const verdict = await game.check(level, plan);
    expect(verdict.reasons).toEqual([]);
    expect(verdict.ok).toBe(true);
    figures.fixed = verdict.figures;
    if (id === "missing-index") {
      const broken = (figures["broken.missing-index"] as { searchMs: number }).searchMs;
      const fixed = Math.max(1, verdict.figures.searchMs as number);
      figures.speedup = Number((broken / fixed).toFixed(1));
      report(`[missing-index] search through the proxy: broken ${broken} ms, fixed ${fixed} ms, ${figures.speedup}x`);
      expect(broken).toBeGreaterThanOrEqual(1000);
      expect(broken / fixed).toBeGreaterThanOrEqual(50);
    }
  });

  it("goes down leaving nothing behind", async () => {
    await down(stack);
    expect(await leftovers(stack)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    report(`[${id}] ${JSON.stringify(figures)}`);
  });
});
