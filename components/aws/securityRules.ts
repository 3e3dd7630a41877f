import { LevelPlan, Role } from "../../plan/types";

/** One ingress rule: a port of a role's node, open to a CIDR or to another role's nodes. */
export interface IngressRule {
  role: Role;
  port: number;
  from: { cidr: string } | { role: Role };
  description: string;
}

const SSH = 22;

/**
 * Who may reach what, as data (unit tests read it directly): the proxy's HTTP
 * port and every node's SSH only from allowedCidr; the backend's API from the
 * proxy (and from allowedCidr only when the API has its own public origin);
 * the datastore only from the backend. Nothing else.
 */
export function ingressRules(plan: LevelPlan, allowedCidr: string): IngressRule[] {
  const port = (role: Role): number => {
    const n = plan.nodes.find((x) => x.role === role);
    if (!n || n.ports.length === 0) throw new Error(`plan ${plan.stack}: ${role} has no port`);
    return n.ports[0].internal;
  };
  const rules: IngressRule[] = plan.nodes.map((n) => ({
    role: n.role,
    port: SSH,
    from: { cidr: allowedCidr },
    description: "SSH for the player and fault actions",
  }));
  rules.push({ role: "proxy", port: port("proxy"), from: { cidr: allowedCidr }, description: "the app" });
  rules.push({ role: "backend", port: port("backend"), from: { role: "proxy" }, description: "API behind the proxy" });
  if (plan.apiUrl) rules.push({ role: "backend", port: port("backend"), from: { cidr: allowedCidr }, description: "API on its own origin" });
  rules.push({ role: "datastore", port: port("datastore"), from: { role: "backend" }, description: "SQL from the backend only" });
  return rules;
}
