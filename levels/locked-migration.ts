import { lockedMigration } from "../faults/lockedMigration";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = lockedMigration();

// What users see, as measured by the fault's probe (the statements are held to its figures below).
const USERS =
  'The user list shows "Could not load users: Query read timeout" after about 30 seconds; ' +
  "behind it, GET /api/users answers 500 with the same message after the same wait.";
const REST = "Invoices, uploads and the API's health check answer as fast as ever.";
const CPU = "The servers' CPU is idle.";

/** The statements of the brief that the probe's figures contradict (a missing figure contradicts too). */
function contradictions(probes: Record<string, ProbeResult>): string[] {
  const f = probes[fault.id]?.figures ?? {};
  const wrong: string[] = [];
  const ms = Number(f.symptomMs);
  if (!(f.symptomStatus === 500 && ms >= 25_000 && ms <= 35_000 && f.symptomMessage === "Query read timeout" &&
    f.pageMessage === "Could not load users: Query read timeout")) wrong.push(USERS);
  const statuses = String(f.otherStatuses ?? "").split(" ").filter(Boolean);
  if (!(statuses.length === 3 && statuses.every((s) => s === "200") && Number(f.otherP50MaxMs) < 150)) wrong.push(REST);
  if (!(Number(f.cpuBusyMaxPct) < 20)) wrong.push(CPU);
  return wrong;
}

const level: LevelDefinition = {
  id: "locked-migration",
  title: "The user list fails after a deploy",
  summary: "After a deploy the user list fails after a long wait while the servers look idle.",
  engine: "postgres",
  category: "datastore",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "A backend release went out a few minutes ago: the deploy started the release's schema migration and restarted the backend. " +
      "Since then support is flooded: nobody can see the user list.",
    alert: "Uptime check \"users API\" failing: GET /api/users returns 500 after 30 s, every attempt since just after the deploy.",
    symptoms: [USERS, REST, CPU],
    contradictions,
  },
  objectives: [
    "Show whether the backend is busy (CPU) or waiting on something, and what.",
    "Find what the user list is waiting for, and who holds it up; tie it to the deploy.",
    "Make the app answer again without losing data, and leave nothing of the failed deploy running.",
  ],
  hints: [
    "Time it: `curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' <app>/api/users`. On the backend, is node burning CPU (`top`)? Read /var/log/drills/backend.log around the deploy's restart, and what the deploy itself logged in /var/log/drills/deploy.log.",
    "The deploy started a migration runner in the background: is it still running (`ps -ef` on the backend)? Which file was it applying (/opt/drills/migrations/postgres)? Compare with `SELECT * FROM schema_migrations;` on the datastore.",
    "On the datastore (`PGPASSWORD=drills psql -U drills -h 127.0.0.1 drills`): `SELECT pid, application_name, client_addr, state, wait_event_type, wait_event, now() - xact_start AS open_for, pg_blocking_pids(pid) FROM pg_stat_activity WHERE datname = 'drills';` Who waits, and on whom? What is that session running, and why does it never end?",
    "Solution: end the runner's database session: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'drills-migrate';` Its transaction rolls back (003 stays unapplied), the runner logs the failure and exits, and the user list answers at once. Killing the runner process alone is not enough: its session keeps running on the datastore. Leave 003 unapplied (and do not restart the backend while it is pending: the backend applies pending migrations when it starts) until its backfill is fixed: users without invoices stay NULL, so its loop never ends.",
  ],
};

export default level;
