import { Command, CommanderError } from "commander";
import { nodeAccess } from "../compose/access";
import { renderBrief } from "../compose/brief";
import { renderNotes } from "../compose/notes";
import { getLevel, levels } from "../levels";
import { CONFIG, flagOf } from "../plan/config";
import { DrillsError, isDrillsError } from "../plan/errors";
import { isGameId, stackFlag } from "../plan/names";
import { LevelPlan } from "../plan/types";
import { checkGame, downGame, gameCommands, hintGame } from "./game";
import { LevelFlags, planFor } from "./plan";
import { statusLines } from "./status";

// The deploying and checking modules (dockerode, pg, playwright) load only in
// the commands that use them, so `list`, `brief` and `hint` start fast.
const deployer = () => import("../driver/deployer");
const runtime = () => import("../runtime/game");

/** How a command names itself to another that finds the stack busy: "drills up baseline --stack x". */
function commandLine(cmd: string, id: string, plan: LevelPlan): string {
  return `drills ${cmd} ${id}${stackFlag(plan)}`;
}

/** Run fn holding the stack's lock: one `up`, `down`, `check` or `solve` per stack at a time on this host. */
async function withStackLock<T>(cmd: string, id: string, plan: LevelPlan, fn: () => Promise<T>): Promise<T> {
  const { acquireStackLock } = await import("../driver/lock");
  const lock = await acquireStackLock(plan.stack, commandLine(cmd, id, plan), { log: (l) => info(`  ${l}`) });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/**
 * The plan `up` deploys: an explicit --base-port as given (refused when taken),
 * else the derived block, or the next free one when it is taken; the stack's
 * own recorded block while it exists. Resolved here so plan/ stays pure.
 */
async function placedPlan(id: string, o: LevelFlags): Promise<ReturnType<typeof planFor>> {
  const first = planFor(id, o);
  const [{ connect }, ports] = await Promise.all([import("../driver/engine"), import("../driver/ports")]);
  const base0 = ports.planBase(first.plan);
  const choice = await ports.resolveBasePort(await connect(), {
    stack: first.plan.stack,
    explicit: first.options.basePort,
    offsets: ports.publishedPorts(first.plan).map((p) => p - base0),
    // The stack's own ports: --recreate frees them, and without it `up` refuses an existing stack anyway.
    ownStackFree: true,
    how: "cli",
  });
  if (choice.moved) info(`  ${choice.moved}`);
  return choice.base === base0 ? first : planFor(id, { ...o, basePort: String(choice.base) });
}

/** The plan of a running stack: its ports are where `up` put them (recorded on its network), unless --base-port says otherwise. */
async function runningPlan(id: string, o: LevelFlags): Promise<ReturnType<typeof planFor>> {
  const first = planFor(id, o);
  if (first.options.basePort !== undefined) return first;
  const [{ connect }, ports] = await Promise.all([import("../driver/engine"), import("../driver/ports")]);
  const base = await ports.recordedBase(await connect(), first.plan.stack);
  return base === undefined || base === ports.planBase(first.plan) ? first : planFor(id, { ...o, basePort: String(base) });
}

/** check/solve on a Pulumi stack: its outputs, then SSH only (runtime/sshStack.ts). */
async function overSsh(id: string, o: LevelFlags, solve: boolean) {
  const { level, options } = planFor(id, o);
  const [{ levelPlan }, stack, ssh, verdict] = await Promise.all([
    import("../compose/plan"),
    import("../runtime/sshStack"),
    import("../runtime/ssh"),
    import("../runtime/verdict"),
  ]);
  const { plan, access, ctx } = stack.pulumiStackContext(levelPlan(level, options));
  if (solve) await ssh.runOverSsh(access, verdict.solutionActions(level, plan));
  return verdict.checkLevel(level, ctx);
}

const out = (s: string): void => {
  process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
};
const info = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

/** --stack and every CLI key of the config schema. */
function levelOptions(cmd: Command): Command {
  cmd.option("--stack <name>", "stack name; names, labels and ports derive from it (default level-<id>)");
  for (const k of CONFIG.filter((c) => c.cli)) {
    const dflt = k.default === undefined ? "" : ` (default ${String(k.default)})`;
    cmd.option(`${flagOf(k)} <${k.type === "integer" ? "n" : "value"}>`, `${k.description}${dflt}`);
  }
  return cmd;
}

/** What the game commands (cli/game.ts) borrow: the same port placement as up/check. */
const gameDeps = { placedPlan, runningPlan, out: (s: string) => out(s), info: (s: string) => info(s) };

export function program(): Command {
  const p = new Command("drills")
    .description("Production-incident training levels on Docker: boot a broken app, find the cause, fix it.")
    .showHelpAfterError()
    .exitOverride();

  p.command("list")
    .description("list the levels with a one-line description")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const all = levels();
      if (o.json) {
        out(JSON.stringify(all.map((l) => ({ id: l.id, title: l.title, summary: l.summary, engine: l.engine, faults: l.faults.map((f) => f.id) })), null, 2));
        return;
      }
      const width = Math.max(...all.map((l) => l.id.length));
      for (const l of all) out(`${l.id.padEnd(width)}  ${l.summary}`);
    });

  levelOptions(p.command("brief <level>").description("print a level's player brief (markdown)")).action((id: string, o: LevelFlags) => {
    const { level, plan } = planFor(id, o);
    out(renderBrief(level, plan, "cli"));
  });

  levelOptions(p.command("up <level>").description("build and start a level on the local Docker engine, then print its brief"))
    .option("--json", "print appUrl, apiUrl and each node's container and access command as JSON")
    .option("--recreate", "remove an existing deployment of the same stack first")
    .option("--show-faults", "instructors: print what each fault action does (players must not see it)")
    .option("--keep-on-failure", "when up fails, keep what it created for a look instead of removing it")
    .action(async (id: string, o: LevelFlags & { json?: boolean; recreate?: boolean; showFaults?: boolean; keepOnFailure?: boolean }) => {
      const { plan: named } = planFor(id, o);
      const { level, plan, r } = await withStackLock("up", id, named, async () => {
        const { level, plan } = await placedPlan(id, o);
        const onSignal = (): void => {
          info(`\ninterrupted: run \`drills down ${id}${stackFlag(plan)}\` to remove what was created`);
          process.exit(130);
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        try {
          const { keyForUp } = await import("../runtime/sshKeys");
          const playerKey = keyForUp(plan.stack).publicKey;
          const opts = { log: (l: string) => info(`  ${l}`), recreate: !!o.recreate, revealFaults: !!o.showFaults, keepOnFailure: !!o.keepOnFailure, playerKey };
          return { level, plan, r: await (await deployer()).up(plan, opts) };
        } finally {
          process.removeListener("SIGINT", onSignal);
          process.removeListener("SIGTERM", onSignal);
        }
      });
      if (o.json) {
        out(JSON.stringify({ level: id, stack: r.stack, appUrl: r.appUrl, ...(r.apiUrl ? { apiUrl: r.apiUrl } : {}), nodes: nodeAccess(plan), readySeconds: r.readySeconds }, null, 2));
        return;
      }
      info(`ready in ${r.readySeconds.toFixed(1)} s (images ${r.buildSeconds.toFixed(1)} s)\n`);
      out(renderBrief(level, plan, "cli"));
    });

  levelOptions(p.command("down <level>").description("remove every container, network and volume the level's stack created (or a game id's leftovers)")).action(
    async (id: string, o: LevelFlags) => {
      if (isGameId(id)) return downGame(gameDeps, id);
      const { plan } = planFor(id, o);
      const r = await withStackLock("down", id, plan, async () => {
        const removed = await (await deployer()).down(plan.stack, (l) => info(`  ${l}`));
        (await import("../runtime/sshKeys")).removePlayerKey(plan.stack);
        return removed;
      });
      out(`${plan.stack}: removed ${r.containers} containers, ${r.networks} networks, ${r.volumes} volumes`);
    },
  );

  levelOptions(p.command("check [level]").description("decide whether the running level (or without a level, your game) is fixed: OK (exit 0) or NO with reasons (exit 1)"))
    .option("--json", "print the verdict as JSON")
    .option("--pulumi", "a stack deployed with Pulumi (AWS too): read its outputs and check over SSH")
    .option("--game <id>", "the game to check (default: your game in play)")
    .option("--player <name>", "whose game (default: your login name)")
    .action(async (id: string | undefined, o: LevelFlags & { json?: boolean; pulumi?: boolean; game?: string; player?: string }) => {
      if (id === undefined) return checkGame(gameDeps, o);
      const { plan: named } = planFor(id, o);
      const r = o.pulumi ? await overSsh(id, o, false) : await withStackLock("check", id, named, async () => {
        const { level, plan } = await runningPlan(id, o);
        return (await runtime()).check(level, plan);
      });
      if (o.json) out(JSON.stringify(r, null, 2));
      else {
        out(r.ok ? `OK: ${id} is fixed` : `NO: ${id} is not fixed yet`);
        for (const reason of r.reasons) out(`  - ${reason}`);
      }
      process.exitCode = r.ok ? 0 : 1;
    });

  p.command("notes <level>")
    .description("instructors: what the level's faults do, their bounds, the artifacts their story leaves, the hints")
    .action((id: string) => {
      out(renderNotes(getLevel(id)));
    });

  p.command("hint [level] [n]")
    .description("show hint n of a level (default 1), or without a level your game's next hint; the last hint is the solution")
    .option("--game <id>", "the game (default: your game in play)")
    .option("--player <name>", "whose game (default: your login name)")
    .action((id: string | undefined, n: string | undefined, o: { game?: string; player?: string }) => {
      if (id === undefined) return hintGame(gameDeps, o);
      const level = getLevel(id);
      const count = level.hints.length;
      const i = n === undefined ? 1 : Number(n);
      if (!Number.isInteger(i) || i < 1 || i > count) {
        throw new DrillsError(`Hint "${n}" does not exist for ${id}: give a number from 1 to ${count}.`);
      }
      out(`Hint ${i} of ${count}${i === count ? " (the solution)" : ""}: ${level.hints[i - 1]}`);
      if (i < count) out(`More: drills hint ${id} ${i + 1}`);
    });

  levelOptions(p.command("solve <level>").description("instructors: apply the level's reference solution, then check"))
    .option("--pulumi", "a stack deployed with Pulumi (AWS too): read its outputs and solve over SSH")
    .action(async (id: string, o: LevelFlags & { pulumi?: boolean }) => {
      const { plan: named } = planFor(id, o);
      const r = o.pulumi ? await overSsh(id, o, true) : await withStackLock("solve", id, named, async () => {
        const { level, plan } = await runningPlan(id, o);
        const game = await runtime();
        await game.solve(level, plan, (l) => info(`  ${l}`));
        return game.check(level, plan);
      });
      out(r.ok ? `solved: ${id} checks OK` : `NO: the reference solution did not fix ${id}`);
      for (const reason of r.reasons) out(`  - ${reason}`);
      process.exitCode = r.ok ? 0 : 1;
    });

  p.command("status")
    .description("show every drills stack on the local Docker engine")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const stacks = await (await deployer()).status();
      if (o.json) return out(JSON.stringify(stacks, null, 2));
      for (const l of statusLines(stacks)) out(l);
    });

  gameCommands(p, gameDeps);

  p.command("stacks")
    .description("write the Pulumi stack file of every level that has none (stacks/Pulumi.level-<id>.yaml)")
    .option("--dir <dir>", "folder to write to (default: the project's stacks/)")
    .action(async (o: { dir?: string }) => {
      const { writeMissingStacks } = await import("./generate");
      const written = writeMissingStacks(o.dir);
      out(written.length ? written.map((f) => `wrote ${f}`).join("\n") : "every level has its stack file");
    });

  p.command("gen")
    .description("maintainers: regenerate Pulumi.yaml's config block and the README's level and config tables")
    .action(async () => {
      const { writeGenerated } = await import("./generate");
      for (const f of writeGenerated()) out(`updated ${f}`);
    });

  return p;
}

/** DRILLS_DEBUG=1: maintainers see the stack trace behind any error (and what caused it). */
function debugTrace(e: unknown): void {
  if (!process.env.DRILLS_DEBUG || process.env.DRILLS_DEBUG === "0") return;
  for (let x: unknown = e; x instanceof Error; x = (x as { cause?: unknown }).cause) process.stderr.write(`${x.stack ?? x.message}\n`);
}

/**
 * What the user sees of an error: one paragraph. Our own errors and known
 * engine errors say what happened and what to do; anything else prints one
 * line and where to look. Never a stack trace unless DRILLS_DEBUG is set.
 */
export async function describeError(e: unknown): Promise<string> {
  if (isDrillsError(e)) return e.message;
  const known = (await import("../driver/engine")).explainDockerError(e);
  if (known) return known.message;
  const first = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  return `unexpected error: ${first}\nset DRILLS_DEBUG=1 for details`;
}

/** Entry point: errors print one paragraph and exit 1, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`drills: ${await describeError(e)}\n`);
    debugTrace(e);
    process.exitCode = 1;
  }
}
