import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cli } from "../cliInProcess";

jest.setTimeout(15 * 60_000);

/**
 * The README's worked example, followed by a test: a new level is one new
 * file in levels/. Nothing else is edited, yet the level is listed, briefed,
 * gets its stack file from `drills stacks`, and deploys for real.
 */
const ID = "zz-worked-example";
const FILE = path.join(__dirname, "..", "..", "levels", `${ID}.ts`);

// The file as a contributor would write it (same text as the README's example).
const LEVEL_FILE = `import { missingIndex } from "../faults/missingIndex";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "${ID}",
  title: "Reports are slow since the weekend",
  summary: "A worked example: the invoice search is slow on a small datastore.",
  engine: "postgres",
  seed: { users: 50, invoices: 20000 },
  faults: [missingIndex({ slowMs: 100 })],
  brief: {
    situation: "Finance says reports got slow over the weekend.",
    symptoms: ["Searching invoices for a customer is slower than it used to be."],
  },
  objectives: ["Find where the time goes and make the search fast again."],
  hints: ["Time the API call.", "Solution: recreate what the search needs."],
};

export default level;
`;

describe("a new level is one file", () => {
  const stacksDir = fs.mkdtempSync(path.join(os.tmpdir(), "drills-stacks-"));
  const stack = "test-worked-example";

  beforeAll(() => fs.writeFileSync(FILE, LEVEL_FILE));
  afterAll(async () => {
    await cli("down", ID, "--stack", stack);
    fs.rmSync(FILE, { force: true });
    fs.rmSync(stacksDir, { recursive: true, force: true });
  });

  it("is listed and briefed", async () => {
    const list = await cli("list");
    expect(list.stdout).toMatch(new RegExp(`^${ID}\\s+A worked example`, "m"));
    const brief = await cli("brief", ID);
    expect(brief.code).toBe(0);
    expect(brief.stdout).toContain("# Reports are slow since the weekend");
  });

  it("gets its stack file from `drills stacks`", async () => {
    const r = await cli("stacks", "--dir", stacksDir);
    expect(r.stdout).toContain(`Pulumi.level-${ID}.yaml`);
    expect(fs.readFileSync(path.join(stacksDir, `Pulumi.level-${ID}.yaml`), "utf8")).toContain(`drills:level: ${ID}`);
  });

  it("deploys for real, shows its symptom, is solved, and goes down leaving nothing", async () => {
    const up = await cli("up", ID, "--stack", stack, "--recreate");
    expect(up.stderr).not.toMatch(/drills: /);
    expect(up.code).toBe(0);
    expect(up.stderr).not.toMatch(/idx_|index/i);
    const solved = await cli("solve", ID, "--stack", stack);
    expect(solved.stdout).toContain(`solved: ${ID} checks OK`);
    const down = await cli("down", ID, "--stack", stack);
    expect(down.stdout).toContain(`${stack}: removed 3 containers, 1 networks, 1 volumes`);
  });
});
