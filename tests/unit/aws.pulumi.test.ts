import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { Created, recordResources, value } from "./mocks";

/** Provider function calls the program made, with their inputs. */
const invoked: Array<{ token: string; inputs: Record<string, unknown> }> = [];
const recorded = (token: string, result: (inputs: Record<string, unknown>) => Record<string, unknown>) => (inputs: Record<string, unknown>) => {
  invoked.push({ token, inputs });
  return result(inputs);
};
/** Which zones offer which types: eu-west-1a lacks t3.small; the Local Zone offers all but needs opt-in. */
const OFFERED: Record<string, string[]> = {
  "t3.micro": ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1-lz"],
  "t3.small": ["eu-west-1c", "eu-west-1b", "eu-west-1-lz"],
  "t3.medium": ["eu-west-1b", "eu-west-1c", "eu-west-1-lz"],
};

/** Fake addresses: instance "<stack>-<role>" gets private 10.0.0.N, and public 198.51.100.N only when it asks for one (as EC2). */
const ROLE_N: Record<string, number> = { datastore: 10, backend: 11, proxy: 12 };
const publicIp = (name: string) => `198.51.100.${ROLE_N[name.split("-").pop() as string]}`;
const privateIp = (name: string) => `10.0.0.${ROLE_N[name.split("-").pop() as string]}`;
const created: Created[] = recordResources("aws-unit", {
  state: (type, name, inputs) => {
    if (type === "aws:ec2/instance:Instance") return { publicIp: inputs.associatePublicIpAddress === true ? publicIp(name) : "", privateIp: privateIp(name) };
    if (type === "aws:s3/bucket:Bucket") return { bucket: `${name}-bucket`, arn: `arn:aws:s3:::${name}-bucket` };
    if (type === "tls:index/privateKey:PrivateKey") return { privateKeyOpenssh: "PRIVATE", publicKeyOpenssh: "ssh-ed25519 AAAA" };
    if (type === "aws:ec2/keyPair:KeyPair") return { keyName: `${name}-kp` };
    return {};
  },
  calls: {
    "aws:ec2/getVpc:getVpc": { id: "vpc-default" },
    "aws:ec2/getSubnets:getSubnets": recorded("getSubnets", () => ({ ids: ["subnet-b2", "subnet-b1"] })),
    "aws:index/getRegion:getRegion": { region: "eu-west-1", name: "eu-west-1", id: "eu-west-1" },
    "aws:ec2/getAmi:getAmi": recorded("getAmi", () => ({ id: "ami-debian12", imageId: "ami-debian12" })),
    "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": recorded("getInstanceTypeOfferings", (inputs) => {
      const types = ((inputs.filters as Array<{ name: string; values: string[] }>).find((f) => f.name === "instance-type")?.values ?? []);
      const pairs = types.flatMap((t) => (OFFERED[t] ?? []).map((z) => [t, z]));
      return { id: "eu-west-1", instanceTypes: pairs.map((p) => p[0]), locations: pairs.map((p) => p[1]), locationTypes: pairs.map(() => "availability-zone") };
    }),
    "aws:index/getAvailabilityZones:getAvailabilityZones": recorded("getAvailabilityZones", (inputs) => {
      const optInFree = JSON.stringify(inputs.filters) === JSON.stringify([{ name: "opt-in-status", values: ["opt-in-not-required"] }]);
      return { id: "eu-west-1", names: optInFree ? ["eu-west-1c", "eu-west-1b", "eu-west-1a"] : ["eu-west-1c", "eu-west-1b", "eu-west-1a", "eu-west-1-lz"] };
    }),
  },
});
const optsByName = new Map<string, pulumi.ResourceOptions>();

import { Level } from "../../components/level";
import { getLevel, levels, levelIds } from "../../levels";
import { levelPlan } from "../../compose/plan";
import { parseOptions, RawOptions } from "../../plan/options";

