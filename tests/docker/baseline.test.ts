import { down, up } from "../../driver/deployer";
import { exec, connect } from "../../driver/engine";
import { getLevel } from "../../levels";
import { levelPlan } from "../../compose/plan";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { LevelPlan } from "../../plan/types";
import { leftovers } from "./helpers";

jest.setTimeout(20 * 60_000);

/** The whole app on both datastore engines: PostgreSQL 15 and MariaDB 10.11 (`--engine mysql`). */
describe.each(["postgres", "mysql"] as const)("baseline level on real Docker, %s", (engine) => {
  // A stack of its own, so a player's level-baseline on this machine is untouched.
  const STACK = `test-baseline-${engine}`;
  let plan: LevelPlan;
  let api: string;

  beforeAll(async () => {
    await down(STACK);
    const options = parseOptions({ level: "baseline", stack: STACK, engine }, ["baseline"]);
    plan = dockerPlan(levelPlan(getLevel("baseline"), options));
    const r = await up(plan, { log: (l) => process.stderr.write(`[up] ${l}\n`) });
    process.stderr.write(`baseline: images ${r.buildSeconds.toFixed(1)} s, ready in ${r.readySeconds.toFixed(1)} s\n`);
    api = `${plan.appUrl}api`;
  });

  afterAll(async () => {
    await down(STACK);
  });

  it("serves the front end through the proxy on 127.0.0.1", async () => {
    expect(plan.appUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(plan.appUrl);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="users-list"');
    const health = await (await fetch(`${api}/health`)).json();
    expect(health).toMatchObject({ status: "ok", db: "ok", engine });
  });

  it("creates a user and lists it", async () => {
    const email = `ada-${Date.now()}@example.com`;
    const res = await fetch(`${api}/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada Lovelace", email }),
    });
    expect(res.status).toBe(201);
    const list = (await (await fetch(`${api}/users`)).json()) as { items: Array<{ email: string }> };
    expect(list.items.map((u) => u.email)).toContain(email);
    const bad = await fetch(`${api}/users`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(bad.status).toBe(400);
  });

  it("searches invoices with paging and sorting", async () => {
    type Page = { items: Array<{ id: number; amount_cents: number; customer: string }>; page: number; pageSize: number; total: number };
    const p1 = (await (await fetch(`${api}/invoices?page=1&pageSize=10&sort=amount_cents&order=desc`)).json()) as Page;
    const p2 = (await (await fetch(`${api}/invoices?page=2&pageSize=10&sort=amount_cents&order=desc`)).json()) as Page;
    expect(p1.total).toBe(20000);
    expect(p1.items).toHaveLength(10);
    expect(p2.page).toBe(2);
    const amounts = [...p1.items, ...p2.items].map((i) => i.amount_cents);
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    expect(new Set([...p1.items, ...p2.items].map((i) => i.id)).size).toBe(20);
    const customer = p1.items[0].customer;
    const byCustomer = (await (await fetch(`${api}/invoices?customer=${encodeURIComponent(customer)}&pageSize=5`)).json()) as Page;
    expect(byCustomer.total).toBeGreaterThan(0);
    expect(byCustomer.total).toBeLessThan(p1.total);
    expect(byCustomer.items.every((i) => i.customer === customer)).toBe(true);
    expect((await fetch(`${api}/invoices?sort=password`)).status).toBe(400);
  });

  it("uploads a file and lists it", async () => {
    const body = Buffer.from(`drills upload test ${Date.now()}\n`);
    const res = await fetch(`${api}/uploads?name=report.txt`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    expect(res.status).toBe(201);
    const list = (await (await fetch(`${api}/uploads`)).json()) as { items: Array<{ name: string; size: number }> };
    expect(list.items).toEqual(expect.arrayContaining([expect.objectContaining({ name: "report.txt", size: body.length })]));
  });

  it("behaves like a small server: supervisor, tools, logs", async () => {
    const docker = await connect();
    const backend = plan.nodes.find((n) => n.role === "backend")!.name;
    const datastore = plan.nodes.find((n) => n.role === "datastore")!.name;
    // supervisord runs every node's programs and loads its RPC plugin without setuptools' pkg_resources (roles/common/supervisor-importlib.py).
    for (const n of plan.nodes) {
      const imports = await exec(docker, n.name, ["python3", "-c", "import sys, supervisor.supervisord, supervisor.rpcinterface; print('pkg_resources' in sys.modules)"]);
      expect(imports.stdout.trim()).toBe("False");
      expect((await exec(docker, n.name, ["supervisorctl", "status"])).stdout).toMatch(/RUNNING/);
    }
    const tools = await exec(docker, backend, ["bash", "-c", "ps aux >/dev/null && df -h / >/dev/null && free -m >/dev/null && curl --version >/dev/null && echo ok"]);
    expect(tools.stdout.trim()).toBe("ok");
    const log = await exec(docker, backend, ["bash", "-c", "grep -c '/api/users' /var/log/drills/backend.log"]);
    expect(Number(log.stdout.trim())).toBeGreaterThan(0);
    const client =
      engine === "postgres"
        ? "PGPASSWORD=drills psql -h 127.0.0.1 -U drills -d drills -Atc"
        : "mariadb --protocol=tcp -h 127.0.0.1 -u drills -pdrills drills -N -e";
    const sql = await exec(docker, datastore, ["bash", "-c", `${client} 'select count(*) from invoices'`]);
    expect(sql.stdout.trim()).toBe("20000");
  });

  it("down removes every container, network and volume with the level's label", async () => {
    const before = await leftovers(STACK);
    expect(before).toEqual({ containers: 3, networks: 1, volumes: 1 });
    const r = await down(STACK);
    expect(r).toEqual(before);
    expect(await leftovers(STACK)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
});
