import Docker from "dockerode";
import { PLAYER_USER, SSH_PORT } from "../plan/app";
import { DrillsError } from "../plan/errors";
import { LevelPlan } from "../plan/types";
import { exec } from "./engine";

/**
 * The script that lets the stack's key log in as the player's user: the key
 * is given at start, never baked into an image. Same on EC2 (user data).
 */
export function authorizeKeyScript(publicKey: string, user = PLAYER_USER): string {
  if (!/^ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+( [^\n']*)?$/.test(publicKey.trim())) throw new Error("not an OpenSSH public key");
  return [
    "set -eu",
    `install -d -o ${user} -g ${user} -m 0700 /home/${user}/.ssh`,
    `printf '%s\\n' '${publicKey.trim()}' >/home/${user}/.ssh/authorized_keys`,
    `chown ${user}:${user} /home/${user}/.ssh/authorized_keys`,
    `chmod 0600 /home/${user}/.ssh/authorized_keys`,
  ].join("\n");
}

/**
 * Wait (at most 60 s) until the node's sshd accepts connections: it starts
 * beside the node's service, which may be healthy first, and the brief's
 * ssh lines must work as soon as `up` prints them. (EC2 nodes are checked
 * over SSH, so they are ready by construction.)
 */
const sshdListening = [
  `for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/${SSH_PORT}) 2>/dev/null && exit 0; sleep 0.2; done`,
  `echo "sshd is not accepting connections on port ${SSH_PORT} after 60 s" >&2`,
  "exit 1",
].join("\n");

/** Install the stack's public key on every node of a started stack (docker exec, as root), once its sshd listens. */
export async function installPlayerKey(docker: Docker, plan: LevelPlan, publicKey: string): Promise<void> {
  const script = `${authorizeKeyScript(publicKey)}\n${sshdListening}`;
  for (const n of plan.nodes) {
    const r = await exec(docker, n.name, ["bash", "-s"], script);
    if (r.code !== 0) throw new DrillsError(`Could not install the SSH key on ${n.name} (exit ${r.code}): ${r.stderr || r.stdout}`);
  }
}
