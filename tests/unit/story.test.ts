import { missingArtifacts, scriptedStory } from "../../faults/story";
import { CheckContext, ExecResult } from "../../faults/types";

/** A context whose every exec answers `r`, recording the scripts it ran and where. */
function answering(r: ExecResult): { ctx: CheckContext; ran: Array<[string, string]> } {
  const ran: Array<[string, string]> = [];
  const ctx = {
    exec: async (role: string, script: string) => {
      ran.push([role, script]);
      return r;
    },
  } as unknown as CheckContext;
  return { ctx, ran };
}

const artifacts = { log: "backend: the job's log", script: "backend: the job's script" };

describe("a story's verify script on a node", () => {
  it("maps each MISSING key to its artifact once, on the node asked, and keeps unknown keys visible", async () => {
    const { ctx, ran } = answering({ code: 0, stdout: "MISSING log\nnoise\nMISSING log\nMISSING other\n", stderr: "" });
    expect(await missingArtifacts(ctx, "proxy", "echo MISSING log", artifacts)).toEqual(["backend: the job's log", "MISSING other"]);
    expect(ran).toEqual([["proxy", "echo MISSING log"]]);
  });

  it("finds nothing missing when the script prints nothing and succeeds", async () => {
    expect(await missingArtifacts(answering({ code: 0, stdout: "", stderr: "" }).ctx, "backend", "true", artifacts)).toEqual([]);
  });

  it("says the node could not be inspected when the script failed without naming anything", async () => {
    const { ctx } = answering({ code: 126, stdout: "", stderr: "exec failed: container not running" });
    expect(await missingArtifacts(ctx, "backend", "true", artifacts)).toEqual(["(could not inspect the backend: exec failed: container not running)"]);
  });
});

describe("a story checked by one script", () => {
  it("lists its artifacts and verifies them on its node", async () => {
    const { ctx, ran } = answering({ code: 0, stdout: "MISSING script\n", stderr: "" });
    const story = scriptedStory("datastore", artifacts, "echo MISSING script");
    expect(story.artifacts).toEqual(Object.values(artifacts));
    expect(await story.verify(ctx)).toEqual(["backend: the job's script"]);
    expect(ran).toEqual([["datastore", "echo MISSING script"]]);
  });
});
