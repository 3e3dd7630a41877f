import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeSpec, Role } from "../../plan/types";

/** The login user of Debian's cloud images. */
export const SSH_USER = "admin";

/** Size in GiB of a node's root disk, and of a dedicated volume (EBS's smallest is 1 GiB). */
export const ROOT_GIB: Record<Role, number> = { proxy: 8, backend: 8, datastore: 16 };
export const VOLUME_GIB = 1;

/**
 * SSH to an instance with the level's key, retried while it boots (60 dials
 * of 10 s): straight to the entry node (`via` unset), to any other node by
 * its private address through the entry node's public one (a bastion, as
 * the player's ProxyJump).
 */
export function sshConnection(
  host: pulumi.Input<string>,
  privateKey: pulumi.Input<string>,
  via?: pulumi.Input<string>,
): command.types.input.remote.ConnectionArgs {
  const conn = { host, user: SSH_USER, privateKey, dialErrorLimit: 60, perDialTimeout: 10 };
  return via === undefined ? conn : { ...conn, proxy: { host: via, user: SSH_USER, privateKey, dialErrorLimit: 60, perDialTimeout: 10 } };
}

/**
 * Run on the machine running `pulumi up` (bash): can it open TCP to
 * $HOST:22 at all? Fault actions SSH in from there, so it must be inside
 * drills:allowedCidr. Retries until $DEADLINE seconds, then says what to do.
 */
export const REACH_SCRIPT = [
  'deadline=$((SECONDS + ${DEADLINE:-300}))',
  'until (exec 3<>"/dev/tcp/$HOST/${PORT:-22}") 2>/dev/null; do',
  '  if [ "$SECONDS" -ge "$deadline" ]; then',
  '    echo "drills: cannot reach $HOST:${PORT:-22} (SSH) from this machine. Fault actions and the readiness check SSH in from the machine running pulumi up," >&2',
  '    echo "so its public address must be inside drills:allowedCidr ($ALLOWED_CIDR). Check your address (e.g. curl https://checkip.amazonaws.com)," >&2',
  '    echo "then: pulumi config set drills:allowedCidr <address>/32 && pulumi up" >&2',
  "    exit 1",
  "  fi",
  "  sleep 5",
  "done",
].join("\n");

/** The node's healthcheck as the plan gives it (a fault may replace the role's own), as one shell command. */
export function healthCommand(n: NodeSpec): string {
  const [form, ...args] = n.healthcheck.command;
  if (form === "CMD-SHELL") return `bash -c ${shellQuote(args.join(" "))}`;
  return args.map(shellQuote).join(" ");
}

