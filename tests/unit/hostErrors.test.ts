import { describeError } from "../../cli/main";
import { demuxLogs } from "../../driver/deployer";
import { dockerProblem, explainDockerError } from "../../driver/engine";
import { DrillsError } from "../../plan/errors";

/** Errors as dockerode raises them. */
const httpError = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: { message } });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code, address: "/var/run/docker.sock" });

describe("engine errors in a user's terms", () => {
  it("classifies the socket going away, a container removed meanwhile, a conflict and a taken port", () => {
    expect(dockerProblem(socketError("ECONNREFUSED"))).toEqual({ kind: "engine", detail: "ECONNREFUSED on /var/run/docker.sock" });
    expect(dockerProblem(socketError("ENOENT")).kind).toBe("engine");
    expect(dockerProblem(httpError(404, "No such container: drills-x-backend"))).toEqual({ kind: "gone", detail: "No such container: drills-x-backend" });
    expect(dockerProblem(httpError(409, 'Conflict. The container name "/drills-x-proxy" is already in use')).kind).toBe("conflict");
    expect(
      dockerProblem(httpError(500, "driver failed programming external connectivity on endpoint drills-x-proxy (abc): Bind for 127.0.0.1:20550 failed: port is already allocated")),
    ).toEqual(expect.objectContaining({ kind: "port", port: 20550 }));
    expect(
      dockerProblem(httpError(500, "driver failed programming external connectivity on endpoint drills-x-proxy (abc): Error starting userland proxy: listen tcp4 127.0.0.1:44500: bind: address already in use")),
    ).toEqual(expect.objectContaining({ kind: "port", port: 44500 }));
    expect(dockerProblem(new TypeError("x is undefined")).kind).toBe("other");
  });

  it("words the known ones as one paragraph with what to do; leaves the rest to the caller", () => {
    expect(explainDockerError(socketError("ECONNREFUSED"))?.message).toMatch(/^The Docker engine stopped answering \(ECONNREFUSED on \/var\/run\/docker\.sock\)\. Start Docker again/);
    expect(explainDockerError(httpError(404, "No such container: drills-x-backend"))?.message).toMatch(/^Docker says: No such container: drills-x-backend\. Something removed it/);
    expect(explainDockerError(httpError(500, "Bind for 127.0.0.1:20550 failed: port is already allocated"))?.message).toMatch(/^Docker could not publish port 20550 on 127\.0\.0\.1.*--base-port/);
    expect(explainDockerError(new Error("boom"))).toBeUndefined();
  });

  it("the CLI prints our errors as they are, known engine errors explained, anything else in one line and where to look", async () => {
    expect(await describeError(new DrillsError("Port 1 is taken."))).toBe("Port 1 is taken.");
    expect(await describeError(httpError(409, "Conflict. name in use"))).toMatch(/^Docker refused: Conflict\. name in use\./);
    const other = await describeError(new TypeError("Cannot read properties of undefined (reading 'State')\n    at x (y.js:1:1)"));
    expect(other).toBe("unexpected error: Cannot read properties of undefined (reading 'State')\nset DRILLS_DEBUG=1 for details");
  });

  it("strips the engine's log framing", () => {
    const frame = (type: number, text: string) => {
      const b = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = type;
      h.writeUInt32BE(b.length, 4);
      return Buffer.concat([h, b]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, "out line\n"), frame(2, "err line\n")]))).toBe("out line\nerr line\n");
    expect(demuxLogs(Buffer.from("plain tty text\n"))).toBe("plain tty text\n");
  });
});
