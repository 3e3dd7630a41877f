import { badCors } from "../faults/badCors";
import { diskFull } from "../faults/diskFull";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const cors = badCors();
const disk = diskFull();

const symptoms = {
  browser: "In the browser every section (users, invoices, uploads) says it could not load.",
  api:
    "Customers who call the API directly (curl, scripts) get their lists, but every file upload they send fails at once with HTTP 507 and an error message.",
};

/** Two faults at once: a browser-only failure hides a volume with no room left behind it. */
const level: LevelDefinition = {
  id: "cors-and-full-disk",
  title: "A blank app, and uploads fail too",
  summary: "Two faults at once: the browser shows no data, and uploads fail too.",
  engine: "postgres",
  category: "app",
  seed: { users: 50, invoices: 20000 },
  faults: [cors, disk],
  brief: {
    situation: "The API moved to its own origin this week, and batch jobs ran last night. Users report the app is broken.",
    symptoms: [symptoms.browser, symptoms.api],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const b = probes[cors.id]?.figures ?? {};
      const d = probes[disk.id]?.figures ?? {};
      const out: string[] = [];
      // The front end has three sections (app/frontend/index.html).
      if (b.failedSections !== 3) out.push(`${symptoms.browser} (measured: ${b.failedSections} of 3 failed)`);
      if (d.readsStatus !== 200 || d.uploadStatus !== 507 || Number(d.uploadMs) > 2000) {
        out.push(`${symptoms.api} (measured: reads ${d.readsStatus}, upload ${d.uploadStatus} in ${d.uploadMs} ms)`);
      }
      return out;
    },
  },
  objectives: [
    "Find every cause: there is more than one.",
    "Fix each without losing users' files, so that neither comes back tonight.",
  ],
  hints: [
    "Start with what the browser's console says, then try an upload with curl against the API directly.",
    "Compare Origin and Access-Control-Allow-Origin; then `df -h` and `du` on the backend.",
    "Two settings/places: /etc/drills/backend.env, and what fills the uploads volume (who wrote it, and when does it run again? /etc/cron.d, /var/log/drills).",
    "Solution: set CORS_ORIGIN in /etc/drills/backend.env to the app's exact origin and `supervisorctl restart backend`; in /usr/local/bin/nightly-export change the awk filter `'$3 = c'` to `'$3 == c'`, then delete /var/lib/drills/uploads/.exports/nightly-export.csv.tmp.",
  ],
};

export default level;