const shellQuote = (s: string): string => (/^[A-Za-z0-9_./:=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** Waits for cloud-init (the user data ran), then for the node's healthcheck; shows the user data log's end on failure. */
export function readyScript(n: NodeSpec): string {
  return (
    "sudo cloud-init status --wait >/dev/null || { sudo tail -n 40 /var/log/drills-user-data.log; exit 1; }; " +
    `for _ in $(seq 1 120); do sudo ${healthCommand(n)} >/dev/null 2>&1 && exit 0; sleep 5; done; ` +
    "echo 'healthcheck never passed' >&2; exit 1"
  );
}

export interface AwsNodeArgs {
  /** The plan's node: role, Name tag, volumes to give their own EBS disk. */
  node: NodeSpec;
  /** Prefix of the plan's volume names (stripped from resource names). */
  prefix: string;
  ami: pulumi.Input<string>;
  instanceType: string;
  subnetId: pulumi.Input<string>;
  availabilityZone: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  /** A public address (the entry node; the backend where the API has its own origin); private only otherwise. */
  publicAddress: boolean;
  keyName: pulumi.Input<string>;
  iamInstanceProfile: pulumi.Input<string>;
  /** The user data, given the ids of the node's dedicated volumes (in node.volumes order, sized ones only). */
  userData: (volumeIds: pulumi.Output<string[]>) => pulumi.Input<string>;
  tags: Record<string, string>;
  /** Instance-only tags that change every run (ignored after creation). */
  expires: string;
  /** What must exist before the instance boots (its sources, its role's policy, a private subnet's way out). */
  bootAfter: pulumi.Resource[];
}

/**
 * One node on EC2: its dedicated EBS volumes, the instance, the volume
 * attachments (children of the instance); then (once the entry node
 * exists) a readiness check over SSH (cloud-init done, healthcheck
 * passing), on the entry node preceded by a reachability check from this
 * machine that explains an allowedCidr that leaves it out.
 */
export class AwsNode extends pulumi.ComponentResource {
  public readonly instance: aws.ec2.Instance;
  private readonly attachments: aws.ec2.VolumeAttachment[];
  private readonly baseName: string;
  private readonly node: NodeSpec;

  constructor(name: string, args: AwsNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:aws:Node", name, {}, opts);
    const n = args.node;
    this.node = n;
    const volumes = n.volumes
      .filter((v) => v.sizeMiB !== undefined)
      .map(
        (v) =>
          new aws.ebs.Volume(
            `${name}-vol-${v.name.replace(`${args.prefix}-`, "")}`,
            { availabilityZone: args.availabilityZone, size: VOLUME_GIB, type: "gp3", encrypted: true, tags: { ...args.tags, Name: v.name } },
            { parent: this },
          ),
      );
    this.instance = new aws.ec2.Instance(
      name,
      {
        ami: args.ami,
        instanceType: args.instanceType,
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [args.securityGroupId],
        associatePublicIpAddress: args.publicAddress,
        keyName: args.keyName,
        iamInstanceProfile: args.iamInstanceProfile,
        userData: args.userData(pulumi.all(volumes.map((v) => v.id))),
        userDataReplaceOnChange: true,
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: ROOT_GIB[n.role], deleteOnTermination: true },
        instanceInitiatedShutdownBehavior: "terminate",
        tags: { ...args.tags, Name: n.name, "drills:role": n.role, "drills:expires": args.expires },
      },
      {
        parent: this,
        dependsOn: args.bootAfter,
        // A newer Debian AMI must not replace a running level (pin one with drills:ami);
        // the expiry tag is a fact of the first deployment.
        ignoreChanges: ["ami", 'tags["drills:expires"]', 'tagsAll["drills:expires"]'],
      },
    );
    this.baseName = name;
    this.attachments = volumes.map(
      (v, i) =>
        new aws.ec2.VolumeAttachment(
          `${name}-attach-${i}`,
          {
            instanceId: this.instance.id,
            volumeId: v.id,
            deviceName: `/dev/sd${String.fromCharCode(102 + i)}`,
            // Detach from a stopped instance: a mounted volume otherwise stalls the detach.
            stopInstanceBeforeDetaching: true,
          },
          // A volume attaches to one instance at a time: detach from the old before attaching to the new.
          { parent: this.instance, deleteBeforeReplace: true },
        ),
    );
    this.registerOutputs({ instanceId: this.instance.id, publicIp: this.instance.publicIp });
  }

  /**
   * Can this machine open TCP to the entry node's SSH at all? Fault actions
   * and readiness checks SSH in from here, so it must be inside allowedCidr.
   */
  checkReach(allowedCidr: string): command.local.Command {
    return new command.local.Command(
      `${this.baseName}-reach`,
      {
        create: REACH_SCRIPT,
        interpreter: ["/bin/bash", "-c"],
        environment: { HOST: this.instance.publicIp, ALLOWED_CIDR: allowedCidr },
        triggers: [this.instance.id],
      },
      { parent: this, dependsOn: [this.instance] },
    );
  }

  /** Completes once the node is provisioned and healthy, checked over `connection` after `after`. */
  checkReady(connection: command.types.input.remote.ConnectionArgs, after: pulumi.Resource[]): command.remote.Command {
    return new command.remote.Command(
      `${this.baseName}-ready`,
      { connection, create: readyScript(this.node), triggers: [this.instance.id] },
      { parent: this, dependsOn: [this.instance, ...this.attachments, ...after] },
    );
  }
}
