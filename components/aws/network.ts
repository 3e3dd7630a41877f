import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface NetworkArgs {
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
 * instance types, and one public subnet in it, of the default VPC or of a
 * new one (VPC, subnet, internet gateway, route table, association).
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly subnetId: pulumi.Output<string>;
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
    this.registerOutputs({ vpcId: this.vpcId, subnetId: this.subnetId, availabilityZone: this.availabilityZone });
  }
}