const CIDR = "203.0.113.0/24";
/** How the Pulumi SDK marks a secret value in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

async function render(id: string, extra: RawOptions = {}): Promise<{ res: Created[]; level: Level }> {
  const start = created.length;
  const options = parseOptions({ level: id, stack: `aws-${id}`, target: "aws", allowedCidr: CIDR, ...extra }, levelIds());
  const level = new Level(`aws-${id}`, { level: getLevel(id), options }, {
    transformations: [(a) => (optsByName.set(a.name, a.opts), undefined)],
  });
  await value(level.brief);
  return { res: created.slice(start), level };
}

const ofType = (list: Created[], type: string) => list.filter((c) => c.type === type);
interface Rule { securityGroupId: string; fromPort: number; cidrIpv4?: string; referencedSecurityGroupId?: string }

describe.each(levels().map((l) => [l.id]))("%s on the aws target (mocks)", (id) => {
  let res: Created[];
  let level: Level;
  const stack = `aws-${id}`;
  const plan = levelPlan(getLevel(id), parseOptions({ level: id, stack, target: "aws", allowedCidr: CIDR }, levelIds()));
  beforeAll(async () => {
    ({ res, level } = await render(id));
  });

  it("renders one hardened Debian 12 instance per node", () => {
    const instances = ofType(res, "aws:ec2/instance:Instance");
    expect(instances.map((i) => i.name)).toEqual([`${stack}-datastore`, `${stack}-backend`, `${stack}-proxy`]);
    for (const i of instances) {
      const role = i.name.split("-").pop() as string;
      expect(i.inputs.ami).toBe("ami-debian12");
      expect(i.inputs.instanceType).toBe({ datastore: "t3.small", backend: "t3.small", proxy: "t3.micro" }[role]);
      expect(i.inputs.metadataOptions).toEqual(expect.objectContaining({ httpTokens: "required" }));
      expect(i.inputs.rootBlockDevice).toEqual(expect.objectContaining({ encrypted: true }));
      expect(i.inputs.instanceInitiatedShutdownBehavior).toBe("terminate");
      expect(i.inputs.tags).toEqual(
        expect.objectContaining({ "drills:level": id, "drills:stack": stack, "drills:player": "unassigned", "drills:ttl-hours": "4", Name: `drills-${stack}-${role}` }),
      );
      expect(Date.parse((i.inputs.tags as Record<string, string>)["drills:expires"])).toBeGreaterThan(Date.now() + 3.9 * 3600_000);
      const ud = String(i.inputs.userData);
      expect(ud).toContain(`bash /opt/drills-src/roles/${role}/provision.sh`);
      expect(ud).toContain("date -u -d '+240 minutes'");
      expect(ud).toContain("OnCalendar=");
      expect(ud).not.toMatch(/PASSWORD/);
      expect(ud).toContain("--aws-sigv4");
      // It must at least parse as bash (the container test runs it for real).
      const syntax = spawnSync("bash", ["-n"], { input: ud });
      expect(syntax.stderr.toString()).toBe("");
      expect(syntax.status).toBe(0);
    }
    const ds = ofType(res, "aws:ec2/instance:Instance")[0];
    expect(String(ds.inputs.userData)).toContain(`SEED_INVOICES='${plan.nodes[0].image.buildArgs.SEED_INVOICES}'`);
    const backend = ofType(res, "aws:ec2/instance:Instance")[1];
    expect(String(backend.inputs.userData)).toContain("10.0.0.10 datastore # drills-node");
  });

  it("gives a public address to the proxy only (and the backend where the API has its own origin); the rest is private", () => {
    const instances = ofType(res, "aws:ec2/instance:Instance");
    const isPublic = Object.fromEntries(instances.map((i) => [i.name.split("-").pop() as string, i.inputs.associatePublicIpAddress]));
    expect(isPublic).toEqual({ datastore: false, backend: plan.apiUrl !== undefined, proxy: true });
    for (const i of instances) expect(i.inputs.subnetId).toBe(i.inputs.associatePublicIpAddress ? "subnet-b1" : `${stack}-private-id`);
    // The private subnet goes out through a NAT gateway in the public one; nothing routes in.
    const [nat] = ofType(res, "aws:ec2/natGateway:NatGateway");
    expect(nat.inputs.subnetId).toBe("subnet-b1");
    const priv = ofType(res, "aws:ec2/subnet:Subnet").find((x) => x.name === `${stack}-private`)!;
    expect(priv.inputs.mapPublicIpOnLaunch).toBe(false);
    const rt = ofType(res, "aws:ec2/routeTable:RouteTable").find((x) => x.name === `${stack}-private-rt`)!;
    expect(rt.inputs.routes).toEqual([expect.objectContaining({ cidrBlock: "0.0.0.0/0", natGatewayId: `${stack}-nat-id` })]);
  });

  it("opens SSH and the app only to allowedCidr on the proxy, SSH to the others only from the proxy, the API to the proxy, the datastore to the backend", () => {
    const sg = (role: string) => `${stack}-${role}-sg-id`;
    const rules = ofType(res, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs as unknown as Rule);
    expect(rules.filter((r) => r.cidrIpv4 === "0.0.0.0/0")).toEqual([]);
    const ssh = rules.filter((r) => r.fromPort === 22);
    expect(ssh).toHaveLength(3);
    expect(ssh).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ securityGroupId: sg("datastore"), referencedSecurityGroupId: sg("proxy") }),
        expect.objectContaining({ securityGroupId: sg("backend"), referencedSecurityGroupId: sg("proxy") }),
        expect.objectContaining({ securityGroupId: sg("proxy"), cidrIpv4: CIDR }),
      ]),
    );
    expect(rules.filter((r) => r.fromPort === 22 && r.securityGroupId !== sg("proxy")).every((r) => r.cidrIpv4 === undefined)).toBe(true);
    const dbPort = plan.nodes[0].ports[0].internal;
    const ds = rules.filter((r) => r.securityGroupId === sg("datastore"));
    expect(ds).toHaveLength(2);
    expect(ds).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fromPort: 22, referencedSecurityGroupId: sg("proxy") }),
        expect.objectContaining({ fromPort: dbPort, referencedSecurityGroupId: sg("backend") }),
      ]),
    );
    expect(rules).toContainEqual(expect.objectContaining({ securityGroupId: sg("proxy"), fromPort: 80, cidrIpv4: CIDR }));
    expect(rules).toContainEqual(expect.objectContaining({ securityGroupId: sg("backend"), fromPort: 3000, referencedSecurityGroupId: sg("proxy") }));
    const apiOpen = rules.some((r) => r.securityGroupId === sg("backend") && r.fromPort === 3000 && r.cidrIpv4 === CIDR);
    expect(apiOpen).toBe(plan.apiUrl !== undefined);
    const egress = ofType(res, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    expect(egress.map((e) => e.inputs.securityGroupId).sort()).toEqual([sg("backend"), sg("datastore"), sg("proxy")]);
  });

  it("writes the stack's public key for the on-call user in every node's user data", () => {
    for (const i of ofType(res, "aws:ec2/instance:Instance")) {
      const ud = String(i.inputs.userData);
      expect(ud).toContain("printf '%s\\n' 'ssh-ed25519 AAAA' >/home/oncall/.ssh/authorized_keys");
      expect(ud).not.toContain("PRIVATE");
    }
  });

  it("generates a key pair and exports the private key only as a secret", async () => {
    expect(ofType(res, "tls:index/privateKey:PrivateKey")).toHaveLength(1);
    expect(ofType(res, "aws:ec2/keyPair:KeyPair")[0].inputs.publicKey).toBe("ssh-ed25519 AAAA");
    const key = level.sshPrivateKey as pulumi.Output<string>;
    expect(await (key as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
  });

  it("keeps role sources in a private bucket readable only by the nodes' role", () => {
    const pab = ofType(res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs;
    expect(pab).toEqual(expect.objectContaining({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }));
    expect(ofType(res, "aws:s3/bucketObjectv2:BucketObjectv2")).toHaveLength(3);
    const policy = JSON.parse(String(ofType(res, "aws:iam/rolePolicy:RolePolicy")[0].inputs.policy));
    expect(policy.Statement).toEqual([{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${stack}-src-bucket/roles/*` }]);
  });

  it("runs each fault action over SSH on its node, in order, after every node is ready", async () => {
    const ready = ofType(res, "command:remote:Command").filter((c) => c.name.endsWith("-ready"));
    expect(ready.map((r) => r.name)).toEqual([`${stack}-datastore-ready`, `${stack}-backend-ready`, `${stack}-proxy-ready`]);
    for (const r of ready) expect(String(r.inputs.create)).toContain("cloud-init status --wait");
    for (const r of ready) {
      const conn = (r.inputs.connection as { value: { host: string; proxy?: { host: string } } }).value;
      const role = r.name.replace(/-ready$/, "").split("-").pop() as string;
      expect(conn.host).toBe(role === "proxy" ? publicIp("x-proxy") : privateIp(`x-${role}`));
      expect(conn.proxy?.host).toBe(role === "proxy" ? undefined : publicIp("x-proxy"));
    }
    const actions = ofType(res, "command:remote:Command").filter((c) => c.name.includes("-action-"));
    expect(actions.map((a) => a.name)).toEqual(plan.actions.map((a) => `${stack}-action-${a.id}`));
    const resolved = await value((level as unknown as { nodes: pulumi.Output<unknown> }).nodes);
    expect(resolved).toBeDefined();
    actions.forEach((a, i) => {
      const action = plan.actions[i];
      expect(a.inputs.create).toBe("sudo bash -s");
      expect(String(a.inputs.stdin)).not.toMatch(/\{\{/);
      // The connection holds the private key, so Pulumi keeps all of it secret.
      const wrapped = a.inputs.connection as { [SECRET_SIG]: string; value: { host: string; user: string } };
      expect(wrapped[SECRET_SIG]).toBe(SECRET_VALUE);
      // The proxy directly, every other node by its private address through the proxy (bastion).
      if (action.node === "proxy") {
        expect(wrapped.value.host).toBe(publicIp("x-proxy"));
        expect((wrapped.value as { proxy?: unknown }).proxy).toBeUndefined();
      } else {
        expect(wrapped.value.host).toBe(privateIp(`x-${action.node}`));
        expect((wrapped.value as unknown as { proxy: { host: string; user: string } }).proxy).toEqual(expect.objectContaining({ host: publicIp("x-proxy"), user: "admin" }));
      }
      expect(wrapped.value.user).toBe("admin");
      const deps = (optsByName.get(a.name)?.dependsOn ?? []) as pulumi.Resource[];
      expect(deps).toHaveLength(i === 0 ? 3 : 1);
    });
  });

  it("outputs the app URL on the proxy's public address and ssh commands", async () => {
    expect(await value(level.appUrl)).toBe("http://198.51.100.12/");
    const nodes = await value(level.nodes);
    const ssh = `ssh -i .drills/keys/${stack}/id_ed25519 -o UserKnownHostsFile=.drills/keys/${stack}/known_hosts -o StrictHostKeyChecking=accept-new`;
    expect(nodes.proxy.access).toBe(`${ssh} oncall@198.51.100.12`);
    expect(nodes.datastore.access).toBe(`${ssh} -o ProxyCommand="${ssh} -W %h:%p oncall@198.51.100.12" oncall@datastore`);
    const brief = await value(level.brief);
    expect(brief).toContain("pulumi stack output --stack");
    expect(brief).not.toContain("npx drills up");
  });
});

describe("aws specifics", () => {
  it("bad-cors: the API has its own public origin, and the proxy points the front end at it", async () => {
    const { res, level } = await render("bad-cors", {});
    const proxy = ofType(res, "aws:ec2/instance:Instance").find((i) => i.name.endsWith("-proxy"))!;
    expect(String(proxy.inputs.userData)).toContain("API_BASE='http://198.51.100.11:3000'");
    const backend = ofType(res, "aws:ec2/instance:Instance").find((i) => i.name.endsWith("-backend"))!;
    expect(String(backend.inputs.userData)).toContain("CORS_ORIGIN='https://app.staging.drills.internal'");
    expect(await value(level.apiUrl)).toBe("http://198.51.100.11:3000/");
  });

  it("disk-full: the uploads volume is its own small encrypted EBS volume, mounted by user data", async () => {
    const { res } = await render("disk-full", { ttlHours: "2", player: "alice", backendInstanceType: "t3.medium" });
    const vols = ofType(res, "aws:ebs/volume:Volume");
    expect(vols).toHaveLength(1);
    expect(vols[0].inputs).toEqual(expect.objectContaining({ size: 1, encrypted: true, availabilityZone: "eu-west-1b" }));
    expect(ofType(res, "aws:ec2/volumeAttachment:VolumeAttachment")).toHaveLength(1);
    const backend = ofType(res, "aws:ec2/instance:Instance").find((i) => i.name.endsWith("-backend"))!;
    expect(backend.inputs.instanceType).toBe("t3.medium");
    expect((backend.inputs.tags as Record<string, string>)["drills:player"]).toBe("alice");
    const ud = String(backend.inputs.userData);
    expect(ud).toContain("nvme-Amazon_Elastic_Block_Store_");
    expect(ud).toContain("/var/lib/drills/uploads");
    // The filesystem on it has the fault's cap, as on Docker.
    expect(ud).toContain('mkfs.ext4 -q -m 0 "$dev" 64M');
    expect(ud).toContain("date -u -d '+120 minutes'");
  });

  it("vpc=new builds a VPC, a public subnet and a route to an internet gateway", async () => {
    const { res } = await render("baseline", { vpc: "new" });
    expect(ofType(res, "aws:ec2/vpc:Vpc")).toHaveLength(1);
    expect(ofType(res, "aws:ec2/subnet:Subnet")[0].inputs.mapPublicIpOnLaunch).toBe(true);
    expect(ofType(res, "aws:ec2/internetGateway:InternetGateway")).toHaveLength(1);
  });
});

/** Name of the resource a resource was parented to (the SDK keeps it as __name). */
const parentOf = (name: string): string | undefined => (optsByName.get(name)?.parent as unknown as { __name?: string } | undefined)?.__name;

