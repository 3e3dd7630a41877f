// Speed and footprint of levels on the local Docker engine: prints numbers
// (design targets: ready in seconds once images exist; well under 600 MiB at rest).
// Usage: npm run bench [-- level ...]   (default: baseline missing-index)
import { spawnSync } from "child_process";
import * as path from "path";
import { levelPlan } from "../compose/plan";
import { down, up } from "../driver/deployer";
import { connect } from "../driver/engine";
import { stageImage } from "../images/context";
import { getLevel, levelIds } from "../levels";
import { dockerPlan } from "../plan/endpoints";
import { parseOptions } from "../plan/options";

const MiB = 1024 * 1024;

async function bench(id: string): Promise<void> {
  const stack = `bench-${id}`;
  const plan = dockerPlan(levelPlan(getLevel(id), parseOptions({ level: id, stack }, levelIds())));
  const docker = await connect();
  await down(stack);
  const r = await up(plan);
  // Let the nodes settle before reading memory at rest.
  await new Promise((res) => setTimeout(res, 10_000));
  let total = 0;
  const rows: string[] = [];
  for (const n of plan.nodes) {
    const s = (await docker.getContainer(n.name).stats({ stream: false })) as unknown as {
      memory_stats: { usage: number; stats?: { cache?: number; inactive_file?: number } };
    };
    const cache = s.memory_stats.stats?.inactive_file ?? s.memory_stats.stats?.cache ?? 0;
    const used = (s.memory_stats.usage - cache) / MiB;
    total += used;
    const tag = stageImage(n.image).tag;
    const size = (await docker.getImage(tag).inspect()).Size / MiB;
    rows.push(`  ${n.role.padEnd(10)} memory ${used.toFixed(0).padStart(4)} MiB of ${n.memoryMiB}   image ${size.toFixed(0).padStart(5)} MiB  ${tag}`);
  }
  const t = Date.now();
  await down(stack);
  const downSeconds = (Date.now() - t) / 1000;
  console.log(`${id}: images ${r.buildSeconds.toFixed(1)} s, ready ${r.readySeconds.toFixed(1)} s, down ${downSeconds.toFixed(1)} s, memory at rest ${total.toFixed(0)} MiB (target < 600)`);
  for (const row of rows) console.log(row);
}

/** `drills list` as a user runs it: wall time of the whole process and its peak memory (target: 150 ms, 80 MiB). */
function listStartup(runs = 5): void {
  const main = path.join(__dirname, "..", "cli", "main.js");
  const script = `require(${JSON.stringify(main)}).main(["node","drills","list"]).then(() => process.stderr.write(String(process.resourceUsage().maxRSS)))`;
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    rss.push(Number(r.stderr) / 1024);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const m = med(ms);
  const r = med(rss);
  console.log(`drills list: ${m.toFixed(0)} ms (target 150: ${m <= 150 ? "pass" : "FAIL"}), peak ${r.toFixed(0)} MiB (target 80: ${r <= 80 ? "pass" : "FAIL"}), median of ${runs}`);
}

async function main(): Promise<void> {
  listStartup();
  const ids = process.argv.slice(2);
  for (const id of ids.length ? ids : ["baseline", "missing-index"]) await bench(id);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
