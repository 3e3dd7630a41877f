import * as fs from "fs";
import * as path from "path";
import { planFor } from "../cli/plan";
import { down, stackResources, up } from "../driver/deployer";
import { connect } from "../driver/engine";
import { repoRoot } from "../images/repo";
import { LevelDefinition } from "../levels/types";
import { defaultStack } from "../plan/names";
import { LevelPlan } from "../plan/types";
import * as game from "../runtime/game";
import { collectLogs, logsDir } from "./logs";
import { pulumiOk, pulumiSetup, PulumiSetup } from "./pulumi";

/**
 * A level's whole life, for real, through either deployer: up, the symptom
 * is there, the check says NO, the reference solution, the check says OK,
 * down, nothing left. Through Pulumi also: a second up changes nothing and
 * the fault stays; replacing a node re-applies its faults.
 */
export type Driver = "pulumi" | "docker";

export interface Step {
  step: string;
  seconds: number;
  detail: string;
}

export interface LifecycleResult {
  level: string;
  driver: Driver;
  stack: string;
  ok: boolean;
  /** Wall time of the up command (the CLI's `up()` with its image checks, or `pulumi up` with the program's start). */
  upSeconds?: number;
  /** Seconds from the first container created to every node healthy and every fault applied. */
  readySeconds?: number;
  /** What the probes measured while broken, and the check's figures once fixed. */
  symptom?: string;
  fixed?: string;
  /** The same as numbers, per fault (broken) and of the level's check (fixed). */
  symptomFigures?: Record<string, number | string>[];
  fixedFigures?: Record<string, number | string>;
  steps: Step[];
  /** Whole lifecycle, seconds. */
  totalSeconds?: number;
  error?: string;
  /** On failure: the folder with the nodes' logs (smoke/logs.ts). */
  logs?: string;
}

export interface LifecycleOptions {
  log?: (line: string) => void;
  /** Pulumi only: also replace the first faulty node and require its faults back. */
  replace?: boolean;
  /**
   * Stack name. Default: the CLI's `smoke-<level>`; Pulumi's `level-<level>`
   * with its committed stack file. Another Pulumi stack name runs on a copy of
   * that file (removed afterwards), so the benchmark does not collide with a
   * level someone has up under its default stack.
   */
  stack?: string;
  /** Apply each known shortcut and require NO (default true; the Pulumi test suite leaves it to the CLI's). */
  shortcuts?: boolean;
  /** Require the check to say NO while broken (default true; the Pulumi test suite leaves it to the CLI's, which proves it per level). */
  brokenCheck?: boolean;
  /** Called once the level is up and before it is torn down (the benchmark reads memory then). */
  atRest?: (plan: LevelPlan) => Promise<void>;
}

const figures = (f: Record<string, number | string>) =>
  Object.entries(f)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

interface Measured {
  text: string;
  figures: Record<string, number | string>[];
}

/** Every fault's symptom must be present; returns a one-line summary and the probes' figures. */
async function requireSymptom(level: LevelDefinition, plan: LevelPlan): Promise<Measured> {
  if (level.faults.length === 0) {
    const v = await game.check(level, plan);
    if (!v.ok) throw new Error(`the healthy level does not check OK: ${v.reasons.join("; ")}`);
    return { text: "none (healthy)", figures: [] };
  }
  const probes = await game.probe(level, plan);
  const missing = level.faults.filter((f) => !probes[f.id].present);
  if (missing.length > 0) throw new Error(`symptom missing: ${missing.map((f) => `${f.id}: ${probes[f.id].summary}`).join("; ")}`);
  const all = level.faults.map((f) => probes[f.id].figures);
  return { text: all.map(figures).join("; "), figures: all };
}

async function requireCheck(level: LevelDefinition, plan: LevelPlan, ok: boolean): Promise<Measured> {
  const v = await game.check(level, plan);
  if (v.ok !== ok) throw new Error(ok ? `the check says NO: ${v.reasons.join("; ")}` : "the check says OK on a broken level");
  return { text: ok ? figures(v.figures) : `${v.reasons.length} reason(s)`, figures: [v.figures] };
}

