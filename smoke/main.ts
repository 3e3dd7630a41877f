// `npm run smoke [-- level...] [--driver pulumi|docker|both]`: every level's
// lifecycle for real (smoke/lifecycle.ts), a table of the results, exit 1 on
// any failure. CI runs it nightly; .ci/run through the test suite.
import { Command, Option } from "commander";
import * as fs from "fs";
import { levelIds } from "../levels";
import { Driver, lifecycle, LifecycleResult, table } from "./lifecycle";

async function main(): Promise<void> {
  const p = new Command("smoke")
    .argument("[levels...]", "levels to run (default: all)")
    .addOption(new Option("--driver <driver>", "deployer").choices(["pulumi", "docker", "both"]).default("both"))
    .option("--replace", "Pulumi: also replace the first faulty node and require its faults back")
    .option("--summary <file>", "also write the table to this file (e.g. $GITHUB_STEP_SUMMARY)")
    .option("--stack-prefix <prefix>", "run each level as stack <prefix><level> (default: level-<level> under Pulumi, smoke-<level> under the CLI)")
    .parse(process.argv);
  const o = p.opts<{ driver: "pulumi" | "docker" | "both"; replace?: boolean; summary?: string; stackPrefix?: string }>();
  const ids = p.args.length ? p.args : levelIds();
  const unknown = ids.filter((id) => !levelIds().includes(id));
  if (unknown.length) {
    process.stderr.write(`smoke: unknown level(s) ${unknown.join(", ")}; valid: ${levelIds().join(", ")}\n`);
    process.exit(1);
  }
  const drivers: Driver[] = o.driver === "both" ? ["docker", "pulumi"] : [o.driver];
  const started = Date.now();
  const results: LifecycleResult[] = [];
  for (const id of ids) {
    for (const d of drivers) {
      const stack = o.stackPrefix === undefined ? undefined : `${o.stackPrefix}${id}`;
      results.push(await lifecycle(id, d, { log: (l) => process.stderr.write(`${l}\n`), replace: o.replace, stack }));
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  const md =
    `### drills smoke (${drivers.join(" + ")})\n\n${table(results)}\n\n` +
    `${results.length - failed} passed, ${failed} failed; total ${((Date.now() - started) / 60_000).toFixed(1)} min.\n`;
  process.stdout.write(md);
  if (o.summary) fs.appendFileSync(o.summary, md);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}

main().catch((e: Error) => {
  process.stderr.write(`smoke: ${e.message}\n`);
  process.exit(1);
});
