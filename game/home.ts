import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DrillsError } from "../plan/errors";
import { DEFAULT_RULE, parseRule, Rule } from "./score";

/** The instructor's data folder: the record, the certification rule, the players' folders. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DRILLS_DATA) return path.resolve(env.DRILLS_DATA);
  const base = env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(base, "drills");
}

export const recordFile = (dir: string): string => path.join(dir, "record.sqlite");
export const ruleFile = (dir: string): string => path.join(dir, "certification.json");

const PLAYER_RE = /^[a-z0-9][a-z0-9._-]{0,39}$/;

/** The player: --player, else the login name. */
export function playerName(given?: string): string {
  const name = (given ?? process.env.DRILLS_PLAYER ?? os.userInfo().username).trim().toLowerCase();
  if (!PLAYER_RE.test(name)) {
    throw new DrillsError(`Invalid player name "${name}": use lower-case letters, digits, dots, dashes or underscores (at most 40).`);
  }
  return name;
}

/** Where a player's reports go. */
export function playerDir(dir: string, player: string): string {
  return path.join(dir, "players", player);
}

/** The certification rule: certification.json in the data folder when present, else the default. */
export function readRule(dir: string): Rule {
  const file = ruleFile(dir);
  if (!fs.existsSync(file)) return DEFAULT_RULE;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new DrillsError(`${file} is not valid JSON (${(e as Error).message}). Fix it or remove it to use the default rule.`);
  }
  return parseRule(raw, file);
}
