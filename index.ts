// Pulumi entry: read config, validate, look the level up, render it.
import * as pulumi from "@pulumi/pulumi";
import { Level } from "./components/level";
import { getLevel, levelIds } from "./levels";
import { CONFIG } from "./plan/config";
import { isDrillsError } from "./plan/errors";
import { parseOptions, RawOptions } from "./plan/options";

function main(): Level {
  const cfg = new pulumi.Config("drills");
  // Every key of the one schema (plan/config.ts); validation happens in parseOptions.
  const raw: RawOptions = { stack: pulumi.getStack() };
  for (const k of CONFIG) raw[k.key] = cfg.get(k.key);
  const options = parseOptions(raw, levelIds());
  return new Level(options.stack, { level: getLevel(options.level), options });
}

let level: Level;
try {
  level = main();
} catch (e) {
  // A user mistake: RunError prints the message alone, without a stack trace.
  if (isDrillsError(e)) throw new pulumi.RunError(e.message);
  throw e;
}

// Stack outputs; the SSH key only where there is one (AWS), so Docker stacks get no empty output.
const outputs: Record<string, pulumi.Output<unknown>> = { appUrl: level.appUrl, apiUrl: level.apiUrl, nodes: level.nodes, brief: level.brief };
/** The stack's SSH key: the brief's line saves it where its ssh commands look (compose/access.ts savePulumiKey). */
if (level.sshPrivateKey) outputs.sshPrivateKey = level.sshPrivateKey;
export = outputs;
