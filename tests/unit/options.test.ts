import { DrillsError } from "../../plan/errors";
import { parseOptions } from "../../plan/options";

const LEVELS = ["baseline", "missing-index"];

function errorOf(f: () => unknown): DrillsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DrillsError);
    return e as DrillsError;
  }
  throw new Error("expected a DrillsError");
}

describe("parseOptions", () => {
  it("defaults target, stack and base image", () => {
    expect(parseOptions({ level: "baseline" }, LEVELS)).toEqual({
      level: "baseline",
      target: "docker",
      stack: "level-baseline",
      baseImage: "debian:bookworm-slim",
      seed: {},
    });
  });

  it("reads seed sizes, base port and stack", () => {
    const o = parseOptions({ level: "baseline", stack: "class-a", seedInvoices: "3000000", seedUsers: "10", basePort: "21000" }, LEVELS);
    expect(o.seed).toEqual({ invoices: 3000000, users: 10 });
    expect(o.basePort).toBe(21000);
    expect(o.stack).toBe("class-a");
  });

  it("names the missing key and the valid levels", () => {
    const e = errorOf(() => parseOptions({}, LEVELS));
    expect(e.message).toMatch(/Missing config key drills:level/);
    expect(e.message).toMatch(/baseline, missing-index/);
  });

  it("rejects an unknown level with the valid ones", () => {
    const e = errorOf(() => parseOptions({ level: "nope" }, LEVELS));
    expect(e.message).toMatch(/Unknown level "nope"/);
    expect(e.message).toMatch(/Valid levels: baseline, missing-index/);
  });

  it("rejects an unknown target with the valid ones", () => {
    const e = errorOf(() => parseOptions({ level: "baseline", target: "k8s" }, LEVELS));
    expect(e.message).toMatch(/Invalid drills:target "k8s": use one of docker, aws \(default docker\)/);
  });

  it.each(["abc", "-5", "1.5", " ", "3e6", "99999999999"])("rejects malformed seed size %p", (bad) => {
    const e = errorOf(() => parseOptions({ level: "baseline", seedInvoices: bad }, LEVELS));
    expect(e.message).toContain(`Invalid drills:seedInvoices "${bad}"`);
    expect(e.message).toMatch(/whole number from 0 to 10000000/);
  });

  it("treats an empty seed size as the level's default", () => {
    expect(parseOptions({ level: "baseline", seedInvoices: "" }, LEVELS).seed).toEqual({});
  });

  it("rejects a bad base port, stack name and base image", () => {
    expect(errorOf(() => parseOptions({ level: "baseline", basePort: "80" }, LEVELS)).message).toMatch(/drills:basePort "80".*1024 to 65525/);
    expect(errorOf(() => parseOptions({ level: "baseline", stack: "Bad_Stack" }, LEVELS)).message).toMatch(/Invalid stack name "Bad_Stack"/);
    expect(errorOf(() => parseOptions({ level: "baseline", baseImage: "not an image" }, LEVELS)).message).toMatch(/Invalid drills:baseImage/);
  });

  describe("aws target", () => {
    const aws = (extra: Record<string, string>) => parseOptions({ level: "baseline", target: "aws", ...extra }, LEVELS);

    it("has secure, small defaults", () => {
      expect(aws({ allowedCidr: "203.0.113.7/32" }).aws).toEqual({
        allowedCidr: "203.0.113.7/32",
        allowWorldSsh: false,
        vpc: "default",
        ttlHours: 4,
        player: "unassigned",
        instanceTypes: { proxy: "t3.micro", backend: "t3.small", datastore: "t3.small" },
      });
      expect(parseOptions({ level: "baseline" }, LEVELS).aws).toBeUndefined();
    });

    it.each([
      [{}, /Missing config key drills:allowedCidr/],
      [{ allowedCidr: "0.0.0.0/0" }, /0\.0\.0\.0\/0 would open SSH on every node.*drills:allowWorldSsh true/],
      [{ allowedCidr: "203.0.113.7" }, /Invalid drills:allowedCidr "203.0.113.7": give an IPv4 CIDR/],
      [{ allowedCidr: "300.1.1.1/32" }, /Invalid drills:allowedCidr/],
      [{ allowedCidr: "203.0.113.7/24" }, /host bits set for \/24; did you mean 203\.0\.113\.0\/24\?/],
      [{ allowedCidr: "203.0.113.7/32", allowWorldSsh: "yes" }, /Invalid drills:allowWorldSsh "yes"/],
      [{ allowedCidr: "203.0.113.7/32", ttlHours: "0" }, /Invalid drills:ttlHours "0": it must be a whole number from 1 to 72/],
      [{ allowedCidr: "203.0.113.7/32", ttlHours: "1.5" }, /Invalid drills:ttlHours/],
      [{ allowedCidr: "203.0.113.7/32", vpc: "mine" }, /Invalid drills:vpc "mine"/],
      [{ allowedCidr: "203.0.113.7/32", proxyInstanceType: "huge" }, /Invalid drills:proxyInstanceType "huge": give an EC2 instance type/],
      [{ allowedCidr: "203.0.113.7/32", datastoreInstanceType: "t4g.small" }, /arm64 \(Graviton\)/],
      [{ allowedCidr: "203.0.113.7/32", player: "a b" }, /Invalid drills:player "a b"/],
    ])("rejects %p", (extra, message) => {
      const e = errorOf(() => aws(extra as Record<string, string>));
      expect(e.message).toMatch(message as RegExp);
    });

    it("accepts the world only with the explicit override", () => {
      expect(aws({ allowedCidr: "0.0.0.0/0", allowWorldSsh: "true" }).aws?.allowedCidr).toBe("0.0.0.0/0");
      expect(aws({ allowedCidr: "203.0.113.7/32", backendInstanceType: "m5.large", ttlHours: "8" }).aws).toEqual(
        expect.objectContaining({ ttlHours: 8, instanceTypes: expect.objectContaining({ backend: "m5.large" }) }),
      );
    });
  });
});
