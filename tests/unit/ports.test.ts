import type Docker from "dockerode";
import * as net from "net";
import { derivePort } from "../../plan/app";
import { PORTS_PER_STACK } from "../../plan/config";
import { candidateBases, pickBase, portFree, processOnPort, resolveBasePort } from "../../driver/ports";

/** Listen on 127.0.0.1 (port 0: any free one) and give the port. */
function listen(port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      resolve({ port: p, close: () => new Promise((r) => s.close(() => r())) });
    });
  });
}

/** An engine with these containers (name, stack, published ports) and stack networks (stack, recorded base). */
function fakeEngine(containers: Array<{ name: string; stack?: string; ports: number[] }>, bases: Array<{ stack: string; base: number }> = []): Docker {
  return {
    listContainers: async () =>
      containers.map((c) => ({
        Id: c.name,
        Names: [`/${c.name}`],
        State: "running",
        Labels: c.stack ? { "drills.managed": "true", "drills.stack": c.stack } : {},
        Ports: c.ports.map((p) => ({ IP: "127.0.0.1", PublicPort: p, PrivatePort: 80, Type: "tcp" })),
      })),
    listNetworks: async () => bases.map((b) => ({ Name: `drills-${b.stack}-net`, Labels: { "drills.stack": b.stack, "drills.basePort": String(b.base) } })),
  } as unknown as Docker;
}

const OFFSETS = [0, 1, 2];

describe("candidate bases", () => {
  it("start at the stack's derived block and walk every block once, wrapping around, the same each time", () => {
    const derived = derivePort("test-hf-unit");
    const all = Array.from(candidateBases(derived));
    expect(all[0]).toBe(derived);
    expect(all[1]).toBe(derived + PORTS_PER_STACK);
    expect(new Set(all).size).toBe(2276);
    expect(Math.min(...all)).toBe(10000);
    expect(Math.max(...all)).toBe(32750);
    // Below the ephemeral ranges: no outgoing connection holds a derived port.
    expect(Math.max(...all) + PORTS_PER_STACK - 1).toBeLessThan(32768);
    expect(Array.from(candidateBases(derived))).toEqual(all);
    // The last block wraps to the first.
    const last = Array.from(candidateBases(32750));
    expect(last.slice(0, 2)).toEqual([32750, 10000]);
  });
});

describe("pickBase", () => {
  const free = async () => ({ free: true });
  it("keeps the derived block when its ports are free", async () => {
    expect(await pickBase(30000, OFFSETS, () => false, free)).toBe(30000);
  });
  it("moves to the next block when one port of the derived block cannot be bound", async () => {
    const test = async (p: number) => ({ free: p !== 30001 });
    expect(await pickBase(30000, OFFSETS, () => false, test)).toBe(30010);
  });
  it("skips blocks other stacks reserve without binding them", async () => {
    const tried: number[] = [];
    const test = async (p: number) => {
      tried.push(p);
      return { free: true };
    };
    expect(await pickBase(30000, OFFSETS, (p) => p >= 30000 && p < 30020, test)).toBe(30020);
    expect(tried).toEqual([30020, 30021, 30022]);
  });
  it("tries the stack's recorded block first", async () => {
    expect(await pickBase(30000, OFFSETS, () => false, free, 41230)).toBe(41230);
  });
  it("gives undefined when no block is free", async () => {
    expect(await pickBase(30000, OFFSETS, () => true, free)).toBeUndefined();
  });
});

describe("port checks on this host", () => {
  it("portFree is false while something listens on 127.0.0.1:port, true once it closed", async () => {
    const l = await listen();
    expect(await portFree(l.port)).toBe(false);
    await l.close();
    expect(await portFree(l.port)).toBe(true);
  });

  it("processOnPort names the listening process from /proc", async () => {
    const l = await listen();
    try {
      expect(processOnPort(l.port)).toMatch(new RegExp(`\\(pid ${process.pid}\\)$`));
    } finally {
      await l.close();
    }
    expect(processOnPort(l.port)).toBeUndefined();
  });
});

describe("resolveBasePort", () => {
  const stack = "test-hf-unit-resolve";
  const derived = derivePort(stack);

  it("uses the derived block when it is free", async () => {
    expect(await resolveBasePort(fakeEngine([]), { stack, offsets: OFFSETS })).toEqual({ base: derived });
  });

  it("moves past a block another drills stack publishes, and says why", async () => {
    const engine = fakeEngine([{ name: "drills-other-proxy", stack: "other", ports: [derived] }]);
    const r = await resolveBasePort(engine, { stack, offsets: OFFSETS });
    expect(r.base).toBe(derived + PORTS_PER_STACK);
    expect(r.moved).toBe(`port ${derived} is taken by container drills-other-proxy of drills stack other; stack ${stack} uses ports ${r.base}-${r.base + 2} instead`);
  });

  it("moves past a block another stack recorded, even with nothing published yet", async () => {
    const r = await resolveBasePort(fakeEngine([], [{ stack: "other", base: derived }]), { stack, offsets: OFFSETS });
    expect(r.base).toBe(derived + PORTS_PER_STACK);
  });

  it("reuses the block the stack recorded while it exists, and its own ports count as free", async () => {
    const mine = derived + 70;
    const engine = fakeEngine([{ name: `drills-${stack}-proxy`, stack, ports: [mine] }], [{ stack, base: mine }]);
    expect(await resolveBasePort(engine, { stack, offsets: OFFSETS, ownStackFree: true })).toEqual({ base: mine });
  });

  it("moves past a port another program listens on", async () => {
    // Find a stack whose derived block we can occupy: listen on its base.
    const l = await listen(derived + 1).catch(() => undefined);
    if (!l) return expect(await portFree(derived + 1)).toBe(false); // already taken by someone: the case is real anyway
    try {
      const r = await resolveBasePort(fakeEngine([]), { stack, offsets: OFFSETS });
      expect(r.base).not.toBe(derived);
      expect(r.moved).toContain(`port ${derived + 1} is taken by another program: node (pid ${process.pid})`);
    } finally {
      await l.close();
    }
  });

  it("refuses an explicit base whose port is taken, naming the port, who holds it and --base-port", async () => {
    const l = await listen();
    try {
      const base = l.port - 2;
      await expect(resolveBasePort(fakeEngine([]), { stack, explicit: base, offsets: OFFSETS })).rejects.toThrow(
        new RegExp(`^Port ${l.port} on 127\\.0\\.0\\.1 is taken by another program: node \\(pid ${process.pid}\\), and stack ${stack} needs it \\(--base-port ${base} publishes ports ${base}, ${base + 1}, ${l.port}\\)\\. Nothing was created\\..*--base-port`),
      );
    } finally {
      await l.close();
    }
  });

  it("refuses an explicit base another stack's container holds, naming the container", async () => {
    const l = await listen();
    try {
      const engine = fakeEngine([{ name: "drills-other-backend", stack: "other", ports: [l.port] }]);
      await expect(resolveBasePort(engine, { stack, explicit: l.port, offsets: OFFSETS, how: "pulumi" })).rejects.toThrow(
        /taken by container drills-other-backend of drills stack other.*drills:basePort/,
      );
    } finally {
      await l.close();
    }
  });
});
