import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { levelIds } from "../../levels";
import { logsDir } from "../../smoke/logs";

const ROOT = path.join(__dirname, "..", "..");
const WORKFLOW = path.join(ROOT, ".github", "workflows", "nightly.yml");
const text = fs.readFileSync(WORKFLOW, "utf8");

/** The `run: |` block of the step with `marker` on one of its lines (no YAML parser among our dependencies). */
function runBlock(marker: string): string {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.includes(marker));
  expect(at).toBeGreaterThanOrEqual(0);
  const runAt = lines.findIndex((l, i) => i >= at && /^\s+run: \|\s*$/.test(l));
  const indent = (lines[runAt + 1].match(/^\s*/) as RegExpMatchArray)[0].length;
  const body: string[] = [];
  for (const l of lines.slice(runAt + 1)) {
    if (l.trim() !== "" && (l.match(/^\s*/) as RegExpMatchArray)[0].length < indent) break;
    body.push(l.slice(indent));
  }
  return body.join("\n");
}

/** Run the level-listing step as the runner would; returns its `levels` output. */
function listLevels(wanted: string): { code: number; levels?: string[]; stderr: string } {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "drills-gh-")), "output");
  fs.writeFileSync(out, "");
  const r = spawnSync("bash", ["-c", runBlock("id: list")], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, GITHUB_OUTPUT: out, WANTED: wanted },
  });
  const line = fs.readFileSync(out, "utf8").split("\n").find((l) => l.startsWith("levels="));
  return { code: r.status ?? -1, levels: line ? (JSON.parse(line.slice("levels=".length)) as string[]) : undefined, stderr: r.stdout + r.stderr };
}

describe("nightly workflow", () => {
  it("runs on a schedule and on demand", () => {
    expect(text).toMatch(/^on:\n(?:.*\n)*?\s+schedule:\n\s+- cron: "[^"]+"/m);
    expect(text).toMatch(/^\s+workflow_dispatch:/m);
  });

  it("its matrix is every level with a stack file, so a new level needs no workflow edit", () => {
    const r = listLevels("");
    expect(r.code).toBe(0);
    expect([...(r.levels ?? [])].sort()).toEqual([...levelIds()].sort());
    expect(text).toContain("level: ${{ fromJSON(needs.levels.outputs.levels) }}");
  });

  it("runs chosen levels on demand and refuses an unknown one", () => {
    expect(listLevels("baseline missing-index").levels).toEqual(["baseline", "missing-index"]);
    const bad = listLevels("no-such-level");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("unknown level 'no-such-level'");
  });

  it("runs exactly the local smoke command, writing the job summary", () => {
    expect(text).toContain('run: npm run smoke -- "$LEVEL" --driver pulumi --summary "$GITHUB_STEP_SUMMARY"');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.smoke).toBe("npm run build && node dist/smoke/main.js");
  });

  it("uploads on failure the folder smoke/logs.ts writes (hidden folder included)", () => {
    const rel = path.relative(ROOT, logsDir("LEVEL")).split(path.sep).join("/");
    expect(text).toContain(`path: ${rel.replace("LEVEL", "${{ matrix.level }}")}/`);
    expect(text).toMatch(/if: failure\(\)\n\s+uses: actions\/upload-artifact@v4/);
    expect(text).toContain("include-hidden-files: true");
  });

  it("pins every action to a major version", () => {
    const uses = [...text.matchAll(/uses: (\S+)/g)].map((m) => m[1]);
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
  });

  // scripts/lint-workflows.sh builds actionlint from the Go module proxy when it is missing.
  const canLint = spawnSync("bash", ["-c", "command -v actionlint || command -v go"]).status === 0;
  (canLint ? it : it.skip)(
    "passes actionlint",
    () => {
      const r = spawnSync("bash", [path.join(ROOT, "scripts", "lint-workflows.sh")], { cwd: ROOT, encoding: "utf8" });
      expect({ code: r.status, output: r.stdout + r.stderr }).toEqual({ code: 0, output: expect.any(String) });
    },
    300_000,
  );
});
