import * as game from "../../runtime/game";
import { down, up } from "../../driver/deployer";
import { getLevel, levelIds } from "../../levels";
import { levelPlan } from "../../compose/plan";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";
import { CheckContext } from "../../faults/types";
import { leftovers } from "./helpers";

jest.setTimeout(20 * 60_000);

const STACK = "test-signals";
const report = (line: string) => process.stderr.write(`[signals] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lines of a node's file containing `needle` (fixed string). */
async function linesWith(ctx: CheckContext, role: "proxy" | "backend", file: string, needle: string): Promise<string[]> {
  const r = await ctx.exec(role, `grep -F -- '${needle}' ${file} || true`);
  return r.stdout.split("\n").filter(Boolean);
}

/**
 * What an on-call engineer starts from, for real on the baseline level: the
 * proxy's access log gives each request's time and the backend's time and
 * status, the backend logs slow, failed and still-hanging requests with their
 * duration, and one request id (nginx's $request_id) ties them together.
 */
describe("signals an on-call engineer starts from (baseline on real Docker)", () => {
  const plan = dockerPlan(levelPlan(getLevel("baseline"), parseOptions({ level: "baseline", stack: STACK }, levelIds())));
  let ctx: CheckContext;

  beforeAll(async () => {
    await down(STACK);
    await up(plan, { log: (l) => report(l) });
    ctx = await game.contextOf(plan);
  });
  afterAll(async () => {
    await down(STACK);
  });

  it("a request is found in both logs with its times and the same request id", async () => {
    const r = await ctx.http(`${plan.appUrl}api/invoices?page=2&pageSize=5&signals=plain`);
    expect(r.status).toBe(200);
    const rid = r.headers["x-request-id"];
    expect(rid).toMatch(/^[0-9a-f]{32}$/);
    await sleep(300); // nginx writes its line after the response
    const nginx = await linesWith(ctx, "proxy", "/var/log/nginx/access.log", `rid=${rid}`);
    expect(nginx).toHaveLength(1);
    expect(nginx[0]).toContain('"GET /api/invoices?page=2&pageSize=5&signals=plain HTTP/1.1" 200 ');
    expect(nginx[0]).toMatch(/ rt=\d+\.\d{3} urt=\d+\.\d{3} us=200 rid=/);
    const backend = await linesWith(ctx, "backend", "/var/log/drills/backend.log", `rid=${rid}`);
    expect(backend).toHaveLength(1);
    expect(backend[0]).toMatch(/ GET \/api\/invoices\?page=2&pageSize=5&signals=plain 200 \d+ms rid=[0-9a-f]{32}$/);
    report(`nginx: ${nginx[0]}`);
    report(`backend: ${backend[0]}`);
  });

  it("a hanging request leaves a trace while it hangs, then a slow-request line; nginx logs the wait", async () => {
    // Someone holds a lock on users for 8 s: GET /api/users waits on it.
    const holder = ctx.exec(
      "datastore",
      `runuser -u postgres -- psql -X -q -d drills -c "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;"`,
    );
    await sleep(500);
    const started = Date.now();
    const pending = ctx.http(`${plan.appUrl}api/users?signals=hang`, { timeoutMs: 30_000 });
    await sleep(6500);
    // Still waiting: the backend has already said so, with the request id.
    const during = await linesWith(ctx, "backend", "/var/log/drills/backend.log", "GET /api/users?signals=hang");
    const hanging = during.find((l) => / WARN request still running after 5s: GET \/api\/users\?signals=hang \(request [0-9a-f]{32}\)$/.test(l));
    expect({ hanging, during }).toEqual({ hanging: expect.any(String), during });
    const r = await pending;
    await holder;
    expect(r.status).toBe(200);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(6000);
    const rid = r.headers["x-request-id"];
    expect(hanging).toContain(`(request ${rid})`);
    await sleep(300);
    const after = await linesWith(ctx, "backend", "/var/log/drills/backend.log", rid);
    expect(after.some((l) => / WARN slow request GET \/api\/users\?signals=hang: 200 after \d{4,}ms \(request /.test(l))).toBe(true);
    const nginx = await linesWith(ctx, "proxy", "/var/log/nginx/access.log", `rid=${rid}`);
    expect(nginx).toHaveLength(1);
    const rt = Number(/ rt=(\d+\.\d+)/.exec(nginx[0])?.[1]);
    const urt = Number(/ urt=(\d+\.\d+)/.exec(nginx[0])?.[1]);
    expect(rt).toBeGreaterThan(6);
    expect(urt).toBeGreaterThan(6);
    // nginx reads its clock separately for the two (millisecond resolution): equal within a few ms.
    expect(rt + 0.005).toBeGreaterThanOrEqual(urt);
    report(`hanging: ${hanging}`);
    report(`after: ${after.join(" | ")}`);
    report(`nginx: ${nginx[0]}`);
  });

  it("a failed request is logged as an error with its duration and request id", async () => {
    await ctx.exec("datastore", "supervisorctl stop postgresql >/dev/null");
    try {
      const r = await ctx.http(`${plan.appUrl}api/users?signals=fail`, { timeoutMs: 30_000 });
      expect(r.status).toBe(500);
      const rid = r.headers["x-request-id"];
      await sleep(300);
      const backend = await linesWith(ctx, "backend", "/var/log/drills/backend.log", rid);
      expect(backend.some((l) => / ERROR failed request GET \/api\/users\?signals=fail: 500 after \d+ms \(request /.test(l))).toBe(true);
      const nginx = await linesWith(ctx, "proxy", "/var/log/nginx/access.log", `rid=${rid}`);
      expect(nginx[0]).toMatch(/" 500 .* us=500 rid=/);
    } finally {
      await ctx.exec("datastore", "supervisorctl start postgresql >/dev/null");
    }
    // And the app recovers.
    for (let i = 0; i < 50; i++) {
      if ((await ctx.http(`${plan.appUrl}api/health`)).status === 200) break;
      await sleep(200);
    }
    expect((await ctx.http(`${plan.appUrl}api/users`)).status).toBe(200);
  });

  it("goes down leaving nothing behind", async () => {
    await down(STACK);
    expect(await leftovers(STACK)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });
});
