import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { playerKeyFile, sshCommand, SSH_ENTRY, SSH_PORT } from "../../plan/app";
import { Endpoints, hasTokens, originToken, resolvePlan, resolveString } from "../../plan/endpoints";
import { AwsOptions } from "../../plan/options";
import { LevelPlan, NodeSpec, Role } from "../../plan/types";
import { stageImage } from "../../images/context";
import { BundleSource } from "./bundle";
import { FaultActions } from "./faultActions";
import { Network } from "./network";
import { AwsNode, sshConnection } from "./node";
import { ingressRules, publicRoles, SecurityGroups } from "./securityRules";
import { Sources } from "./sources";
import { renderUserData } from "./userData";

export { SSH_USER } from "./node";

export interface AwsTargetArgs {
  /** The level plan, endpoints unresolved: this target resolves them to public addresses. */
  plan: LevelPlan;
  aws: AwsOptions;
  /**
   * Each role's build inputs as a bundle source. Default: the role image's
   * staged build context (images/context.ts stageImage), as Docker builds it.
   */
  bundleSource?: (node: NodeSpec) => BundleSource;
}

/** A node as a player reaches it on AWS: the Name tag, an SSH command (through the entry node), host:port per port. */
export interface AwsNodeAccess {
  instance: string;
  access: string;
  ports: Record<string, string>;
}

/** Debian's official AWS account: the Debian 12 AMIs. */
export const DEBIAN_OWNER = "136693071363";

