import { diskFull } from "../faults/diskFull";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "disk-full",
  title: "Uploads fail, reads work",
  summary: "File uploads fail with a server error while everything else still works.",
  engine: "postgres",
  seed: { users: 50, invoices: 20000 },
  faults: [diskFull()],
  brief: {
    situation: "Since last night's batch jobs, customers cannot attach files. Nobody changed the app.",
    symptoms: [
      "Uploading a file fails with an error.",
      "Listing users and invoices, and the files already uploaded, works.",
    ],
  },
  objectives: [
    "Find why writes fail on the backend.",
    "Make uploads work again without losing any file a user uploaded.",
  ],
  hints: [
    "What does the backend log (/var/log/drills/backend.log) say for the failed upload? Which error code?",
    "`df -h` on the backend: which filesystem is full? Then `du -ah <mount> | sort -h | tail` to see what takes the space; hidden folders count too.",
    "The users' files must stay. Is there something in there that no user uploaded?",
    "Solution: delete the runaway export /var/lib/drills/uploads/.exports/nightly-export.csv.tmp (and stop whatever wrote it), then uploads work again.",
  ],
};

export default level;