describe("aws structure and lifecycle", () => {
  let res: Created[];
  const stack = "aws-disk-full";
  beforeAll(async () => {
    ({ res } = await render("disk-full"));
  });

  it("is made of typed components: Network, SecurityGroups, Sources, one Node per role, FaultActions", () => {
    const comps = res.filter((c) => c.type.startsWith("drills:aws:")).map((c) => `${c.type} ${c.name}`);
    expect(comps).toEqual(
      expect.arrayContaining([
        `drills:aws:AwsTarget ${stack}`,
        `drills:aws:Network ${stack}`,
        `drills:aws:SecurityGroups ${stack}`,
        `drills:aws:Sources ${stack}`,
        `drills:aws:Node ${stack}-datastore`,
        `drills:aws:Node ${stack}-backend`,
        `drills:aws:Node ${stack}-proxy`,
        `drills:aws:FaultActions ${stack}`,
      ]),
    );
  });

  it("parents rules to their group, objects to the bucket, attachments to their instance", () => {
    for (const r of ofType(res, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
      expect(parentOf(r.name)).toBe(`${stack}-${r.name.split("-in-")[0].split("-").pop()}-sg`);
    }
    for (const r of ofType(res, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")) expect(parentOf(r.name)).toBe(r.name.replace(/-egress$/, "-sg"));
    for (const o of ofType(res, "aws:s3/bucketObjectv2:BucketObjectv2")) expect(parentOf(o.name)).toBe(`${stack}-src`);
    expect(parentOf(`${stack}-node-src`)).toBe(`${stack}-node`); // the policy under its role
    const [att] = ofType(res, "aws:ec2/volumeAttachment:VolumeAttachment");
    expect(parentOf(att.name)).toBe(`${stack}-backend`);
    expect(ofType(res, "aws:ec2/instance:Instance").map((i) => parentOf(i.name))).toEqual([`${stack}-datastore`, `${stack}-backend`, `${stack}-proxy`]);
  });

  it("boots each instance only after its role policy and sources exist; a newer AMI never replaces it", () => {
    for (const i of ofType(res, "aws:ec2/instance:Instance")) {
      const o = optsByName.get(i.name)!;
      const deps = (o.dependsOn as pulumi.Resource[]).map((d) => (d as unknown as { __name: string }).__name);
      expect(deps).toEqual(expect.arrayContaining([`${stack}-node-src`, `${stack}-proxy-src`, `${stack}-backend-src`, `${stack}-datastore-src`]));
      expect(o.ignoreChanges).toEqual(expect.arrayContaining(["ami"]));
    }
    expect(invoked.some((c) => c.token === "getAmi")).toBe(true);
  });

  it("detaches the disk-full volume before attaching it to a replacement, from a stopped instance", () => {
    const [att] = ofType(res, "aws:ec2/volumeAttachment:VolumeAttachment");
    expect(att.inputs.stopInstanceBeforeDetaching).toBe(true);
    expect((optsByName.get(att.name) as pulumi.CustomResourceOptions).deleteBeforeReplace).toBe(true);
  });

  it("re-runs readiness and fault commands when their instance is replaced (triggers: instance id)", () => {
    const cmds = ofType(res, "command:remote:Command");
    for (const c of cmds.filter((x) => x.name.endsWith("-ready"))) expect(c.inputs.triggers).toEqual([`${c.name.replace(/-ready$/, "")}-id`]);
    const actions = cmds.filter((x) => x.name.includes("-action-"));
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect((a.inputs.triggers as string[])[0]).toMatch(new RegExp(`^${stack}-(datastore|backend|proxy)-id$`));
    // Only the entry node is reached from this machine.
    const reach = ofType(res, "command:local:Command");
    expect(reach.map((r) => r.name)).toEqual([`${stack}-proxy-reach`]);
    for (const r of reach) expect(r.inputs.environment).toEqual(expect.objectContaining({ ALLOWED_CIDR: CIDR }));
  });

  it("puts the level in a zone offering all three types, without opt-in, and the default subnet of that zone", () => {
    const offer = invoked.filter((c) => c.token === "getInstanceTypeOfferings").pop()!;
    expect(offer.inputs).toEqual(expect.objectContaining({ locationType: "availability-zone" }));
    expect(invoked.filter((c) => c.token === "getAvailabilityZones").pop()!.inputs.filters).toEqual([{ name: "opt-in-status", values: ["opt-in-not-required"] }]);
    const subnets = invoked.filter((c) => c.token === "getSubnets").pop()!;
    expect(subnets.inputs.filters).toContainEqual({ name: "availability-zone", values: ["eu-west-1b"] });
    for (const i of ofType(res, "aws:ec2/instance:Instance")) expect(i.inputs.subnetId).toBe(i.name.endsWith("-proxy") ? "subnet-b1" : `${stack}-private-id`);
    expect(ofType(res, "aws:ec2/subnet:Subnet").find((x) => x.name === `${stack}-private`)!.inputs.cidrBlock).toMatch(/^172\.31\.(1[3-9]\d|2[0-5]\d|128)\.0\/24$/);
  });
});

describe("aws options and outputs", () => {
  it("a pinned AMI (drills:ami) is used as is, without looking one up", async () => {
    const before = invoked.filter((c) => c.token === "getAmi").length;
    const { res } = await render("baseline", { ami: "ami-0123456789abcdef0" });
    for (const i of ofType(res, "aws:ec2/instance:Instance")) expect(i.inputs.ami).toBe("ami-0123456789abcdef0");
    expect(invoked.filter((c) => c.token === "getAmi").length).toBe(before);
    expect(() => parseOptions({ level: "baseline", target: "aws", allowedCidr: CIDR, ami: "debian-12" }, levelIds())).toThrow(/drills:ami/);
  });

  it("vpc=new puts its subnet in the chosen zone", async () => {
    const { res } = await render("baseline", { vpc: "new", stack: "aws-newvpc" } as RawOptions);
    for (const sub of ofType(res, "aws:ec2/subnet:Subnet")) expect(sub.inputs.availabilityZone).toBe("eu-west-1b");
    expect(ofType(res, "aws:ec2/subnet:Subnet").map((x) => x.inputs.cidrBlock)).toEqual(["10.89.1.0/24", "10.89.2.0/24"]);
  });

  it("the nodes output names instances and public host:port, not containers", async () => {
    const { level } = await render("baseline");
    const nodes = await value(level.nodes);
    expect(nodes.proxy).toEqual({
      instance: "drills-aws-baseline-proxy",
      access: "ssh -i .drills/keys/aws-baseline/id_ed25519 -o UserKnownHostsFile=.drills/keys/aws-baseline/known_hosts -o StrictHostKeyChecking=accept-new oncall@198.51.100.12",
      ports: { http: "198.51.100.12:80", ssh: "198.51.100.12:22" },
    });
    // A private node shows its private address: reachable from the proxy only.
    expect(nodes.datastore.ports).toEqual({ postgres: "10.0.0.10:5432" });
    expect(JSON.stringify(nodes)).not.toContain("127.0.0.1");
    expect(JSON.stringify(nodes)).not.toContain("container");
  });
});

describe("zone choice (pure)", () => {
  const offers = (m: Record<string, string[]>) => {
    const pairs = Object.entries(m).flatMap(([t, zs]) => zs.map((z) => [t, z]));
    return { instanceTypes: pairs.map((p) => p[0]), locations: pairs.map((p) => p[1]) };
  };
  it("takes the first zone, by name, offering every type and needing no opt-in", () => {
    const { chooseZone } = jest.requireActual("../../components/aws/network") as typeof import("../../components/aws/network");
    expect(chooseZone(["t3.micro", "t3.small"], offers({ "t3.micro": ["z-c", "z-a", "z-lz"], "t3.small": ["z-c", "z-lz"] }), ["z-a", "z-c"])).toBe("z-c");
    expect(chooseZone(["t3.small"], offers({ "t3.small": ["z-b", "z-a"] }), ["z-b", "z-a"])).toBe("z-a");
    expect(() => chooseZone(["t3.micro", "m5.large"], offers({ "t3.micro": ["z-a"], "m5.large": ["z-b"] }), ["z-a", "z-b"])).toThrow(
      /no availability zone of this region offers all of t3.micro, m5.large without opt-in \(offered: t3.micro in z-a; m5.large in z-b\)/,
    );
  });
});

describe("reachability check (runs the real script with bash)", () => {
  const { REACH_SCRIPT } = jest.requireActual("../../components/aws/node") as typeof import("../../components/aws/node");
  it("passes when SSH's port answers, and names allowedCidr when it does not", async () => {
    const net = await import("net");
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const open = (server.address() as { port: number }).port;
    const ok = spawnSync("bash", ["-c", REACH_SCRIPT], { env: { ...process.env, HOST: "127.0.0.1", PORT: String(open), DEADLINE: "5", ALLOWED_CIDR: CIDR } });
    server.close();
    expect(ok.status).toBe(0);
    const closed = spawnSync("bash", ["-c", REACH_SCRIPT], { env: { ...process.env, HOST: "127.0.0.1", PORT: String(open), DEADLINE: "0", ALLOWED_CIDR: CIDR } });
    expect(closed.status).toBe(1);
    expect(closed.stderr.toString()).toContain(`cannot reach 127.0.0.1:${open} (SSH) from this machine`);
    expect(closed.stderr.toString()).toContain(`inside drills:allowedCidr (${CIDR})`);
  });
});
