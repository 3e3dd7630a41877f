import { spawnSync } from "child_process";
import { DrillsError } from "../plan/errors";
import { Endpoints, resolvePlan } from "../plan/endpoints";
import { PLAYER_USER, SSH_ENTRY } from "../plan/app";
import { LevelPlan, Role } from "../plan/types";
import { utils } from "ssh2";
import { CheckContext } from "../faults/types";
import { SshAccess, sshContext } from "./ssh";
import { writePlayerKey } from "./sshKeys";

/** What a Pulumi stack of a level outputs (index.ts), as `pulumi stack output --json --show-secrets` prints it. */
export interface StackOutputs {
  appUrl: string;
  apiUrl?: string;
  nodes: Record<string, { access: string; ports: Record<string, string> }>;
  sshPrivateKey: string;
}

/** A stack's outputs through the Pulumi CLI (its login and passphrase as the user set them). */
export function readPulumiOutputs(stack: string): StackOutputs {
  const r = spawnSync("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", stack], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new DrillsError(`Could not read the outputs of Pulumi stack ${stack}: ${r.error?.message ?? r.stderr.trim()}. Run it where \`pulumi stack output --stack ${stack}\` works.`);
  }
  const out = JSON.parse(r.stdout) as Partial<StackOutputs>;
  if (!out.appUrl || !out.nodes || !out.sshPrivateKey) throw new DrillsError(`Pulumi stack ${stack} has no appUrl, nodes or sshPrivateKey output: is it up?`);
  return out as StackOutputs;
}

/** The level's plan (endpoints unresolved) as the stack runs it: its public URLs from the outputs. */
export function planFromOutputs(plan: LevelPlan, out: StackOutputs): LevelPlan {
  const origin = {} as Record<Role, string>;
  const port = {} as Record<Role, string>;
  for (const n of plan.nodes) {
    port[n.role] = String(n.ports[0].internal);
    origin[n.role] = `http://${n.hostname}:${n.ports[0].internal}`;
  }
  origin.proxy = new URL(out.appUrl).origin;
  if (out.apiUrl) origin.backend = new URL(out.apiUrl).origin;
  const e: Endpoints = { origin, port };
  return { ...resolvePlan(plan, e), appUrl: out.appUrl, apiUrl: out.apiUrl };
}

/** SSH access from the outputs: the entry node's published SSH port; the others by name through it (their /etc/hosts). */
export function accessFromOutputs(plan: LevelPlan, out: StackOutputs): SshAccess {
  const ssh = out.nodes[SSH_ENTRY]?.ports.ssh;
  if (!ssh) throw new DrillsError(`The stack's nodes output has no SSH port on the ${SSH_ENTRY}: redeploy it with this version of drills.`);
  const at = ssh.lastIndexOf(":");
  const hosts = Object.fromEntries(plan.nodes.map((n) => [n.role, n.hostname])) as Record<Role, string>;
  return { entry: { host: ssh.slice(0, at), port: Number(ssh.slice(at + 1)) }, hosts, user: PLAYER_USER, privateKey: out.sshPrivateKey };
}

/**
 * A check context on a Pulumi stack of the level (AWS, or Docker through
 * Pulumi), over SSH only, from the stack's outputs. Also saves the stack's
 * key where the brief's ssh commands look for it.
 */
export function pulumiStackContext(plan: LevelPlan): { plan: LevelPlan; access: SshAccess; ctx: CheckContext } {
  const out = readPulumiOutputs(plan.stack);
  const running = planFromOutputs(plan, out);
  const access = accessFromOutputs(running, out);
  const pub = utils.parseKey(out.sshPrivateKey);
  if (!(pub instanceof Error)) writePlayerKey(plan.stack, out.sshPrivateKey, `${pub.type} ${pub.getPublicSSH().toString("base64")}`);
  return { plan: running, access, ctx: sshContext(running, access) };
}
