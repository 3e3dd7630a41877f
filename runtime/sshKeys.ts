import * as fs from "fs";
import * as path from "path";
import { utils } from "ssh2";
import { repoRoot } from "../images/repo";
import { knownHostsBeside, playerKeyFile } from "../plan/app";

/** A stack's player key: where it is and both halves (OpenSSH format). */
export interface PlayerKey {
  /** Absolute path of the private key (mode 0600); the public half is beside it (.pub). */
  file: string;
  privateKey: string;
  publicKey: string;
}

/** The absolute path of a stack's private key (plan/app.ts playerKeyFile, under the project folder). */
export const playerKeyPath = (stack: string): string => path.join(repoRoot(), playerKeyFile(stack));

/** The absolute path of the stack's known-hosts file (the brief's ssh commands keep the nodes' host keys there). */
export const knownHostsPath = (stack: string): string => path.join(repoRoot(), knownHostsBeside(playerKeyFile(stack)));

/** The stack's key as written, or undefined when it has none. */
export function readPlayerKey(stack: string): PlayerKey | undefined {
  const file = playerKeyPath(stack);
  if (!fs.existsSync(file) || !fs.existsSync(`${file}.pub`)) return undefined;
  return { file, privateKey: fs.readFileSync(file, "utf8"), publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

/**
 * The stack's key, made on first use: an ed25519 pair of its own, never in
 * an image, readable by this user only. Kept while the stack lives, so the
 * brief's command keeps working across `up --recreate`.
 */
export function ensurePlayerKey(stack: string): PlayerKey {
  const existing = readPlayerKey(stack);
  if (existing) return existing;
  const file = playerKeyPath(stack);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const pair = utils.generateKeyPairSync("ed25519", { comment: `drills ${stack}` });
  fs.writeFileSync(file, pair.private, { mode: 0o600 });
  fs.writeFileSync(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  return { file, privateKey: pair.private, publicKey: pair.public };
}

/**
 * What an `up` of the stack gives its nodes: the stack's key (kept), and an
 * empty known-hosts file, since every start gives the nodes new host keys
 * and the brief's unchanged commands must not meet the old ones.
 */
export function keyForUp(stack: string): PlayerKey {
  const key = ensurePlayerKey(stack);
  fs.rmSync(knownHostsPath(stack), { force: true });
  return key;
}

/** A new ed25519 pair in OpenSSH format (the Pulumi Docker target's key resource calls it). */
export function generatePlayerKey(comment: string): { privateKey: string; publicKey: string } {
  const pair = utils.generateKeyPairSync("ed25519", { comment });
  return { privateKey: pair.private, publicKey: pair.public };
}

/** Write a key another tool made (an AWS stack's output) as the stack's key file. */
export function writePlayerKey(stack: string, privateKey: string, publicKey: string): PlayerKey {
  const file = playerKeyPath(stack);
  // Another key means another deployment of the stack: its host keys are new too.
  if (readPlayerKey(stack)?.publicKey.split(" ")[1] !== publicKey.trim().split(" ")[1]) fs.rmSync(knownHostsPath(stack), { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(`${file}.pub`, `${publicKey.trim()}\n`, { mode: 0o644 });
  return { file, privateKey, publicKey: publicKey.trim() };
}

/** Remove the stack's key folder (at `down`); true when there was one. */
export function removePlayerKey(stack: string): boolean {
  const dir = path.dirname(playerKeyPath(stack));
  const had = fs.existsSync(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return had;
}
