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
    expect(e.message).toMatch(/Unknown target "k8s"/);
    expect(e.message).toMatch(/docker, aws/);
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
});
