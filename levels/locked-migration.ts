import { lockedMigration } from "../faults/lockedMigration";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "locked-migration",
  title: "The app hangs after a deploy",
  summary: "After a deploy the user list hangs forever while the servers look idle.",
  engine: "postgres",
  seed: { users: 50, invoices: 20000 },
  faults: [lockedMigration()],
  brief: {
    situation: "A deploy went out a few minutes ago: a schema migration, then a restart of the backend. Support is flooded.",
    symptoms: [
      "The user list never loads; requests hang until the browser gives up.",
      "Invoices and uploads still work.",
      "The servers' CPU is idle. Nothing is crashing.",
    ],
  },
  objectives: [
    "Show whether the backend is busy (CPU) or waiting on something.",
    "Find what the user list is waiting for, and who holds it.",
    "Make the app answer again without losing data.",
  ],
  hints: [
    "On the backend, `top` and `ps -o pid,stat,wchan:20,cmd -C node`: is node burning CPU? What does the request log in /var/log/drills/backend.log say about /api/users?",
    "On the datastore, look at `pg_stat_activity`: which sessions are waiting (`wait_event_type = 'Lock'`), and which one has been in a transaction for a long time?",
    "`SELECT pid, mode, granted, relation::regclass FROM pg_locks WHERE relation = 'users'::regclass;` shows who holds the lock the others wait for.",
    "Solution: terminate the stuck migration session, e.g. `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'deploy-migrate-002';` Its transaction rolls back; rerun the migration properly later.",
  ],
};

export default level;
