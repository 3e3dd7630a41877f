import { noWriteAccess } from "../faults/noWriteAccess";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = noWriteAccess();

const symptoms = {
  upload: "Every upload fails at once: the API answers HTTP 500 and the page shows \"Upload failed:\" with the server's message. Nothing is stored.",
  reads: "Every file uploaded before the move is still listed, and everything else in the app works.",
  log: "The backend's log has an error line for each failed upload.",
};

const level: LevelDefinition = {
  id: "no-write-access",
  title: "Moved, and read-only",
  summary: "After the uploads were moved to a new node, old files are there but new uploads fail with a server error.",
  engine: "postgres",
  category: "node",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "Yesterday evening ops moved the customers' uploaded files from the old backend node, which is being retired, to this one. " +
      "Every old file is there and opens; since the move, no new file can be uploaded.",
    alert: "08:10: ERROR rate backend 5xx on POST /api/uploads at 100% (5 of 5 requests in 10 min).",
    symptoms: [symptoms.upload, symptoms.reads, symptoms.log],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      if (f.uploadStatus !== 500 || !String(f.uploadMessage ?? "") || Number(f.uploadMs) > 3000) {
        out.push(`${symptoms.upload} (measured: ${f.uploadStatus} in ${f.uploadMs} ms, "${f.uploadMessage}")`);
      }
      if (f.listStatus !== 200 || Number(f.listed) < Number(f.userFiles)) out.push(`${symptoms.reads} (measured: ${f.listStatus}, ${f.listed} of ${f.userFiles} listed)`);
      if (!(Number(f.logLinesDenied) > 0)) out.push(`${symptoms.log} (measured: ${f.logLinesDenied} lines)`);
      return out;
    },
  },
  objectives: [
    "Find why the backend cannot store new files, and what the move did.",
    "Make uploads work again without losing a file and without weakening the node's security.",
  ],
  hints: [
    "What does the backend's log (/var/log/drills/backend.log) say for a failed upload? Which path, which error?",
    "Which user does the backend run as (`ps -o user,cmd -C node`)? Who owns the folders it writes to (`ls -ln /var/lib/drills/uploads`, `ls -la`)?",
    "How were the files moved? /var/log/drills/migration.log and /var/backups/drills. What does `tar --numeric-owner` keep?",
    "Running the backend as root or opening the folder to everyone (777) makes uploads work and the node unsafe: give the folders to the user the backend runs as.",
    "Solution: `chown -R app:app /var/lib/drills/uploads` (folders stay 0755, files 0644). No restart needed.",
  ],
};

export default level;
