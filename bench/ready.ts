// Warm time to ready of levels under the CLI's deployer, nothing else: up, down, N times.
// Usage: npm run build && node dist/bench/ready.js [--runs 3] [--stack-prefix ready] level ...
import { Command } from "commander";
import * as os from "os";
import { planFor } from "../cli/plan";
import { down, up } from "../driver/deployer";

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const p = new Command()
    .argument("<levels...>")
    .option("--runs <n>", "ups per level", "3")
    .option("--stack-prefix <p>", "stacks are <p>-<level>", "ready")
    .option("--verbose", "print the deployer's progress with timestamps");
  p.parse();
  const o = p.opts<{ runs: string; stackPrefix: string; verbose?: boolean }>();
  for (const id of p.args) {
    const stack = `${o.stackPrefix}-${id}`;
    const { plan } = planFor(id, { stack });
    const ready: number[] = [];
    await down(stack);
    for (let i = 0; i < Number(o.runs); i++) {
      const t0 = Date.now();
      const log = o.verbose ? (l: string) => console.log(`  +${((Date.now() - t0) / 1000).toFixed(2)} ${l}`) : undefined;
      try {
        const r = await up(plan, { log });
        ready.push(r.readySeconds);
        console.log(`${id} run ${i + 1}: ready ${r.readySeconds.toFixed(2)} s (load ${os.loadavg()[0].toFixed(2)})`);
      } finally {
        await down(stack);
      }
    }
    console.log(`${id}: median ready ${median(ready).toFixed(2)} s over ${ready.length} runs (${ready.map((s) => s.toFixed(1)).join(", ")})`);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
