import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";

export interface NetworkArgs {
  /** The stack: a default VPC's private subnet range derives from it, so levels side by side differ. */
  stack: string;
  /** "default": the account's default VPC, its default subnet in the chosen zone; "new": a VPC with one public subnet there. */
  vpc: "default" | "new";
  /** Instance types the zone must offer, every one of them. */
  instanceTypes: string[];
  /** Name tag of a new VPC and its subnet. */
  nameTag: string;
  tags: Record<string, string>;
}

/** A new VPC's address range and its one public subnet's. */
export const NEW_VPC_CIDR = "10.89.0.0/16";
export const NEW_SUBNET_CIDR = "10.89.1.0/24";
export const NEW_PRIVATE_SUBNET_CIDR = "10.89.2.0/24";

/**
 * The private subnet's range in the default VPC (172.31.0.0/16, whose default
 * subnets take the low /20s): a /24 in 172.31.128-255 derived from the stack
 * name, so two levels in one account get different ones. A clash with a
 * subnet someone made there fails creation; drills:vpc=new avoids it.
 */
export function defaultVpcPrivateCidr(stack: string): string {
  const n = crypto.createHash("sha256").update(stack).digest().readUInt8(0);
  return `172.31.${128 + (n % 128)}.0/24`;
}

/**
 * The zone for the level: offers every instance type, needs no opt-in
 * (Local and Wavelength Zones do), first in name order so a stack keeps it.
 */
export function chooseZone(
  instanceTypes: string[],
  offerings: { instanceTypes: string[]; locations: string[] },
  optInFreeZones: string[],
): string {
  const offered = new Map<string, Set<string>>();
  offerings.locations.forEach((zone, i) => {
    if (!offered.has(zone)) offered.set(zone, new Set());
    offered.get(zone)!.add(offerings.instanceTypes[i]);
  });
  const types = [...new Set(instanceTypes)];
  const zones = [...new Set(optInFreeZones)].filter((z) => types.every((t) => offered.get(z)?.has(t))).sort();
  if (zones.length === 0) {
    throw new Error(
      `no availability zone of this region offers all of ${types.join(", ")} without opt-in ` +
        `(offered: ${types.map((t) => `${t} in ${[...offered].filter(([, s]) => s.has(t)).map(([z]) => z).sort().join(" ") || "none"}`).join("; ")}); ` +
        "choose other drills:*InstanceType values or another aws:region",
    );
  }
  return zones[0];
}

/**
 * Where the level's instances live: one availability zone that offers the
 * instance types; one public subnet in it, of the default VPC or of a new
 * one (VPC, subnet, internet gateway, route table, association), for the
 * nodes with a public address; and one private subnet beside it for the
 * others, whose way out (packages, the role's sources) is a NAT gateway in
 * the public subnet. Nothing reaches the private subnet from outside.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** The public subnet (the entry node, and an API with its own origin). */
  public readonly subnetId: pulumi.Output<string>;
  /** The private subnet (no public addresses; out through the NAT gateway). */
  public readonly privateSubnetId: pulumi.Output<string>;
  /** Exists once the private subnet's route out does: its nodes boot after it (their user data installs packages). */
  public readonly privateEgress: aws.ec2.RouteTableAssociation;
  public readonly availabilityZone: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:aws:Network", name, {}, opts);
    const parent = { parent: this };
    const types = [...new Set(args.instanceTypes)].sort();
    const offerings = aws.ec2.getInstanceTypeOfferingsOutput(
      { locationType: "availability-zone", filters: [{ name: "instance-type", values: types }] },
      parent,
    );
    const zones = aws.getAvailabilityZonesOutput({ state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] }, parent);
    this.availabilityZone = pulumi
      .all([offerings.instanceTypes, offerings.locations, zones.names])
      .apply(([instanceTypes, locations, names]) => chooseZone(types, { instanceTypes, locations }, names));

    if (args.vpc === "default") {
      this.vpcId = aws.ec2.getVpcOutput({ default: true }, parent).id;
      const zone = this.availabilityZone;
      const subnets = aws.ec2.getSubnetsOutput(
        {
          filters: [
            { name: "vpc-id", values: [this.vpcId] },
            { name: "default-for-az", values: ["true"] },
            { name: "availability-zone", values: [zone] },
          ],
        },
        parent,
      );
      this.subnetId = pulumi.all([subnets.ids, zone]).apply(([ids, z]) => {
        if (ids.length === 0) throw new Error(`the default VPC has no default subnet in ${z}; set drills:vpc to new`);
        return [...ids].sort()[0];
      });
    } else {
      const tags = { ...args.tags, Name: args.nameTag };
      const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: NEW_VPC_CIDR, enableDnsHostnames: true, tags }, parent);
      const subnet = new aws.ec2.Subnet(
        `${name}-subnet`,
        { vpcId: vpc.id, cidrBlock: NEW_SUBNET_CIDR, availabilityZone: this.availabilityZone, mapPublicIpOnLaunch: true, tags },
        { parent: vpc },
      );
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: args.tags }, { parent: vpc });
      const rt = new aws.ec2.RouteTable(
        `${name}-rt`,
        { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: args.tags },
        { parent: vpc },
      );
      new aws.ec2.RouteTableAssociation(`${name}-rta`, { subnetId: subnet.id, routeTableId: rt.id }, { parent: subnet });
      this.vpcId = vpc.id;
      this.subnetId = subnet.id;
    }

    const tags = { ...args.tags, Name: `${args.nameTag}-private` };
    const eip = new aws.ec2.Eip(`${name}-nat-ip`, { domain: "vpc", tags }, parent);
    const nat = new aws.ec2.NatGateway(`${name}-nat`, { subnetId: this.subnetId, allocationId: eip.allocationId, tags }, parent);
    const priv = new aws.ec2.Subnet(
      `${name}-private`,
      {
        vpcId: this.vpcId,
        cidrBlock: args.vpc === "new" ? NEW_PRIVATE_SUBNET_CIDR : defaultVpcPrivateCidr(args.stack),
        availabilityZone: this.availabilityZone,
        mapPublicIpOnLaunch: false,
        tags,
      },
      parent,
    );
    const rt = new aws.ec2.RouteTable(
      `${name}-private-rt`,
      { vpcId: this.vpcId, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags },
      { parent: priv },
    );
    this.privateEgress = new aws.ec2.RouteTableAssociation(`${name}-private-rta`, { subnetId: priv.id, routeTableId: rt.id }, { parent: priv });
    this.privateSubnetId = priv.id;
    this.registerOutputs({ vpcId: this.vpcId, subnetId: this.subnetId, privateSubnetId: this.privateSubnetId, availabilityZone: this.availabilityZone });
  }
}
