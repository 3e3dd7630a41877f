import { LevelPlan, Role } from "./types";

/**
 * Values only a target knows (a node's public origin and port) appear in the
 * plan as placeholders; each renderer resolves them: Docker to 127.0.0.1 and
 * the published port, AWS to the instance's public address.
 */
export const originToken = (role: Role): string => `{{origin:${role}}}`;
export const portToken = (role: Role): string => `{{port:${role}}}`;

export interface Endpoints {
  /** scheme://host:port a browser uses to reach the role's first port. */
  origin: Record<Role, string>;
  /** The public port of that origin. */
  port: Record<Role, string>;
}

const TOKEN = /\{\{(origin|port):(proxy|backend|datastore)\}\}/g;

export function resolveString(s: string, e: Endpoints): string {
  return s.replace(TOKEN, (_m, kind: "origin" | "port", role: Role) => e[kind][role]);
}

export function hasTokens(s: string): boolean {
  return new RegExp(TOKEN.source).test(s);
}

/** The plan with every placeholder resolved (env, URLs, action scripts). */
export function resolvePlan(plan: LevelPlan, e: Endpoints, access?: Record<Role, string>): LevelPlan {
  const r = (s: string) => resolveString(s, e);
  return {
    ...plan,
    appUrl: r(plan.appUrl),
    apiUrl: plan.apiUrl === undefined ? undefined : r(plan.apiUrl),
    nodes: plan.nodes.map((n) => ({
      ...n,
      env: Object.fromEntries(Object.entries(n.env).map(([k, v]) => [k, r(v)])),
      accessCommand: access ? access[n.role] : n.accessCommand,
    })),
    actions: plan.actions.map((a) => ({ ...a, script: r(a.script) })),
  };
}

/** On Docker every node is reached on 127.0.0.1 at its published port. */
export function dockerEndpoints(plan: LevelPlan): Endpoints {
  const origin = {} as Record<Role, string>;
  const port = {} as Record<Role, string>;
  for (const n of plan.nodes) {
    port[n.role] = String(n.ports[0].host);
    origin[n.role] = `http://127.0.0.1:${n.ports[0].host}`;
  }
  return { origin, port };
}

/** The plan as the Docker target runs it. */
export function dockerPlan(plan: LevelPlan): LevelPlan {
  return resolvePlan(plan, dockerEndpoints(plan));
}
