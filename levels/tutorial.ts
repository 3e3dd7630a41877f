import { freshInstall } from "../faults/freshInstall";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "tutorial",
  title: "Three boxes, no wires",
  summary: "Before the game: the app's three nodes are installed but not connected; wire them and learn where each setting lives.",
  engine: "postgres",
  warmUp: true,
  seed: { users: 50, invoices: 20000 },
  faults: [freshInstall()],
  brief: {
    situation:
      "Before your first incident, put the app up yourself. The ops team handed over three boxes (proxy, backend, datastore) " +
      "with the software installed and running, and left a note on each (/root/HANDOVER.txt): nothing is connected yet. " +
      "Connect them so the app works for users, and learn on the way which node holds which setting: " +
      "the proxy's in /etc/drills/proxy.env, the backend's in /etc/drills/backend.env, the datastore's in /etc/drills/datastore.env; " +
      "each program runs under supervisor (`supervisorctl status`, `supervisorctl restart <program>`).",
    alert: "No alert yet: this app has never served a user.",
    symptoms: [
      "The page opens at the app URL (the proxy serves it).",
      "Every section of the page (users, invoices, uploads) says it could not load.",
      "`curl <app URL>api/health` answers 502 from the proxy.",
      "On the backend node, `curl http://127.0.0.1:3000/api/health` answers 503: the API runs, but has no database.",
    ],
    contradictions: (probes) => {
      const p = probes["fresh-install"];
      if (!p) return ["no measurement of the app"];
      const f = p.figures;
      const out: string[] = [];
      if (f.pageStatus !== 200) out.push(`"The page opens": it answered ${f.pageStatus}`);
      if (Number(f.failedSections) < 3 || f.failedSections !== f.sections) out.push(`"Every section ... could not load": ${f.failedSections} of ${f.sections} failed`);
      if (f.apiStatus !== 502) out.push(`"api/health answers 502": it answered ${f.apiStatus}`);
      if (f.backendHealthStatus !== 503) out.push(`"the backend answers 503": it answered ${f.backendHealthStatus}`);
      return out;
    },
  },
  objectives: [
    "Through the proxy, at the app URL: the page loads its users, an invoice search by customer shows that customer's invoices, and a file uploads.",
    "Wire each connection where it belongs: the proxy to the backend, the backend to the datastore, the front end to the API through the proxy. No hard-coded answers.",
    "Write down, per connection, the node, the file, the setting and the restart that applies it: you will need that map in every incident.",
  ],
  hints: [
    "Start where users start: the proxy. Read /root/HANDOVER.txt, then /etc/drills/proxy.env and the end of /var/log/supervisor/nginx.log. Where should nginx send /api/? The other nodes answer by their host names, and the backend listens on port 3000.",
    "Next the backend: /etc/drills/backend.env says where the database is and as whom the API logs in. The datastore node's /etc/drills/datastore.env tells what it serves. After `supervisorctl restart backend`, `curl -s localhost:3000/api/health` on the backend node tells you whether it got through (the log is /var/log/drills/backend.log).",
    "Last the front end: the browser loads config.js from the proxy, rendered from /etc/drills/proxy.env at each `supervisorctl restart nginx`. Which address should the page call so its API requests go through the proxy, like the page itself?",
    "Solution: on the backend node set DB_HOST='datastore', DB_USER and DB_PASSWORD to the account in the datastore's /etc/drills/datastore.env (drills / drills) in /etc/drills/backend.env, then `supervisorctl restart backend`. " +
      "On the proxy node set BACKEND_HOST='backend' and BACKEND_PORT='3000' in /etc/drills/proxy.env and add API_BASE='' (empty: the page calls /api/ on its own origin, the proxy), then `supervisorctl restart nginx`. " +
      "Not the datastore as the proxy's upstream (it speaks SQL, not HTTP), not static answers on the proxy, not the front end calling the backend's port directly.",
  ],
};

export default level;
