import { levelPlan } from "../../compose/plan";
import { renderBrief } from "../../compose/brief";
import { getLevel, levelIds } from "../../levels";
import { utils } from "ssh2";
import { sshCommand } from "../../plan/app";
import { parseOptions } from "../../plan/options";
import { accessFromOutputs, planFromOutputs, StackOutputs } from "../../runtime/sshStack";

/** An AWS stack's outputs as `pulumi stack output --json --show-secrets` prints them (bad-cors: the API has its own origin). */
const key = ".drills/keys/aws-bad-cors/id_ed25519";
const outputs: StackOutputs = {
  appUrl: "http://198.51.100.12/",
  apiUrl: "http://198.51.100.11:3000/",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n",
  nodes: {
    proxy: { access: sshCommand("proxy", key, { host: "198.51.100.12", port: 22 }), ports: { http: "198.51.100.12:80", ssh: "198.51.100.12:22" } },
    backend: { access: sshCommand("backend", key, { host: "198.51.100.12", port: 22 }), ports: { api: "198.51.100.11:3000" } },
    datastore: { access: sshCommand("datastore", key, { host: "198.51.100.12", port: 22 }), ports: { postgres: "10.0.0.10:5432" } },
  },
};
const options = parseOptions({ level: "bad-cors", stack: "aws-bad-cors", target: "aws", allowedCidr: "203.0.113.0/24" }, levelIds());
const plan = levelPlan(getLevel("bad-cors"), options);

describe("checks on an AWS stack go over SSH from its outputs", () => {
  it("enters by the proxy's public SSH port, and reaches the others by name through it", () => {
    const a = accessFromOutputs(plan, outputs);
    expect(a.entry).toEqual({ host: "198.51.100.12", port: 22 });
    expect(a.hosts).toEqual({ datastore: "datastore", backend: "backend", proxy: "proxy" });
    expect(a.user).toBe("oncall");
    expect(() => accessFromOutputs(plan, { ...outputs, nodes: { ...outputs.nodes, proxy: { access: "", ports: {} } } })).toThrow(/no SSH port/);
  });

  it("checks the public URLs the stack serves, with no placeholder left", () => {
    const p = planFromOutputs(plan, outputs);
    expect(p.appUrl).toBe("http://198.51.100.12/");
    expect(p.apiUrl).toBe("http://198.51.100.11:3000/");
    expect(JSON.stringify(p)).not.toContain("{{");
  });

  it("the AWS brief tells how to save the key, log in through the proxy, and check with --pulumi", () => {
    const brief = renderBrief(getLevel("bad-cors"), plan, "pulumi");
    // The same line empties the stack's known-hosts file: the nodes' host keys are new after every `pulumi up`.
    expect(brief).toContain(
      `pulumi stack output --stack aws-bad-cors --show-secrets sshPrivateKey | install -D -m 600 /dev/stdin ${key} && install -m 600 /dev/null .drills/keys/aws-bad-cors/known_hosts`,
    );
    expect(brief).toContain("npx drills check bad-cors --stack aws-bad-cors --pulumi");
  });

  it("one ssh line per node, the same shape as on Docker: user, key file, the stack's own known hosts, host, port", () => {
    // Host keys live in the stack's own file (never ~/.ssh/known_hosts): new ones accepted, changed ones refused.
    const ssh = `ssh -i ${key} -o UserKnownHostsFile=.drills/keys/aws-bad-cors/known_hosts -o StrictHostKeyChecking=accept-new`;
    expect(outputs.nodes.proxy.access).toBe(`${ssh} oncall@198.51.100.12`);
    expect(outputs.nodes.backend.access).toBe(`${ssh} -o ProxyCommand="${ssh} -W %h:%p oncall@198.51.100.12" oncall@backend`);
    expect(sshCommand("backend", key, { host: "127.0.0.1", port: 20003 })).toBe(`${ssh} -o ProxyCommand="${ssh} -p 20003 -W %h:%p oncall@127.0.0.1" oncall@backend`);
  });
});

describe("readiness on EC2 follows the plan's healthcheck", () => {
  it("runs the role's own check, or the one a fault gave the node (the tutorial's unwired backend answers 503)", () => {
    const { readyScript } = jest.requireActual("../../components/aws/node") as typeof import("../../components/aws/node");
    const { planFor } = jest.requireActual("../../cli/plan") as typeof import("../../cli/plan");
    const healthy = planFor("baseline", { stack: "aws-ready" }).plan.nodes.find((n) => n.role === "backend")!;
    const unwired = planFor("tutorial", { stack: "aws-ready" }).plan.nodes.find((n) => n.role === "backend")!;
    expect(readyScript(healthy)).toContain("sudo /usr/local/bin/drills-health >/dev/null");
    expect(readyScript(unwired)).toContain("sudo curl -sS -o /dev/null -m 5 http://127.0.0.1:3000/api/health >/dev/null");
  });
});

describe("the stack's known-hosts file", () => {
  const { keyForUp, knownHostsPath, removePlayerKey, writePlayerKey } = jest.requireActual("../../runtime/sshKeys") as typeof import("../../runtime/sshKeys");
  const fs = jest.requireActual("fs") as typeof import("fs");
  const stack = `unit-known-hosts-${process.pid}`;
  afterAll(() => removePlayerKey(stack));

  it("is emptied by every up (the key stays) and by a new key from a Pulumi stack, and kept for the same key", () => {
    const key = keyForUp(stack);
    fs.writeFileSync(knownHostsPath(stack), "[127.0.0.1]:20003 ssh-ed25519 AAAA\n");
    expect(keyForUp(stack).publicKey).toBe(key.publicKey);
    expect(fs.existsSync(knownHostsPath(stack))).toBe(false);
    fs.writeFileSync(knownHostsPath(stack), "x\n");
    writePlayerKey(stack, key.privateKey, key.publicKey);
    expect(fs.existsSync(knownHostsPath(stack))).toBe(true);
    const other = utils.generateKeyPairSync("ed25519");
    writePlayerKey(stack, other.private, other.public);
    expect(fs.existsSync(knownHostsPath(stack))).toBe(false);
  });
});
