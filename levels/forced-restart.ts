import { forcedRestart } from "../faults/forcedRestart";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = forcedRestart();

const symptoms = {
  api: "Every section of the page says it could not load: the API answers 502 Bad Gateway through the proxy, at once.",
  page: "The page itself loads, and every node answers: you can open a shell on each of them.",
};

const level: LevelDefinition = {
  id: "forced-restart",
  title: "Up, but not serving",
  summary: "The whole API answers 502 while every node is up and nobody changed anything today.",
  engine: "postgres",
  category: "node",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "A few minutes ago the app stopped working for everyone. Nobody deployed today and no change is scheduled. " +
      "The hosting provider's status page mentions maintenance on some hosts in our region this week.",
    alert: "CRITICAL api-health: GET /api/health through the proxy answers 502 (3 checks in a row). The node checks say every node is reachable.",
    symptoms: [symptoms.api, symptoms.page],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      if (f.healthStatus !== 502) out.push(`${symptoms.api} (measured: ${f.healthStatus})`);
      if (f.pageStatus !== 200 || !(Number(f.backendUptimeSeconds) >= 0)) out.push(`${symptoms.page} (measured: page ${f.pageStatus}, backend node ${f.backendUptimeSeconds} s up)`);
      return out;
    },
  },
  objectives: [
    "Show that the backend node is up while the app on it is not serving.",
    "Find out what happened to that node, and when (how long has it been up? what do its logs say?).",
    "Find why the app did not come back with it, and make sure it comes back by itself next time, without anyone at the keyboard.",
  ],
  hints: [
    "The proxy answers; the backend behind it does not. On the backend node: is anything listening on port 3000 (`ss -ltnp`)? What runs the app there (`ps -ef`)?",
    "How long has the backend node been up (`uptime`, `ps -o lstart= -p 1`) compared to the other nodes? What does the end of /var/log/drills/backend.log say?",
    "The app runs under supervisor: `supervisorctl status`, /var/log/supervisor/supervisord.log. Did supervisor start it when the node came up? Look at the program's settings in /etc/supervisor/conf.d/ and at the node's change notes in /var/log/drills/.",
    "Starting it by hand works until the next time the node goes down. The program's settings decide what happens when the node comes up.",
    "Solution: in /etc/supervisor/conf.d/backend.conf set `autostart=true` (a datastore move set it to false and nobody set it back), then `supervisorctl reread && supervisorctl update` (starts it). The next time the node restarts, supervisor starts the app.",
  ],
};

export default level;
