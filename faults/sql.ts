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
