import { spawnSync } from "child_process";
import { waitFor } from "../../faults/scripts";

const run = (script: string) => spawnSync("bash", ["-c", script], { encoding: "utf8" });

describe("waitFor: a bash poll with a deadline", () => {
  it("exits 0 as soon as the condition holds", () => {
    const r = run(`f=$(mktemp -u); (sleep 0.3; touch "$f") &\n${waitFor('[ -e "$f" ]', "never", 5)}`);
    expect(r.status).toBe(0);
  });

  it("fails after its deadline, saying why with the command's output", () => {
    const t0 = Date.now();
    const r = run(waitFor("false", "still running: $(echo a b | tr ' ' '_')", 1));
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("still running: a_b");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });
});
