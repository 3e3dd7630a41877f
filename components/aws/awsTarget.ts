import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { stageImage } from "../../images/context";
import { Endpoints, hasTokens, originToken, resolvePlan, resolveString } from "../../plan/endpoints";
import { AwsOptions } from "../../plan/options";
import { LevelPlan, Role } from "../../plan/types";
import { roleBundle } from "./bundle";
import { ingressRules } from "./securityRules";
import { renderUserData } from "./userData";

export interface AwsTargetArgs {
  /** The level plan, endpoints unresolved: this target resolves them to public addresses. */
  plan: LevelPlan;
  aws: AwsOptions;
}

/** Debian's official AWS account: the Debian 12 AMIs. */
export const DEBIAN_OWNER = "136693071363";
/** The login user of Debian's cloud images. */
export const SSH_USER = "admin";

/** Size in GiB of a node's root disk, and of a dedicated volume (EBS's smallest is 1 GiB). */
const ROOT_GIB: Record<Role, number> = { proxy: 8, backend: 8, datastore: 16 };
const VOLUME_GIB = 1;

/**
 * Renders a level plan on AWS EC2: a network, one security group per role, a
 * generated key pair, the role sources in a private bucket, one Debian 12
 * instance per node whose user data runs the role's provisioning script,
 * then the fault actions over SSH once every node answers its healthcheck.
 */
export class AwsTarget extends pulumi.ComponentResource {
  /** The plan with public addresses and SSH commands, once every node is ready and every action ran. */
  public readonly resolved: pulumi.Output<LevelPlan>;
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

