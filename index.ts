// Pulumi entry: read config, validate, look the level up, render it.
import * as pulumi from "@pulumi/pulumi";
import { Level } from "./components/level";
import { getLevel, levelIds } from "./levels";
import { isDrillsError } from "./plan/errors";
import { parseOptions } from "./plan/options";

function main(): Level {
  const cfg = new pulumi.Config("drills");
  const options = parseOptions(
    {
      level: cfg.get("level"),
      target: cfg.get("target"),
      stack: pulumi.getStack(),
      baseImage: cfg.get("baseImage"),
      seedInvoices: cfg.get("seedInvoices"),
      seedUsers: cfg.get("seedUsers"),
      basePort: cfg.get("basePort"),
    },
    levelIds(),
  );
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

export const appUrl = level.appUrl;
export const apiUrl = level.apiUrl;
export const nodes = level.nodes;
export const brief = level.brief;
