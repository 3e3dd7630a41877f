import { Engine } from "../plan/types";

/**
 * A bash script that runs SQL on the datastore node as its administrator
 * (PostgreSQL: the postgres user over the socket; MariaDB: root over the socket).
 */
export function adminSql(engine: Engine, sql: string): string {
  const client =
    engine === "postgres"
      ? "runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d drills"
      : "mariadb --batch drills";
  return `set -euo pipefail\n${client} <<'DRILLS_SQL'\n${sql}\nDRILLS_SQL\n`;
}

/** Bash lines that restart the backend program and wait until its API answers again. */
export const RESTART_BACKEND = [
  "supervisorctl restart backend >/dev/null",
  "for _ in $(seq 1 100); do curl -fsS -m 2 http://127.0.0.1:3000/api/health >/dev/null 2>&1 && exit 0; sleep 0.1; done",
  'echo "backend did not answer after restart" >&2; exit 1',
];

/**
 * A bash script that tests `condition` (a bash command) every 0.1 s for up
 * to `seconds`: exits 0 once it holds, else prints `failure` (bash, may use
 * $(...)) to stderr and exits 1.
 */
export function waitFor(condition: string, failure: string, seconds = 10): string {
  return [
    "set -euo pipefail",
    `for _ in $(seq 1 ${seconds * 10}); do`,
    `  if ${condition}; then exit 0; fi`,
    "  sleep 0.1",
    "done",
    `echo "${failure}" >&2; exit 1`,
  ].join("\n");
}
