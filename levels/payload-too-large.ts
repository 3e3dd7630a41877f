import { payloadTooLarge } from "../faults/payloadTooLarge";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = payloadTooLarge();

const symptoms = {
  page:
    "Choosing an ordinary file of a few MB on the page and pressing Upload ends in \"Upload failed:\" with a bare HTTP status, not a message from the app. " +
    "The file never shows up in the list.",
  small: "Small files (a few hundred KB) still upload fine, and everything else in the app works.",
  logs: "The backend's log has no trace of the failed uploads at all.",
};

const level: LevelDefinition = {
  id: "payload-too-large",
  title: "The file that never arrives",
  summary: "Uploading an ordinary scanned document from the page fails; the backend never hears of it.",
  engine: "postgres",
  category: "proxy",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "For two days, support has had tickets from customers who cannot attach signed contracts and scans. " +
      "The backend team looked: the API is up, nothing in its log, and their own test upload (a 100 KB PDF) worked. " +
      "Nobody deployed the app this week.",
    alert: "None: no alert fired. The ticket was escalated to on-call by support this morning.",
    symptoms: [symptoms.page, symptoms.small, symptoms.logs],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      if (Number(f.pageStored) !== 0 || String(f.pageMessage ?? "") !== "" || !/^Upload failed: HTTP \d{3}\b/.test(String(f.pageError ?? ""))) {
        out.push(`${symptoms.page} (measured: stored ${f.pageStored}, page says "${f.pageError || f.pageMessage}")`);
      }
      if (f.smallStatus !== 201) out.push(`${symptoms.small} (measured: a small upload answered ${f.smallStatus})`);
      if (Number(f.backendLogLines) !== 0) out.push(`${symptoms.logs} (measured: ${f.backendLogLines} lines)`);
      return out;
    },
  },
  objectives: [
    "Reproduce the failure with a file like the customers' (a few MB), and find which part of the path refuses it.",
    "Make every file the app accepts get through again, without opening the path to request bodies of any size.",
  ],
  hints: [
    "Upload a 3 MB file yourself (`head -c 3M /dev/urandom >/tmp/f.pdf; curl -si --data-binary @/tmp/f.pdf 'http://127.0.0.1:<port>/api/uploads?name=f.pdf'`). Who answers: the backend (JSON) or something in front of it?",
    "The backend's log shows nothing, so look at the proxy: /var/log/nginx/access.log (the status, and `us=`: the backend's status, `-` when it never got the request).",
    "The proxy's site is rendered from /etc/drills/proxy.env at each start (/usr/local/lib/drills/nginx-run). What changed there, and when? Look for older copies and notes in /var/log/drills/.",
    "Solution: on the proxy set CLIENT_MAX_BODY_SIZE='20m' in /etc/drills/proxy.env (at least the app's own 10 MiB maximum, MAX_BYTES in the backend's routes/uploads.js; not 0, which means no limit) and `supervisorctl restart nginx`. Editing /etc/nginx/sites-available/drills alone is lost at the next restart.",
  ],
};

export default level;
