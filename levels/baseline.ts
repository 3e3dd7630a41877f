import { LevelDefinition } from "./types";

/** The whole app healthy, no fault: every faulty level starts from it. */
const level: LevelDefinition = {
  id: "baseline",
  title: "Baseline: a healthy production app to tour",
  summary: "The sample app healthy on all three nodes; tour it before a broken level.",
  engine: "postgres",
  seed: { users: 50, invoices: 20000 },
  faults: [],
  brief: {
    situation:
      "Nothing is wrong. This is the production app every other level breaks: " +
      "an nginx proxy serving the front end, a Node backend with a JSON API, and a PostgreSQL datastore.",
    symptoms: ["None: users can sign up, search invoices and upload files."],
  },
  objectives: [
    "Open the app, create a user, search invoices, upload a file.",
    "Get a shell on each node and find its services (supervisorctl status), their logs under /var/log, disk (df -h) and memory (free -m).",
    "On the datastore, connect with psql and look at the invoices table and its indexes.",
  ],
  hints: [
    "Every node runs its services under supervisor: `supervisorctl status` lists them, `supervisorctl tail -f <name>` follows one.",
    "The backend logs every request to /var/log/drills/backend.log; nginx logs to /var/log/nginx/.",
    "On the datastore: `psql -U drills -h 127.0.0.1 drills` (password drills), then `\\d invoices`.",
  ],
};

export default level;