/** The latest Debian 12 x86_64 AMI, unless one is pinned (drills:ami). */
export function debianAmi(pinned: string | undefined, opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
  if (pinned) return pulumi.output(pinned);
  return aws.ec2.getAmiOutput(
    {
      owners: [DEBIAN_OWNER],
      mostRecent: true,
      filters: [
        { name: "name", values: ["debian-12-amd64-*"] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
      ],
    },
    opts,
  ).id;
}

/**
 * Renders a level plan on AWS EC2: a network (Network), one security group
 * per role (SecurityGroups), a generated key pair, the role sources in a
 * private bucket with the instance role that reads them (Sources), one
 * Debian 12 instance per node whose user data runs the role's provisioning
 * script (AwsNode), then the fault actions over SSH once every node answers
 * its healthcheck (FaultActions).
 */
export class AwsTarget extends pulumi.ComponentResource {
  /** The plan with public addresses and SSH commands, once every node is ready and every action ran. */
  public readonly resolved: pulumi.Output<LevelPlan>;
  /** Per role: how a player reaches the node. */
  public readonly nodes: pulumi.Output<Record<string, AwsNodeAccess>>;
  /** The generated SSH key (secret). */
  public readonly privateKey: pulumi.Output<string>;
  public readonly instances: Partial<Record<Role, aws.ec2.Instance>> = {};

  constructor(name: string, args: AwsTargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:aws:AwsTarget", name, {}, opts);
    const { plan, aws: o } = args;
    const parent = { parent: this };
    const tags = {
      "drills:level": plan.level,
      "drills:stack": plan.stack,
      "drills:player": o.player,
      "drills:ttl-hours": String(o.ttlHours),
    };

    const network = new Network(name, { stack: plan.stack, vpc: o.vpc, instanceTypes: plan.nodes.map((n) => o.instanceTypes[n.role]), nameTag: plan.prefix, tags }, parent);
    const firewall = new SecurityGroups(
      name,
      { vpcId: network.vpcId, nodes: plan.nodes, rules: ingressRules(plan, o.allowedCidr), description: `drills ${plan.stack}`, tags },
      parent,
    );

    // A key for this level only; the private half leaves only as a secret output.
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ED25519" }, parent);
    const keyPair = new aws.ec2.KeyPair(`${name}-key`, { keyName: plan.prefix, publicKey: key.publicKeyOpenssh, tags }, { parent: key });
    this.privateKey = pulumi.secret(key.privateKeyOpenssh);

    const bundleSource = args.bundleSource ?? ((n: NodeSpec) => stageImage(n.image));
    const sources = new Sources(name, { bundles: plan.nodes.map(bundleSource), bucketPrefix: plan.prefix, tags }, parent);
    const region = aws.getRegionOutput({}, parent).region;
    const ami = debianAmi(o.ami, parent);

    // Instances in plan order: each knows the nodes before it by name (/etc/hosts)
    // and by origin (endpoint placeholders in its settings). Only the entry node
    // (and an API with its own origin) gets a public address.
    const expires = new Date(Date.now() + o.ttlHours * 3600_000).toISOString();
    const exposed = new Set(publicRoles(plan));
    const ports = Object.fromEntries(plan.nodes.map((n) => [n.role, String(n.ports[0].internal)])) as Record<Role, string>;
    const origin = (ip: string, role: Role): string => `http://${ip}${ports[role] === "80" ? "" : `:${ports[role]}`}`;
    const addressOf = (role: Role, i: aws.ec2.Instance): pulumi.Output<string> => (exposed.has(role) ? i.publicIp : i.privateIp);
    const earlier: Array<{ role: Role; instance: aws.ec2.Instance }> = [];
    const nodes: Array<{ role: Role; node: AwsNode }> = [];
    for (const n of plan.nodes) {
      const before = [...earlier];
      const userData = (volumeIds: pulumi.Output<string[]>) =>
        pulumi
          .all([
            pulumi.all(before.map((e) => e.instance.privateIp)),
            pulumi.all(before.map((e) => addressOf(e.role, e.instance))),
            volumeIds,
            sources.bucketName,
            region,
            key.publicKeyOpenssh,
          ])
          .apply(([privateIps, addresses, ids, bucketName, regionName, playerKey]) => {
            const e = endpointsOf(plan, before.map((b) => b.role), addresses, origin, ports);
            const env = Object.fromEntries(
              Object.entries(n.env).map(([k, v]) => {
                const r = resolveString(v, e);
                if (hasTokens(r)) throw new Error(`plan ${plan.stack}: ${n.role} setting ${k} refers to a node created after it (${v})`);
                return [k, r];
              }),
            );
            const sized = n.volumes.filter((v) => v.sizeMiB !== undefined);
            return renderUserData({
              role: n.role,
              env,
              buildArgs: n.image.buildArgs,
              hosts: Object.fromEntries(before.map((b, i) => [b.role, privateIps[i]])),
              volumes: ids.map((volumeId, i) => ({ volumeId, target: sized[i].target, sizeMiB: sized[i].sizeMiB })),
              ttlHours: o.ttlHours,
              source: { kind: "s3", bucket: bucketName, key: sources.keys[n.role] as string, region: regionName },
              playerKey,
            });
          });
      const isPublic = exposed.has(n.role);
      const node = new AwsNode(
        `${name}-${n.role}`,
        {
          node: n,
          prefix: plan.prefix,
          ami,
          instanceType: o.instanceTypes[n.role],
          subnetId: isPublic ? network.subnetId : network.privateSubnetId,
          availabilityZone: network.availabilityZone,
          securityGroupId: firewall.groups[n.role].id,
          publicAddress: isPublic,
          keyName: keyPair.keyName,
          iamInstanceProfile: sources.profileName,
          userData,
          tags,
          expires,
          // A private node installs packages at boot: its way out must exist first.
          bootAfter: [...sources.objects, sources.policy, ...(isPublic ? [] : [network.privateEgress])],
        },
        parent,
      );
      nodes.push({ role: n.role, node });
      this.instances[n.role] = node.instance;
      earlier.push({ role: n.role, instance: node.instance });
    }

    // Readiness over SSH, in plan order, every node through the entry node as a player would.
    const entry = nodes.find((x) => x.role === SSH_ENTRY)?.node;
    if (!entry) throw new Error(`plan ${plan.stack}: no ${SSH_ENTRY} node to enter by`);
    const entryIp = entry.instance.publicIp;
    const connect = (role: Role): command.types.input.remote.ConnectionArgs => {
      const inst = this.instances[role] as aws.ec2.Instance;
      return role === SSH_ENTRY ? sshConnection(entryIp, key.privateKeyOpenssh) : sshConnection(inst.privateIp, key.privateKeyOpenssh, entryIp);
    };
    const reach = entry.checkReach(o.allowedCidr);
    const ready: command.remote.Command[] = [];
    for (const { role, node } of nodes) ready.push(node.checkReady(connect(role), [reach, ...ready]));

    const addresses = pulumi.all(plan.nodes.map((n) => addressOf(n.role, this.instances[n.role] as aws.ec2.Instance)));
    const resolvedBase = pulumi.all([addresses, entryIp]).apply(([ips, entryAddress]) => {
      const e = endpointsOf(plan, plan.nodes.map((n) => n.role), ips, origin, ports);
      const keyFile = playerKeyFile(plan.stack);
      const access = Object.fromEntries(plan.nodes.map((n) => [n.role, sshCommand(n.role, keyFile, { host: entryAddress, port: SSH_PORT })])) as Record<Role, string>;
      return resolvePlan(plan, e, access);
    });
    const actions = new FaultActions(
      name,
      {
        actions: plan.actions,
        scripts: resolvedBase.apply((p) => p.actions.map((a) => a.script)),
        instances: this.instances,
        connection: connect,
        after: ready,
      },
      parent,
    );

    const done = pulumi.all([...ready, ...actions.commands].map((c) => c.stdout));
    this.resolved = pulumi.all([resolvedBase, done]).apply(([p]) => p);
    this.nodes = pulumi.all([this.resolved, addresses]).apply(([p, ips]) => awsNodeAccess(p, ips));
    this.registerOutputs({ resolved: this.resolved, nodes: this.nodes, privateKey: this.privateKey });
  }
}

/** Per role: the instance's Name tag, its SSH command, and each port on its address (public, or private for a private node). */
export function awsNodeAccess(plan: LevelPlan, addresses: string[]): Record<string, AwsNodeAccess> {
  return Object.fromEntries(
    plan.nodes.map((n, i) => [
      n.role,
      { instance: n.name, access: n.accessCommand, ports: Object.fromEntries(n.ports.map((p) => [p.name, `${addresses[i]}:${p.internal}`])) },
    ]),
  );
}

/** Endpoints of the roles known so far; later roles keep only their port. */
function endpointsOf(
  plan: LevelPlan,
  roles: Role[],
  addresses: string[],
  origin: (ip: string, role: Role) => string,
  ports: Record<Role, string>,
): Endpoints {
  const o = {} as Record<Role, string>;
  roles.forEach((r, i) => (o[r] = origin(addresses[i], r)));
  // Not created yet: keep the placeholder, so a reference to it is caught.
  for (const n of plan.nodes) if (!(n.role in o)) o[n.role] = originToken(n.role);
  return { origin: o, port: ports };
}
