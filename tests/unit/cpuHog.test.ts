import { stillBusy } from "../../faults/cpuHog";
import { NodeCpu } from "../../faults/nodeUsage";

const API = "/usr/bin/node /opt/drills/backend/server.js";
const supervisord = { pid: 1, comm: "python3", args: "/usr/bin/python3 /usr/bin/supervisord -n -c /etc/supervisor/supervisord.conf", pct: 1 };

describe("cpu-hog's check: what still uses the backend's CPU", () => {
  it("calls an idle node idle, whatever share supervisord's tick has of almost nothing (seen in CI after the solution)", () => {
    const idle: NodeCpu = { cpus: 0.01, throttled: 0, top: [supervisord] };
    expect(stillBusy(idle)).toEqual([]);
  });

  it("names every process of the running job on a throttled node (the broken level, as benched)", () => {
    const broken: NodeCpu = {
      cpus: 0.43,
      throttled: 4,
      top: [
        { pid: 316, comm: "bash", args: "bash /usr/local/bin/nightly-dumps", pct: 24 },
        { pid: 318, comm: "bash", args: "bash /usr/local/bin/nightly-dumps", pct: 13.7 },
        { pid: 317, comm: "bash", args: "bash /usr/local/bin/nightly-dumps", pct: 11.3 },
        { pid: 2439, comm: "gzip", args: "gzip -9", pct: 2.4 },
        { pid: 40, comm: "node", args: API, pct: 1 },
      ],
    };
    expect(stillBusy(broken).map((p) => p.pid)).toEqual([316, 318, 317, 2439]);
  });

  it("does not blame supervisord when the API itself is what works", () => {
    const apiBusy: NodeCpu = { cpus: 0.41, throttled: 0, top: [{ pid: 40, comm: "node", args: API, pct: 80 }, supervisord] };
    expect(stillBusy(apiBusy)).toEqual([]);
  });

  it("still names a big process on a node that is not throttled (a reniced job keeps its CPU)", () => {
    const reniced: NodeCpu = { cpus: 0.47, throttled: 0, top: [{ pid: 77, comm: "bash", args: "bash /usr/local/bin/nightly-dumps", pct: 47 }] };
    expect(stillBusy(reniced).map((p) => p.comm)).toEqual(["bash"]);
  });
});
