import { Command, CommanderError, Option } from "commander";
import { nodeAccess } from "../components/level";
import * as game from "../driver/game";
import * as driver from "../driver/level";
import { LEVELS } from "../levels";
import { renderBrief } from "../plan/brief";
import { DrillsError, isDrillsError } from "../plan/errors";
import { LevelFlags, planFor } from "./plan";

const out = (s: string): void => {
  process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
};
const info = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

function levelOptions(cmd: Command): Command {
  return cmd
    .option("--stack <name>", "stack name; names, labels and ports derive from it (default level-<id>)")
    .addOption(new Option("--base-image <ref>", "image the role Dockerfiles start FROM").default(undefined, "debian:bookworm-slim"))
    .option("--seed-invoices <n>", "invoices baked into the datastore image (default: the level's)")
    .option("--seed-users <n>", "users baked into the datastore image (default: the level's)")
    .option("--base-port <port>", "first 127.0.0.1 port to publish (default: derived from the stack)");
}

export function program(): Command {
  const p = new Command("drills")
    .description("Production-incident training levels on Docker: boot a broken app, find the cause, fix it.")
    .showHelpAfterError()
    .exitOverride();

  p.command("list")
    .description("list the levels with a one-line description")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      if (o.json) {
        out(JSON.stringify(LEVELS.map((l) => ({ id: l.id, title: l.title, summary: l.summary, engine: l.engine, faults: l.faults.map((f) => f.id) })), null, 2));
        return;
      }
      const width = Math.max(...LEVELS.map((l) => l.id.length));
      for (const l of LEVELS) out(`${l.id.padEnd(width)}  ${l.summary}`);
    });

  levelOptions(p.command("brief <level>").description("print a level's player brief (markdown)")).action((id: string, o: LevelFlags) => {
    const { level, plan } = planFor(id, o);
    out(renderBrief(level, plan));
  });

  levelOptions(p.command("up <level>").description("build and start a level on the local Docker engine, then print its brief"))
    .option("--json", "print appUrl, apiUrl and each node's container and access command as JSON")
    .option("--recreate", "remove an existing deployment of the same stack first")
    .action(async (id: string, o: LevelFlags & { json?: boolean; recreate?: boolean }) => {
      const { level, plan } = planFor(id, o);
      const stackFlag = plan.stack === `level-${id}` ? "" : ` --stack ${plan.stack}`;
      const onSignal = (): void => {
        info(`\ninterrupted: run \`drills down ${id}${stackFlag}\` to remove what was created`);
        process.exit(130);
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const r = await driver.up(plan, { log: (l) => info(`  ${l}`), recreate: o.recreate });
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      if (o.json) {
        out(JSON.stringify({ level: id, stack: r.stack, appUrl: r.appUrl, ...(r.apiUrl ? { apiUrl: r.apiUrl } : {}), nodes: nodeAccess(plan), readySeconds: r.readySeconds }, null, 2));
        return;
      }
      info(`ready in ${r.readySeconds.toFixed(1)} s (images ${r.buildSeconds.toFixed(1)} s)\n`);
      out(renderBrief(level, plan));
    });

  levelOptions(p.command("down <level>").description("remove every container, network and volume the level's stack created")).action(
    async (id: string, o: LevelFlags) => {
      const { plan } = planFor(id, o);
      const r = await driver.down(plan.stack, (l) => info(`  ${l}`));
      out(`${plan.stack}: removed ${r.containers} containers, ${r.networks} networks, ${r.volumes} volumes`);
    },
  );

  levelOptions(p.command("check <level>").description("decide whether the running level is fixed: OK (exit 0) or NO with reasons (exit 1)"))
    .option("--json", "print the verdict as JSON")
    .action(async (id: string, o: LevelFlags & { json?: boolean }) => {
      const { level, plan } = planFor(id, o);
      const r = await game.check(level, plan);
      if (o.json) out(JSON.stringify(r, null, 2));
      else {
        out(r.ok ? `OK: ${id} is fixed` : `NO: ${id} is not fixed yet`);
        for (const reason of r.reasons) out(`  - ${reason}`);
      }
      process.exitCode = r.ok ? 0 : 1;
    });

  p.command("hint <level> [n]")
    .description("show hint n of a level (default 1); the last hint is the solution")
    .action((id: string, n: string | undefined) => {
      const { level } = planFor(id, {});
      const count = level.hints.length;
      const i = n === undefined ? 1 : Number(n);
      if (!Number.isInteger(i) || i < 1 || i > count) {
        throw new DrillsError(`Hint "${n}" does not exist for ${id}: give a number from 1 to ${count}.`);
      }
      out(`Hint ${i} of ${count}${i === count ? " (the solution)" : ""}: ${level.hints[i - 1]}`);
      if (i < count) out(`More: drills hint ${id} ${i + 1}`);
    });

  levelOptions(p.command("solve <level>").description("instructors: apply the level's reference solution, then check"))
    .action(async (id: string, o: LevelFlags) => {
      const { level, plan } = planFor(id, o);
      await game.solve(level, plan, (l) => info(`  ${l}`));
      const r = await game.check(level, plan);
      out(r.ok ? `solved: ${id} checks OK` : `NO: the reference solution did not fix ${id}`);
      for (const reason of r.reasons) out(`  - ${reason}`);
      process.exitCode = r.ok ? 0 : 1;
    });

  p.command("status")
    .description("show every drills stack on the local Docker engine")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const stacks = await driver.status();
      if (o.json) return out(JSON.stringify(stacks, null, 2));
      if (stacks.length === 0) return out("no drills levels are running");
      for (const s of stacks) {
        out(`${s.stack} (level ${s.level})`);
        for (const n of s.nodes) out(`  ${n.role.padEnd(10)} ${n.container.padEnd(36)} ${n.state}/${n.health}  ${n.ports.join(" ")}`);
      }
    });

  return p;
}

/** Entry point: user mistakes print one paragraph and exit 1, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    if (isDrillsError(e)) {
      process.stderr.write(`drills: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}
