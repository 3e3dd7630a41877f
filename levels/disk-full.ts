import { diskFull } from "../faults/diskFull";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = diskFull();

const symptoms = {
  upload:
    "Every upload fails at once: the API answers HTTP 507 and the page shows \"Upload failed:\" with the server's message. Nothing is stored.",
  reads: "Everything else works as before: the user and invoice lists, and the list of files users uploaded earlier (all of them still listed).",
};

const level: LevelDefinition = {
  id: "disk-full",
  title: "Uploads fail, reads work",
  summary: "File uploads fail with a server error while everything else still works.",
  engine: "postgres",
  category: "node",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "Since last night, customers cannot attach files; the first tickets came in at 07:30. Nobody deployed the app since last week.",
    alert: "Shortly after 02:00 last night: WARNING backend-uploads-usage: /var/lib/drills/uploads above 90% used on backend. Acknowledged by the night shift, no action taken.",
    symptoms: [symptoms.upload, symptoms.reads],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      if (f.uploadStatus !== 507 || !String(f.uploadMessage ?? "") || Number(f.uploadMs) > 2000) {
        out.push(`${symptoms.upload} (measured: ${f.uploadStatus} in ${f.uploadMs} ms, "${f.uploadMessage}")`);
      }
      if (f.readsStatus !== 200 || Number(f.listedFiles) < Number(f.userFiles)) {
        out.push(`${symptoms.reads} (measured: reads ${f.readsStatus}, ${f.listedFiles} of ${f.userFiles} files listed)`);
      }
      if (!(Number(f.usedPct) >= 90)) out.push(`The alert says the uploads volume is above 90% used (measured ${f.usedPct}%).`);
      return out;
    },
  },
  objectives: [
    "Find why writes fail on the backend, and what caused it.",
    "Make uploads work again without losing any file a user uploaded, and make sure it does not happen again tonight.",
  ],
  hints: [
    "What does the backend log (/var/log/drills/backend.log) say for the failed upload? Which error code?",
    "`df -h` on the backend: which filesystem is full? Then `du -ah <mount> | sort -h | tail` to see what takes the space; hidden folders count too.",
    "Nobody uploaded that big file. What wrote it, and when? `ls -la --time-style=full-iso`, /etc/cron.d, /var/log/drills.",
    "It runs every night at 02:00: deleting the file only buys a day. Read the job's script: what does its awk filter do for each customer?",
    "Solution: in /usr/local/bin/nightly-export change the awk filter `'$3 = c'` (an assignment, true for every line) to `'$3 == c'`, then delete /var/lib/drills/uploads/.exports/nightly-export.csv.tmp. Keep the scan-*.pdf files.",
  ],
};

export default level;