    // Network: the account's default VPC, or a small public one of the level's own.
    let vpcId: pulumi.Output<string>;
    let subnetId: pulumi.Output<string>;
    if (o.vpc === "default") {
      vpcId = aws.ec2.getVpcOutput({ default: true }, parent).id;
      subnetId = aws.ec2
        .getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpcId] }, { name: "default-for-az", values: ["true"] }] }, parent)
        .ids.apply((ids) => {
          if (ids.length === 0) throw new Error("the default VPC has no default subnet; set drills:vpc to new");
          return [...ids].sort()[0];
        });
    } else {
      const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: "10.89.0.0/16", enableDnsHostnames: true, tags: { ...tags, Name: plan.prefix } }, parent);
      const az = aws.getAvailabilityZonesOutput({ state: "available" }, parent).names[0];
      const subnet = new aws.ec2.Subnet(
        `${name}-subnet`,
        { vpcId: vpc.id, cidrBlock: "10.89.1.0/24", availabilityZone: az, mapPublicIpOnLaunch: true, tags: { ...tags, Name: plan.prefix } },
        parent,
      );
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, parent);
      const rt = new aws.ec2.RouteTable(`${name}-rt`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-rta`, { subnetId: subnet.id, routeTableId: rt.id }, parent);
      vpcId = vpc.id;
      subnetId = subnet.id;
    }
    const az = aws.ec2.getSubnetOutput({ id: subnetId }, parent).availabilityZone;

    // One security group per role; rules as separate resources, egress explicit
    // (a group created by the provider has none).
    const sgs = {} as Record<Role, aws.ec2.SecurityGroup>;
    for (const n of plan.nodes) {
      sgs[n.role] = new aws.ec2.SecurityGroup(
        `${name}-${n.role}-sg`,
        { vpcId, description: `drills ${plan.stack} ${n.role}`, tags: { ...tags, Name: `${n.name}` } },
        parent,
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${n.role}-egress`,
        { securityGroupId: sgs[n.role].id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "packages (apt) and the role's sources (S3)" },
        parent,
      );
    }
    for (const r of ingressRules(plan, o.allowedCidr)) {
      const src = "cidr" in r.from ? `cidr` : r.from.role;
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${r.role}-in-${r.port}-${src}`,
        {
          securityGroupId: sgs[r.role].id,
          ipProtocol: "tcp",
          fromPort: r.port,
          toPort: r.port,
          description: r.description,
          ...("cidr" in r.from ? { cidrIpv4: r.from.cidr } : { referencedSecurityGroupId: sgs[r.from.role].id }),
        },
        parent,
      );
    }

    // A key for this level only; the private half leaves only as a secret output.
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ED25519" }, parent);
    const keyPair = new aws.ec2.KeyPair(`${name}-key`, { keyName: plan.prefix, publicKey: key.publicKeyOpenssh, tags }, parent);
    this.privateKey = pulumi.secret(key.privateKeyOpenssh);

    // Role sources in a private bucket; instances read them with their role.
    const bucket = new aws.s3.Bucket(`${name}-src`, { bucketPrefix: `${plan.prefix.slice(0, 30)}-`, forceDestroy: true, tags }, parent);
    const block = new aws.s3.BucketPublicAccessBlock(
      `${name}-src`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    const objects = new Map<Role, aws.s3.BucketObjectv2>();
    const sourceKey = new Map<Role, string>();
    for (const n of plan.nodes) {
      const staged = stageImage(n.image);
      sourceKey.set(n.role, `roles/${n.role}-${staged.hash}.tar.gz`);
      objects.set(
        n.role,
        new aws.s3.BucketObjectv2(
          `${name}-${n.role}-src`,
          {
            bucket: bucket.id,
            key: sourceKey.get(n.role) as string,
            source: new pulumi.asset.FileAsset(roleBundle(staged)),
            serverSideEncryption: "AES256",
            tags,
          },
          { parent: this, dependsOn: [block] },
        ),
      );
    }
    const role = new aws.iam.Role(
      `${name}-node`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-node-src`,
      {
        role: role.id,
        policy: bucket.arn.apply((arn) =>
          JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `${arn}/roles/*` }] }),
        ),
      },
      parent,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-node`, { role: role.name, tags }, parent);
    const region = aws.getRegionOutput({}, parent).region;

    const ami = aws.ec2.getAmiOutput(
      {
        owners: [DEBIAN_OWNER],
        mostRecent: true,
        filters: [
          { name: "name", values: ["debian-12-amd64-*"] },
          { name: "architecture", values: ["x86_64"] },
          { name: "virtualization-type", values: ["hvm"] },
        ],
      },
      parent,
    );

    // Instances in plan order: each knows the nodes before it by name (/etc/hosts)
    // and by public origin (endpoint placeholders in its settings).
    const expires = new Date(Date.now() + o.ttlHours * 3600_000).toISOString();
    const ports = Object.fromEntries(plan.nodes.map((n) => [n.role, String(n.ports[0].internal)])) as Record<Role, string>;
    const origin = (ip: string, role: Role): string => `http://${ip}${ports[role] === "80" ? "" : `:${ports[role]}`}`;
    const earlier: Array<{ role: Role; instance: aws.ec2.Instance }> = [];
    const ready: command.remote.Command[] = [];
    const connection = (inst: aws.ec2.Instance): command.types.input.remote.ConnectionArgs => ({
      host: inst.publicIp,
      user: SSH_USER,
      privateKey: key.privateKeyOpenssh,
      dialErrorLimit: 60,
      perDialTimeout: 10,
    });

    for (const n of plan.nodes) {
      const volumes = n.volumes
        .filter((v) => v.sizeMiB !== undefined)
        .map((v) => ({
          target: v.target,
          volume: new aws.ebs.Volume(
            `${name}-${n.role}-vol-${v.name.replace(`${plan.prefix}-`, "")}`,
            { availabilityZone: az, size: VOLUME_GIB, type: "gp3", encrypted: true, tags: { ...tags, Name: v.name } },
            parent,
          ),
        }));
      const before = [...earlier];
      const userData = pulumi
        .all([
          pulumi.all(before.map((e) => e.instance.privateIp)),
          pulumi.all(before.map((e) => e.instance.publicIp)),
          pulumi.all(volumes.map((v) => v.volume.id)),
          bucket.bucket,
          region,
        ])
        .apply(([privateIps, publicIps, volumeIds, bucketName, regionName]) => {
          const e = endpointsOf(plan, before.map((b) => b.role), publicIps, origin, ports);
          const env = Object.fromEntries(
            Object.entries(n.env).map(([k, v]) => {
              const r = resolveString(v, e);
              if (hasTokens(r)) throw new Error(`plan ${plan.stack}: ${n.role} setting ${k} refers to a node created after it (${v})`);
              return [k, r];
            }),
          );
          return renderUserData({
            role: n.role,
            env,
            buildArgs: n.image.buildArgs,
            hosts: Object.fromEntries(before.map((b, i) => [b.role, privateIps[i]])),
            volumes: volumes.map((v, i) => ({ volumeId: volumeIds[i], target: v.target })),
            ttlHours: o.ttlHours,
            source: { kind: "s3", bucket: bucketName, key: sourceKey.get(n.role) as string, region: regionName },
          });
        });
      const instance = new aws.ec2.Instance(
        `${name}-${n.role}`,
        {
          ami: ami.id,
          instanceType: o.instanceTypes[n.role],
          subnetId,
          vpcSecurityGroupIds: [sgs[n.role].id],
          associatePublicIpAddress: true,
          keyName: keyPair.keyName,
          iamInstanceProfile: profile.name,
          userData,
          userDataReplaceOnChange: true,
          metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
          rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: ROOT_GIB[n.role], deleteOnTermination: true },
          instanceInitiatedShutdownBehavior: "terminate",
          tags: { ...tags, Name: n.name, "drills:role": n.role, "drills:expires": expires },
        },
        { parent: this, dependsOn: [...objects.values()], ignoreChanges: ['tags["drills:expires"]', 'tagsAll["drills:expires"]'] },
      );
      const attachments = volumes.map(
        (v, i) =>
          new aws.ec2.VolumeAttachment(
            `${name}-${n.role}-attach-${i}`,
            { instanceId: instance.id, volumeId: v.volume.id, deviceName: `/dev/sd${String.fromCharCode(102 + i)}` },
            parent,
          ),
      );
      // Ready: cloud-init finished (the provisioning script ran) and the role's healthcheck passes.
      ready.push(
        new command.remote.Command(
          `${name}-${n.role}-ready`,
          {
            connection: connection(instance),
            create:
              "sudo cloud-init status --wait >/dev/null || { sudo tail -n 40 /var/log/drills-user-data.log; exit 1; }; " +
              "for _ in $(seq 1 120); do sudo /usr/local/bin/drills-health >/dev/null 2>&1 && exit 0; sleep 5; done; " +
              "echo 'healthcheck never passed' >&2; exit 1",
          },
          { parent: this, dependsOn: [instance, ...attachments, ...ready] },
        ),
      );
      this.instances[n.role] = instance;
      earlier.push({ role: n.role, instance });
    }

    // Fault actions over SSH, in order, once every node is ready.
    const publicIps = pulumi.all(plan.nodes.map((n) => (this.instances[n.role] as aws.ec2.Instance).publicIp));
    const resolvedBase = publicIps.apply((ips) => {
      const e = endpointsOf(plan, plan.nodes.map((n) => n.role), ips, origin, ports);
      const access = Object.fromEntries(plan.nodes.map((n, i) => [n.role, `ssh -i ${plan.prefix}.pem ${SSH_USER}@${ips[i]}`])) as Record<Role, string>;
      return resolvePlan(plan, e, access);
    });
    let previous: pulumi.Resource[] = ready;
    const actions: command.remote.Command[] = [];
    plan.actions.forEach((a, i) => {
      const inst = this.instances[a.node];
      if (!inst) throw new Error(`plan ${plan.stack}: action ${a.id} runs on ${a.node}, which the plan lacks`);
      const cmd = new command.remote.Command(
        `${name}-action-${a.id}`,
        { connection: connection(inst), create: "sudo bash -s", stdin: resolvedBase.apply((p) => p.actions[i].script) },
        { parent: this, dependsOn: previous },
      );
      previous = [cmd];
      actions.push(cmd);
    });

    const done = pulumi.all([...ready, ...actions].map((c) => c.stdout));
    this.resolved = pulumi.all([resolvedBase, done]).apply(([p]) => p);
    this.registerOutputs({ resolved: this.resolved, privateKey: this.privateKey });
  }
}

/** Endpoints of the roles known so far; later roles keep only their port. */
function endpointsOf(
  plan: LevelPlan,
  roles: Role[],
  publicIps: string[],
  origin: (ip: string, role: Role) => string,
  ports: Record<Role, string>,
): Endpoints {
  const o = {} as Record<Role, string>;
  roles.forEach((r, i) => (o[r] = origin(publicIps[i], r)));
  // Not created yet: keep the placeholder, so a reference to it is caught.
  for (const n of plan.nodes) if (!(n.role in o)) o[n.role] = originToken(n.role);
  return { origin: o, port: ports };
}