/** Seconds from the stack's first container created until `end` (Pulumi's up prints no such figure). */
async function secondsSinceFirstContainer(stack: string, end: number): Promise<number | undefined> {
  const docker = await connect();
  const r = await stackResources(docker, stack);
  const created = await Promise.all(r.containers.map(async (c) => Date.parse((await docker.getContainer(c.Id).inspect()).Created)));
  return created.length ? (end - Math.min(...created)) / 1000 : undefined;
}

async function leftovers(stack: string): Promise<number> {
  const r = await stackResources(await connect(), stack);
  return r.containers.length + r.networks.length + r.volumes.length;
}

/** The container URN of a node, from the stack's state. */
async function containerUrn(setup: PulumiSetup, stack: string, role: string): Promise<string> {
  const exported = JSON.parse((await pulumiOk(setup, ["stack", "export", "--stack", stack])).stdout) as {
    deployment: { resources?: Array<{ urn: string; type: string }> };
  };
  const urn = (exported.deployment.resources ?? []).map((r) => r.urn).find((u) => u.endsWith(`drills-container:Resource::${stack}-${role}`));
  if (!urn) throw new Error(`no container of ${role} in stack ${stack}`);
  return urn;
}

export async function lifecycle(levelId: string, driver: Driver, opts: LifecycleOptions = {}): Promise<LifecycleResult> {
  const log = opts.log ?? (() => undefined);
  const stack = opts.stack ?? (driver === "pulumi" ? defaultStack(levelId) : `smoke-${levelId}`);
  const { level, plan } = planFor(levelId, { stack });
  const result: LifecycleResult = { level: levelId, driver, stack, ok: false, steps: [] };
  const begun = Date.now();
  const step = async <T>(name: string, f: () => Promise<T>, detail: (t: T) => string = () => ""): Promise<T> => {
    const t = Date.now();
    const v = await f();
    const s: Step = { step: name, seconds: (Date.now() - t) / 1000, detail: detail(v) };
    result.steps.push(s);
    log(`[${driver} ${levelId}] ${name} ${s.seconds.toFixed(1)} s ${s.detail}`);
    return v;
  };
  const setup = driver === "pulumi" ? pulumiSetup() : undefined;
  const p = (args: string[]) => pulumiOk(setup as PulumiSetup, [...args, "--stack", stack]);
  // `stack select --create` writes an encryptionsalt into the stack file: put it back as committed.
  const stackFile = path.join(repoRoot(), "stacks", `Pulumi.${stack}.yaml`);
  const levelStackFile = path.join(repoRoot(), "stacks", `Pulumi.${defaultStack(levelId)}.yaml`);
  const temporary = driver === "pulumi" && stackFile !== levelStackFile;
  if (temporary) fs.writeFileSync(stackFile, fs.readFileSync(levelStackFile, "utf8"));
  const committed = driver === "pulumi" && !temporary && fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : undefined;
  try {
    if (driver === "pulumi") {
      // The README's commands: config comes from stacks/Pulumi.level-<id>.yaml.
      await step("stack select --create", () => pulumiOk(setup as PulumiSetup, ["stack", "select", "--create", stack]));
      await step("destroy leftovers of an earlier run", () => p(["destroy", "--yes"]));
      result.upSeconds = (await step("up", () => p(["up", "--yes", "--skip-preview"]))).seconds;
      result.readySeconds = await secondsSinceFirstContainer(stack, Date.now());
    } else {
      await down(stack);
      const t = Date.now();
      result.readySeconds = (await step("up", () => up(plan))).readySeconds;
      result.upSeconds = (Date.now() - t) / 1000;
    }
    if (opts.atRest) await opts.atRest(plan);
    // Through Pulumi the symptom is probed once, after the second up (below): present then, it was present after the first.
    if (driver === "docker") {
      const broken = await step("symptom present", () => requireSymptom(level, plan), (s) => s.text);
      result.symptom = broken.text;
      result.symptomFigures = broken.figures;
    }
    if (level.faults.length > 0 && opts.brokenCheck !== false) await step("check says NO", () => requireCheck(level, plan, false), (s) => s.text);
    if (opts.shortcuts !== false && level.faults.length > 0) {
      await step("shortcuts refused", async () => {
        const verdicts = await game.tryShortcuts(level, plan);
        const fooled = verdicts.filter((v) => v.ok || v.reasons.length === 0);
        if (fooled.length) throw new Error(`the check says OK after a shortcut: ${fooled.map((v) => v.description).join("; ")}`);
        return verdicts.length;
      }, (n) => `${n} shortcut(s)`);
    }
    if (driver === "pulumi") {
      // An up with --expect-no-changes previews first and fails on any change: no separate preview needed.
      await step("second up changes nothing", () => p(["up", "--yes", "--expect-no-changes"]));
      const broken = await step("symptom present, fault still there", () => requireSymptom(level, plan), (s) => s.text);
      result.symptom = broken.text;
      result.symptomFigures = broken.figures;
      const first = plan.actions[0];
      if (opts.replace && first) {
        const urn = await containerUrn(setup as PulumiSetup, stack, first.node);
        await step(`replace the ${first.node} node`, () => p(["up", "--yes", "--skip-preview", "--replace", urn]));
        await step("its faults are back", () => requireSymptom(level, plan), (s) => s.text);
      }
    }
    if (level.faults.length > 0) {
      await step("reference solution", () => game.solve(level, plan));
      const fixed = await step("check says OK", () => requireCheck(level, plan, true), (s) => s.text);
      result.fixed = fixed.text;
      result.fixedFigures = fixed.figures[0];
    }
    if (driver === "pulumi") {
      await step("destroy", () => p(["destroy", "--yes"]));
    } else {
      await step("down", () => down(stack));
    }
    const left = await step("nothing left", () => leftovers(stack), (n) => `${n} resources`);
    if (left > 0) throw new Error(`${left} containers, networks or volumes of ${stack} are left on the engine`);
    if (driver === "pulumi") {
      // --preserve-config: stack rm would otherwise delete stacks/Pulumi.level-<id>.yaml.
      await step("stack rm", () => p(["stack", "rm", "--yes", "--preserve-config"]));
    }
    result.ok = true;
  } catch (e) {
    result.error = (e as Error).message;
    log(`[${driver} ${levelId}] FAILED: ${result.error}`);
    // What the nodes said, before they are gone (the nightly workflow uploads it).
    const written = await connect()
      .then((docker) => collectLogs(docker, stack, levelId))
      .catch((err: Error) => {
        log(`[${driver} ${levelId}] could not collect logs: ${err.message}`);
        return [];
      });
    if (written.length > 0) {
      result.logs = logsDir(levelId);
      log(`[${driver} ${levelId}] nodes' logs in ${result.logs} (${written.length} files)`);
    }
    // Leave nothing behind, whatever failed.
    if (driver === "pulumi") await pulumiOk(setup as PulumiSetup, ["destroy", "--yes", "--stack", stack]).catch(() => undefined);
    else await down(stack).catch(() => undefined);
  } finally {
    if (committed !== undefined) fs.writeFileSync(stackFile, committed);
    if (temporary) fs.rmSync(stackFile, { force: true });
    result.totalSeconds = (Date.now() - begun) / 1000;
  }
  return result;
}

const secs = (s: number | undefined) => (s === undefined ? "-" : `${s.toFixed(1)} s`);

/** The results as a markdown table (level, driver, up, ready, symptom, fixed, whole lifecycle, result). */
export function table(results: LifecycleResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.level} | ${r.driver} | ${secs(r.upSeconds)} | ${secs(r.readySeconds)} | ${r.symptom ?? "-"} | ${r.fixed ?? "-"} | ${secs(r.totalSeconds)} | ` +
      `${r.ok ? "ok" : `FAILED: ${(r.error ?? "").split("\n")[0]}${r.logs ? ` (logs: ${path.relative(repoRoot(), r.logs)})` : ""}`} |`,
  );
  return [
    "| level | driver | up | ready | symptom (broken) | fixed | lifecycle | result |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
