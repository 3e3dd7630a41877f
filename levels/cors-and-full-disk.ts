import { badCors } from "../faults/badCors";
import { diskFull } from "../faults/diskFull";
import { LevelDefinition } from "./types";

/** Two faults at once: a browser-only failure hides a full disk behind it. */
const level: LevelDefinition = {
  id: "cors-and-full-disk",
  title: "A blank app, and uploads fail too",
  summary: "Two faults at once: the browser shows no data, and uploads fail too.",
  engine: "postgres",
  seed: { users: 50, invoices: 20000 },
  faults: [badCors(), diskFull()],
  brief: {
    situation: "The API moved to its own origin this week, and batch jobs ran last night. Users report the app is broken.",
    symptoms: [
      "In the browser every section says it could not load.",
      "Customers who use the API directly say their file uploads fail; reads work.",
    ],
  },
  objectives: [
    "Find every cause: there is more than one.",
    "Fix each without losing users' files.",
  ],
  hints: [
    "Start with what the browser's console says, then try an upload with curl against the API directly.",
    "Compare Origin and Access-Control-Allow-Origin; then `df -h` and `du` on the backend.",
    "Two settings/places: /etc/drills/backend.env, and the uploads volume.",
    "Solution: set CORS_ORIGIN in /etc/drills/backend.env to the app's exact origin and `supervisorctl restart backend`; delete /var/lib/drills/uploads/.exports/nightly-export.csv.tmp.",
  ],
};

export default level;
