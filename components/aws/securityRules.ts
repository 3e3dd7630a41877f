import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SSH_ENTRY, SSH_PORT } from "../../plan/app";
import { LevelPlan, Role } from "../../plan/types";

/** One ingress rule: a port of a role's node, open to a CIDR or to another role's nodes. */
export interface IngressRule {
  role: Role;
  port: number;
  from: { cidr: string } | { role: Role };
  description: string;
}

const SSH = SSH_PORT;

/**
 * The roles with a public address: the entry node (the proxy), and the
 * backend only where the API has its own public origin (plan.apiUrl). Every
 * other node has a private address only.
 */
export function publicRoles(plan: LevelPlan): Role[] {
  return plan.nodes.map((n) => n.role).filter((r) => r === SSH_ENTRY || (r === "backend" && plan.apiUrl !== undefined));
}

/**
 * Who may reach what, as data (unit tests read it directly): SSH to the entry
 * node (the proxy) and its HTTP port only from allowedCidr, SSH to every
 * other node only from the entry node (ProxyJump); the backend's API from the
 * proxy (and from allowedCidr only when the API has its own public origin);
 * the datastore only from the backend. Nothing else.
 */
export function ingressRules(plan: LevelPlan, allowedCidr: string): IngressRule[] {
  const port = (role: Role): number => {
    const n = plan.nodes.find((x) => x.role === role);
    if (!n || n.ports.length === 0) throw new Error(`plan ${plan.stack}: ${role} has no port`);
    return n.ports[0].internal;
  };
  const rules: IngressRule[] = plan.nodes.map((n) =>
    n.role === SSH_ENTRY
      ? { role: n.role, port: SSH, from: { cidr: allowedCidr }, description: "SSH: the one way in, for the player and fault actions" }
      : { role: n.role, port: SSH, from: { role: SSH_ENTRY }, description: "SSH through the entry node (ProxyJump)" },
  );
  rules.push({ role: "proxy", port: port("proxy"), from: { cidr: allowedCidr }, description: "the app" });
  rules.push({ role: "backend", port: port("backend"), from: { role: "proxy" }, description: "API behind the proxy" });
  if (plan.apiUrl) rules.push({ role: "backend", port: port("backend"), from: { cidr: allowedCidr }, description: "API on its own origin" });
  rules.push({ role: "datastore", port: port("datastore"), from: { role: "backend" }, description: "SQL from the backend only" });
  return rules;
}

export interface SecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
  /** The plan's nodes: one group per role, its Name tag the node's name. */
  nodes: Array<{ role: Role; name: string }>;
  /** The rules (ingressRules); each becomes a rule resource under its group. */
  rules: IngressRule[];
  /** Group descriptions read "<description> <role>". */
  description: string;
  tags: Record<string, string>;
}

/**
 * One security group per role, each rule a separate resource parented to its
 * group; egress declared explicitly (a group the provider creates has none).
 */
export class SecurityGroups extends pulumi.ComponentResource {
  public readonly groups: Record<Role, aws.ec2.SecurityGroup>;

  constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:aws:SecurityGroups", name, {}, opts);
    const groups = {} as Record<Role, aws.ec2.SecurityGroup>;
    for (const n of args.nodes) {
      const sg = new aws.ec2.SecurityGroup(
        `${name}-${n.role}-sg`,
        { vpcId: args.vpcId, description: `${args.description} ${n.role}`, tags: { ...args.tags, Name: n.name } },
        { parent: this },
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${n.role}-egress`,
        { securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "packages (apt) and the role's sources (S3)" },
        { parent: sg },
      );
      groups[n.role] = sg;
    }
    for (const r of args.rules) {
      const src = "cidr" in r.from ? "cidr" : r.from.role;
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${r.role}-in-${r.port}-${src}`,
        {
          securityGroupId: groups[r.role].id,
          ipProtocol: "tcp",
          fromPort: r.port,
          toPort: r.port,
          description: r.description,
          ...("cidr" in r.from ? { cidrIpv4: r.from.cidr } : { referencedSecurityGroupId: groups[r.from.role].id }),
        },
        { parent: groups[r.role] },
      );
    }
    this.groups = groups;
    this.registerOutputs({ groupIds: pulumi.all(Object.fromEntries(Object.entries(groups).map(([r, g]) => [r, g.id]))) });
  }
}
