import Docker from "dockerode";
import { CheckContext, ExecResult, HttpInit, HttpResult } from "../faults/types";
import { exec } from "../driver/engine";
import { DB_CREDENTIALS } from "../plan/app";
import { nodeOf } from "../plan/names";
import { LevelPlan, Role } from "../plan/types";
import { loadApp } from "./browser";

/** Time-boxed HTTP with latency; failures come back as data, not exceptions. */
export async function http(url: string, init: HttpInit = {}): Promise<HttpResult> {
  const started = performance.now();
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), init.timeoutMs ?? 10_000);
  try {
    const res = await fetch(url, { method: init.method, headers: init.headers, body: init.body, signal: ctl.signal });
    const text = await res.text();
    return { status: res.status, ms: performance.now() - started, headers: Object.fromEntries(res.headers.entries()), text };
  } catch (e) {
    const err = e as Error;
    const error = err.name === "AbortError" ? `no answer within ${init.timeoutMs ?? 10_000} ms` : err.message;
    return { status: 0, ms: performance.now() - started, headers: {}, text: "", error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * SQL as the app's user, by default through the datastore's published
 * 127.0.0.1 port; `at` is another local endpoint (an SSH tunnel).
 */
export async function sql(
  plan: LevelPlan,
  query: string,
  params: unknown[] = [],
  at: { host: string; port: number } = { host: "127.0.0.1", port: nodeOf(plan, "datastore").ports[0].host },
): Promise<Array<Record<string, unknown>>> {
  const { host, port } = at;
  const { user, password, database } = DB_CREDENTIALS;
  if (plan.engine === "postgres") {
    const { Client } = await import("pg");
    const c = new Client({ host, port, user, password, database, connectionTimeoutMillis: 5000, statement_timeout: 10_000 });
    await c.connect();
    try {
      return (await c.query(query, params)).rows as Array<Record<string, unknown>>;
    } finally {
      await c.end();
    }
  }
  const mysql = await import("mysql2/promise");
  const c = await mysql.createConnection({ host, port, user, password, database, connectTimeout: 5000 });
  try {
    const [rows] = await c.query({ sql: query, values: params, timeout: 10_000 });
    return rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

/**
 * Restart a node's container and wait until it runs again (at most 60 s).
 * Not until healthy: a node whose app does not come back stays unhealthy,
 * and that is what the caller wants to see.
 */
async function restartNode(docker: Docker, name: string): Promise<void> {
  const c = docker.getContainer(name);
  await c.restart({ t: 10 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = (await c.inspect()).State;
    if (s.Running && !s.Restarting) return;
    if (Date.now() > deadline) throw new Error(`node ${name} did not run again within 60 s of its restart (state ${s.Status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Probes and checks for a level running on the local Docker engine. */
export function dockerContext(docker: Docker, plan: LevelPlan): CheckContext {
  return {
    plan,
    exec: (role: Role, script: string): Promise<ExecResult> => exec(docker, nodeOf(plan, role).name, ["bash", "-s"], script),
    http,
    sql: (q, p) => sql(plan, q, p),
    browser: (url, steps) => loadApp(url ?? plan.appUrl, 15_000, steps),
    restart: (role: Role) => restartNode(docker, nodeOf(plan, role).name),
  };
}
