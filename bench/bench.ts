// Speed and footprint of levels on the local Docker engine: prints numbers
// (design targets: ready in seconds once images exist; well under 600 MiB at rest).
// Usage: npm run bench [-- level ...]   (default: baseline missing-index)
import { connect } from "../driver/engine";
import { down, up } from "../driver/level";
import { getLevel, levelIds } from "../levels";
import { buildPlan } from "../plan/build";
import { dockerPlan } from "../plan/endpoints";
import { parseOptions } from "../plan/options";

const MiB = 1024 * 1024;

async function bench(id: string): Promise<void> {
  const stack = `bench-${id}`;
  const plan = dockerPlan(buildPlan(getLevel(id), parseOptions({ level: id, stack }, levelIds())));
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
    const size = (await docker.getImage(n.image.tag).inspect()).Size / MiB;
    rows.push(`  ${n.role.padEnd(10)} memory ${used.toFixed(0).padStart(4)} MiB of ${n.memoryMiB}   image ${size.toFixed(0).padStart(5)} MiB  ${n.image.tag}`);
  }
  const t = Date.now();
  await down(stack);
  const downSeconds = (Date.now() - t) / 1000;
  console.log(`${id}: images ${r.buildSeconds.toFixed(1)} s, ready ${r.readySeconds.toFixed(1)} s, down ${downSeconds.toFixed(1)} s, memory at rest ${total.toFixed(0)} MiB (target < 600)`);
  for (const row of rows) console.log(row);
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2);
  for (const id of ids.length ? ids : ["baseline", "missing-index"]) await bench(id);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
