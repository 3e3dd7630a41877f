import { connect } from "../../driver/engine";
import { CLI, leftovers, runCli } from "./helpers";
import { spawn } from "child_process";

jest.setTimeout(20 * 60_000);

describe("drills CLI against the real engine", () => {
  const STACK = "test-cli";
  afterAll(async () => {
    await runCli(["down", "baseline", "--stack", STACK]);
  });

  it("up --json gives appUrl and each node's container and access command; status; down", async () => {
    const upRun = await runCli(["up", "baseline", "--stack", STACK, "--json", "--recreate"]);
    expect(upRun.stderr).not.toMatch(/drills: /);
    expect(upRun.code).toBe(0);
    const out = JSON.parse(upRun.stdout) as {
      appUrl: string;
      stack: string;
      nodes: Record<string, { container: string; access: string }>;
    };
    expect(out.stack).toBe(STACK);
    expect(Object.keys(out.nodes).sort()).toEqual(["backend", "datastore", "proxy"]);
    // Players log in by SSH through the proxy with the stack's key; the container name stays for instructors.
    expect(out.nodes.backend).toEqual(
      expect.objectContaining({ container: `drills-${STACK}-backend`, access: expect.stringMatching(new RegExp(`^ssh -i \\.drills/keys/${STACK}/id_ed25519 .*oncall@backend$`)) }),
    );
    const health = await fetch(`${out.appUrl}api/health`);
    expect(health.status).toBe(200);

    const again = await runCli(["up", "baseline", "--stack", STACK]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has resources.*drills down baseline --stack test-cli/s);

    const st = JSON.parse((await runCli(["status", "--json"])).stdout) as Array<{ stack: string; nodes: Array<{ health: string }> }>;
    const mine = st.find((s) => s.stack === STACK);
    expect(mine?.nodes.map((n) => n.health)).toEqual(["healthy", "healthy", "healthy"]);

    const d = await runCli(["down", "baseline", "--stack", STACK]);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain(`${STACK}: removed 3 containers, 1 networks, 1 volumes`);
    expect(await leftovers(STACK)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it("down after an up killed mid-way removes what it created, and only that", async () => {
    const stack = "test-interrupt";
    const docker = await connect();
    // A bystander: another stack's network must survive our down.
    const bystander = await docker.createNetwork({ Name: "drills-test-bystander-net", Labels: { "drills.managed": "true", "drills.stack": "test-bystander" } });
    try {
      const child = spawn(process.execPath, [CLI, "up", "baseline", "--stack", stack, "--recreate"], { stdio: "ignore" });
      // Kill it (no chance to clean up) as soon as its first container exists.
      const deadline = Date.now() + 5 * 60_000;
      while ((await leftovers(stack)).containers === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGKILL");
      await new Promise((r) => child.on("close", r));
      const partial = await leftovers(stack);
      expect(partial.containers).toBeGreaterThanOrEqual(1);
      expect(partial.networks).toBe(1);

      const d = await runCli(["down", "baseline", "--stack", stack]);
      expect(d.code).toBe(0);
      expect(await leftovers(stack)).toEqual({ containers: 0, networks: 0, volumes: 0 });
      expect((await bystander.inspect()).Name).toBe("drills-test-bystander-net");
    } finally {
      await bystander.remove();
    }
  });
});
