import { missingDirectory } from "../faults/missingDirectory";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = missingDirectory();

const symptoms = {
  upload: "Every upload fails at once: the API answers HTTP 500 and the page shows \"Upload failed:\" with the server's message. Nothing is stored.",
  reads: "Everything else works: the user and invoice lists, and the list of files uploaded before (all still listed).",
  log: "The backend's log has an error line for each failed upload.",
};

const level: LevelDefinition = {
  id: "missing-directory",
  title: "The morning after a quiet day",
  summary: "After a day without uploads, every upload fails with a server error; nothing was deployed.",
  engine: "postgres",
  category: "app",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "Since this morning no customer can attach a file. Uploads worked the day before yesterday; yesterday nobody uploaded anything. " +
      "Nobody deployed the app or changed its settings this week. You have the backend's code on the node (/opt/drills/backend): changing code is fair game.",
    alert: "07:52: ERROR rate backend 5xx on POST /api/uploads at 100% (3 of 3 requests in 10 min).",
    symptoms: [symptoms.upload, symptoms.reads, symptoms.log],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      if (f.uploadStatus !== 500 || !String(f.uploadMessage ?? "") || Number(f.uploadMs) > 3000) {
        out.push(`${symptoms.upload} (measured: ${f.uploadStatus} in ${f.uploadMs} ms, "${f.uploadMessage}")`);
      }
      if (f.listStatus !== 200 || Number(f.listed) < Number(f.userFiles)) out.push(`${symptoms.reads} (measured: ${f.listStatus}, ${f.listed} of ${f.userFiles} listed)`);
      if (!(Number(f.logLinesNamingPath) > 0)) out.push(`${symptoms.log} (measured: ${f.logLinesNamingPath} lines)`);
      return out;
    },
  },
  objectives: [
    "Find why the backend cannot store uploads any more, and what changed overnight.",
    "Make uploads work again in a way that survives the next quiet night, without giving up what the node's nightly maintenance is for.",
  ],
  hints: [
    "What does the backend's log (/var/log/drills/backend.log) say for a failed upload? Which path, which error code?",
    "Where does the backend write an upload before it lands in /var/lib/drills/uploads? Read /opt/drills/backend/routes/uploads.js and lib/config.js, and /etc/drills/backend.env.",
    "It worked two days ago. What runs on this node at night? /etc/cron.d, /var/log/drills. Creating the folder by hand only lasts until the next night after a day without uploads.",
    "The temp folder must be on the same filesystem as the uploads (the backend renames the file into place; across filesystems rename fails with EXDEV), and not writable by everyone.",
    "Solution: in /opt/drills/backend/routes/uploads.js, before writing the temp file, `await fs.promises.mkdir(ctx.config.uploadTmpDir, { recursive: true, mode: 0o755 });`, then `supervisorctl restart backend`. Also make /usr/local/bin/purge-partial-uploads spare the folder itself: `find \"$dir\" -mindepth 1 -mmin +1440 -print -delete`.",
  ],
};

export default level;
