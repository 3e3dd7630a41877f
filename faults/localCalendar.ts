import * as crypto from "crypto";
import { ActionSpec } from "../plan/types";
import { stringParam } from "./params";
import { RESTART_BACKEND } from "./scripts";
import { scriptedStory } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";

export interface LocalCalendarParams {
  /**
   * The zone the backend node was set to. West of UTC (any hour of the day):
   * the release's day boundary then makes an empty range at every hour.
   */
  zone?: string;
}

const USERS_JS = "/opt/drills/backend/routes/users.js";
const RELEASE_NOTES = "/opt/drills/backend/RELEASE";
const DEPLOY_LOG = "/var/log/drills/deploy.log";
const CHANGES = "/var/log/drills/changes.log";
const JOB = "/usr/local/bin/partner-import";
const JOB_CRON = "/etc/cron.d/partner-import";

/** The healthy app's day (app/backend/routes/users.js): the UTC day, as created_at holds UTC. */
const HEALTHY_DAY = [
  "// created_at holds UTC (the database's clock): a day is a UTC day (YYYY-MM-DD).",
  "const dayOf = (d) => d.toISOString().slice(0, 10);",
].join("\n");

/** The release's day: the node's calendar day, to match the partner import's file names. */
const RELEASED_DAY = [
  "// The calendar day of d where the server runs (YYYY-MM-DD); the partner import",
  "// names its files after the same day (REPORT-88).",
  "const dayOf = (d) => [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, '0')).join('-');",
].join("\n");

/** Bash: replace text $from by $to in a file, failing when $from is not there exactly once. */
function replaceIn(file: string, from: string, to: string): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return [
    `node - ${file} ${b64(from)} ${b64(to)} <<'JS'`,
    "const fs = require('fs');",
    "const [file, from, to] = process.argv.slice(2).map((a, i) => (i ? Buffer.from(a, 'base64').toString() : a));",
    "const s = fs.readFileSync(file, 'utf8');",
    "if (s.split(from).length !== 2) { console.error(`${file}: the expected code is not there`); process.exit(1); }",
    "fs.writeFileSync(file, s.replace(from, () => to));",
    "JS",
  ].join("\n");
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const sqlTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const DAY = 86_400_000;
const rand = (lo: number, hi: number) => lo + crypto.randomInt(hi - lo + 1);
const randomName = () => `Check ${crypto.randomBytes(3).toString("hex")}`;

interface Listed {
  status: number;
  day: string;
  ids: number[];
}

/** GET /api/users/today through the proxy, as the front end does. */
async function listedToday(ctx: CheckContext): Promise<Listed> {
  const r = await ctx.http(`${ctx.plan.appUrl}api/users/today`);
  if (r.status !== 200) return { status: r.status, day: "", ids: [] };
  const body = JSON.parse(r.text) as { day: string; items: Array<{ id: number }> };
  return { status: 200, day: body.day, ids: body.items.map((u) => u.id) };
}

/** Create a user through the proxy's API, as the front end's form does; its id, or the status. */
async function createUser(ctx: CheckContext): Promise<{ status: number; id: number; name: string }> {
  const name = randomName();
  const r = await ctx.http(`${ctx.plan.appUrl}api/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, email: `${name.replace(" ", ".").toLowerCase()}@example.com` }),
  });
  return { status: r.status, id: r.status === 201 ? (JSON.parse(r.text) as { id: number }).id : 0, name };
}

/** A user as if created at a given time (the check's own rows, removed after). */
async function insertAt(ctx: CheckContext, ms: number): Promise<number> {
  const email = `${crypto.randomBytes(6).toString("hex")}@example.com`;
  const pg = ctx.plan.engine === "postgres";
  await ctx.sql(`INSERT INTO users (name, email, created_at) VALUES (${pg ? "$1, $2, $3" : "?, ?, ?"})`, [randomName(), email, sqlTime(ms)]);
  const rows = await ctx.sql(`SELECT id FROM users WHERE email = ${pg ? "$1" : "?"}`, [email]);
  return Number(rows[0].id);
}

async function removeUsers(ctx: CheckContext, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await ctx.sql(`DELETE FROM users WHERE id IN (${ids.map((id) => Number(id)).join(", ")})`);
}

/**
 * Bash: start a second copy of the running backend (same program, user,
 * directory and environment, read from the process listening on :3000) on
 * another port with its clock moved by each shift in turn, and print its
 * /api/users/today per shift: the app as it is, at other hours of the day.
 */
function atOtherHours(shiftsMs: number[]): string {
  return [
    "set -uo pipefail",
    "# Root in a container may not read another user's process details (no CAP_SYS_PTRACE): ask as that user.",
    "listener() { \"$@\" ss -Hltnp 'sport = :3000' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }",
    "pid=$(listener); [ -n \"$pid\" ] || pid=$(listener runuser -u app --)",
    '[ -n "$pid" ] || { echo NOAPP; exit 0; }',
    'user=$(stat -c %U /proc/$pid)',
    'as() { if [ "$user" = root ]; then "$@"; else runuser -u "$user" -- "$@"; fi; }',
    "cwd=$(as readlink /proc/$pid/cwd)",
    "mapfile -d '' cmd </proc/$pid/cmdline; mapfile -d '' envs < <(as cat /proc/$pid/environ)",
    "dir=$(mktemp -d /tmp/.check.XXXXXX); chmod 0755 \"$dir\"; echo 0 >\"$dir/shift\"; chmod 0644 \"$dir/shift\"",
    "cat >\"$dir/clock.js\" <<'JS'",
    "const fs = require('fs');",
    "const Real = Date;",
    "const shift = () => { try { return Number(fs.readFileSync(process.env.CHECK_CLOCK, 'utf8')) || 0; } catch { return 0; } };",
    "global.Date = class extends Real {",
    "  constructor(...a) { if (a.length) super(...a); else super(Real.now() + shift()); }",
    "  static now() { return Real.now() + shift(); }",
    "};",
    "JS",
    'install -o "$user" -m 0644 /dev/null "$dir/log"',
    '( cd "$cwd" && exec setpriv --reuid="$user" --regid="$user" --init-groups env -i "${envs[@]}" PORT=3998 LOG_FILE="$dir/log" CHECK_CLOCK="$dir/shift" NODE_OPTIONS="--require $dir/clock.js" "${cmd[@]}" ) </dev/null >"$dir/out" 2>&1 &',
    "clone=$!",
    "trap 'kill $clone 2>/dev/null; wait $clone 2>/dev/null; rm -rf \"$dir\"' EXIT",
    "for _ in $(seq 1 100); do curl -fsS -m 2 http://127.0.0.1:3998/api/health >/dev/null 2>&1 && break; sleep 0.2; done",
    'curl -fsS -m 2 http://127.0.0.1:3998/api/health >/dev/null 2>&1 || { echo "NOSTART $(tail -n 3 "$dir/out" "$dir/log" | tr "\\n" " ")"; exit 0; }',
    `for s in ${shiftsMs.join(" ")}; do`,
    '  echo "$s" >"$dir/shift"',
    '  printf "SHIFT\\t%s\\t%s\\n" "$s" "$(curl -sS -m 5 http://127.0.0.1:3998/api/users/today | tr -d "\\n")"',
    "done",
  ].join("\n");
}

/**
 * The backend node's zone was set west of UTC for a partner's cron job; a
 * release since takes "today" from the node's calendar while created_at
 * holds UTC. The "created today" view is empty at every hour.
 */
export function localCalendar(params: LocalCalendarParams = {}): Fault {
  const id = "local-calendar";
  const zone = stringParam(id, "zone", params.zone, "America/Chicago", /^(America|Pacific)\/[A-Za-z_]+$/, "a zone west of UTC such as America/Chicago");

  const artifacts: Record<string, string> = {
    zone: `backend: /etc/localtime -> /usr/share/zoneinfo/${zone} and /etc/timezone, changed 6 days ago; \`date\` prints the zone`,
    changes: `backend: ${CHANGES}: the zone change 6 days ago for the partner import (FIN-3120)`,
    job: `backend: ${JOB_CRON} (06:00 on the node's clock) and ${JOB}`,
    release: `backend: ${USERS_JS}: dayOf from the node's calendar (mtime: the release, yesterday), ${RELEASE_NOTES}, and ${DEPLOY_LOG}: a release yesterday, backend restarted by the deploy`,
  };

  const restore = (): ActionSpec[] => [
    {
      id: `${id}-fix`,
      node: "backend",
      description: "take the day from UTC again (created_at holds UTC), then restart the backend",
      script: ["set -euo pipefail", replaceIn(USERS_JS, RELEASED_DAY, HEALTHY_DAY), ...RESTART_BACKEND].join("\n"),
    },
  ];

  return {
    id,
    description: `The backend node runs in ${zone} and a release takes "today" from the node's calendar while created_at holds UTC: "created today" is always empty.`,
    spoilers: ["timezone", "time zone", "utc", zone.toLowerCase(), "chicago", "localtime", "offset"],
    bounds: [
      "Changes the backend node's zone and one function of its users route; the datastore and its data are not touched.",
      "The check adds a few users (through the API and as the app's database user) and removes them; it runs a second copy of the backend on port 3998 for a few seconds.",
    ],
    actions: () => [
      {
        id: `${id}-history`,
        node: "backend",
        description: "the node's zone set for a partner's job, then yesterday's release",
        script: [
          "set -euo pipefail",
          "now=$(date +%s); zoned=$(( now - 6 * 86400 - 7200 )); released=$(( now - 20 * 3600 )); release=$(date -u -d \"@$released\" +%Y.%m.%d).1",
          'iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.%3NZ; }',
          'at() { date -u -d "@$1" "+%F %T"; }',
          "# Six days ago: the node's zone, for the partner's import at 06:00 their time.",
          `ln -sfn /usr/share/zoneinfo/${zone} /etc/localtime`,
          `echo ${zone} >/etc/timezone`,
          `cat >${JOB} <<'SH'`,
          "#!/bin/bash",
          "# partner-import: the users created today, as CSV, for the partner's 06:00 import (FIN-3120).",
          "set -euo pipefail",
          "out=/var/lib/drills/exports; mkdir -p \"$out\"",
          "day=$(date +%F)",
          "curl -fsS -m 30 http://127.0.0.1:3000/api/users/today |",
          "  node -e 'let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>{for(const u of JSON.parse(s).items)console.log([u.id,u.name,u.email,u.created_at].join(\",\"))})' >\"$out/users-$day.csv\"",
          'echo "$(date "+%F %T") partner-import: $(wc -l <"$out/users-$day.csv") users for $day"',
          "SH",
          `chmod 0755 ${JOB}`,
          `printf '%s\\n' '# Partner import, 06:00 their time (FIN-3120).' '0 6 * * * app ${JOB} >>/var/log/drills/partner-import.log 2>&1' >${JOB_CRON}`,
          `touch -d "@$zoned" ${JOB} ${JOB_CRON} /etc/timezone; touch -h -d "@$zoned" /etc/localtime`,
          `cat >>${CHANGES} <<EOF`,
          `$(at $zoned) ops(dfarrell): FIN-3120 the partner imports at 06:00 their time: node zone set to ${zone} (ln -sfn /usr/share/zoneinfo/${zone} /etc/localtime, /etc/timezone); cron restarted`,
          `$(at $(( zoned + 60 ))) ops(dfarrell): FIN-3120 ${JOB_CRON} installed (0 6 * * *)`,
          "EOF",
          `touch -d "@$(( zoned + 60 ))" ${CHANGES}`,
          "supervisorctl restart cron >/dev/null",
          "# Yesterday: the release, shipped and the backend restarted by the deploy hook.",
          replaceIn(USERS_JS, HEALTHY_DAY, RELEASED_DAY),
          `printf '%s\\n' "$release" '- users: the day of a date from the server calendar, as the partner import names its files (REPORT-88)' >${RELEASE_NOTES}`,
          `touch -d "@$released" ${USERS_JS} ${RELEASE_NOTES}`,
          `install -d -o app -g app -m 0755 /var/log/drills; [ -e ${DEPLOY_LOG} ] || install -o app -g app -m 0644 /dev/null ${DEPLOY_LOG}`,
          `cat >>${DEPLOY_LOG} <<EOF`,
          `$(iso $released) INFO deploy $release: starting`,
          `$(iso $released) INFO deploy $release: migration runner started in the background (pid $(( 4000 + RANDOM % 3000 )))`,
          `$(iso $(( released + 1 ))) INFO deploy $release: migrations done`,
          `$(iso $(( released + 1 ))) INFO deploy $release: restarting the backend`,
          `$(iso $(( released + 3 ))) INFO deploy $release: backend healthy after 1.8s`,
          `$(iso $(( released + 3 ))) INFO deploy $release: done`,
          "EOF",
          `touch -d "@$(( released + 3 ))" ${DEPLOY_LOG}`,
          ...RESTART_BACKEND,
        ].join("\n"),
      },
    ],
    probe: async (ctx): Promise<ProbeResult> => {
      const made = await createUser(ctx);
      const list = await listedToday(ctx);
      const all = await ctx.http(`${ctx.plan.appUrl}api/users`);
      const inAll = all.status === 200 && all.text.includes(made.name);
      await removeUsers(ctx, made.id ? [made.id] : []);
      const zoneNow = (await ctx.exec("backend", "date +%Z")).stdout.trim();
      const listed = list.ids.includes(made.id);
      return {
        present: made.status === 201 && !listed,
        summary: `created a user (${made.status}); in the full list: ${inAll}; under created today (day ${list.day}, ${list.ids.length} users): ${listed}; UTC day ${utcDay(Date.now())}; backend's zone ${zoneNow}`,
        figures: { createStatus: made.status, inAllUsers: String(inAll), todayStatus: list.status, todayCount: list.ids.length, listedToday: String(listed), viewDay: list.day, utcDay: utcDay(Date.now()), backendZone: zoneNow },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const now = Date.now();
      const today = Date.parse(utcDay(now));
      // Users around the day's edges, as the database's clock (UTC) puts them.
      const own: number[] = [];
      try {
        const made = [await createUser(ctx), await createUser(ctx)];
        own.push(...made.filter((m) => m.id).map((m) => m.id));
        const lastNight = today - rand(5, 300) * 1000;
        const pastMidnight = Math.min(now - 1000, today + rand(5, 300) * 1000);
        const ids = { lastNight: await insertAt(ctx, lastNight), pastMidnight: await insertAt(ctx, pastMidnight) };
        own.push(ids.lastNight, ids.pastMidnight);
        // Yesterday's users, spread over its hours, and the minute before it began.
        const yesterday = today - DAY;
        const spread = Array.from({ length: 8 }, (_, k) => yesterday + k * 3 * 3_600_000 + rand(60, 160 * 60) * 1000);
        const before = yesterday - rand(5, 300) * 1000;
        const rows: Array<{ id: number; at: number }> = [];
        for (const at of [before, ...spread]) rows.push({ id: await insertAt(ctx, at), at });
        own.push(...rows.map((r) => r.id));
        rows.push({ id: ids.lastNight, at: lastNight }, { id: ids.pastMidnight, at: pastMidnight });
        for (const m of made) if (m.id) rows.push({ id: m.id, at: now });

        // Now, through the proxy, as users see it.
        const list = await listedToday(ctx);
        const missing = made.filter((m) => m.status === 201 && !list.ids.includes(m.id));
        if (made.some((m) => m.status !== 201)) reasons.push(`Creating a user through the API failed (${made.map((m) => m.status).join(", ")}).`);
        if (list.status !== 200) reasons.push(`GET /api/users/today through the proxy answers ${list.status}.`);
        else {
          if (missing.length) reasons.push(`Users created a moment ago through the API (${missing.map((m) => `"${m.name}"`).join(", ")}) are not listed under created today (the view's day: ${list.day}, ${list.ids.length} users listed).`);
          if (!list.ids.includes(ids.pastMidnight)) reasons.push(`A user created today at ${sqlTime(pastMidnight)} UTC (the database's clock) is not listed under created today.`);
          if (list.ids.includes(ids.lastNight)) reasons.push(`A user created yesterday at ${sqlTime(lastNight)} UTC is listed under created today.`);
        }

        // The same app at other hours: a copy of the running backend with its clock moved to each of yesterday's users.
        const clocks = spread.map((at) => at + rand(60, 600) * 1000);
        const out = (await ctx.exec("backend", atOtherHours(clocks.map((c) => c - now)))).stdout;
        let wrongHours: string[] = [];
        if (out.startsWith("NOAPP")) reasons.push("Nothing listens on port 3000 on the backend.");
        else if (out.startsWith("NOSTART")) reasons.push(`A second copy of the backend, started as it runs now, did not start: ${out.slice(8, 300)}`);
        else {
          const answers = out.split("\n").filter((l) => l.startsWith("SHIFT\t")).map((l) => l.split("\t"));
          wrongHours = clocks.map((c, i) => {
            let got: number[] = [];
            try {
              got = (JSON.parse(answers[i]?.[2] ?? "") as { items: Array<{ id: number }> }).items.map((u) => u.id);
            } catch {
              return `${sqlTime(c)} UTC: no answer`;
            }
            const want = rows.filter((r) => utcDay(r.at) === utcDay(c)).map((r) => r.id);
            const ours = new Set(rows.map((r) => r.id));
            const extra = got.filter((g) => ours.has(g) && !want.includes(g)).length;
            const lacking = want.filter((w) => !got.includes(w)).length;
            return extra || lacking ? `at ${sqlTime(c).slice(11, 16)} UTC it lists ${extra} user(s) of another day and misses ${lacking} of that day's` : "";
          }).filter(Boolean);
          if (wrongHours.length) {
            reasons.push(`The backend started with its clock at other hours of a day gives wrong "created today" lists at ${wrongHours.length} of ${clocks.length} hours: ${wrongHours.slice(0, 3).join("; ")}.`);
          }
        }
        return {
          ok: reasons.length === 0,
          reasons,
          figures: { viewDay: list.day, utcDay: utcDay(now), todayCount: list.ids.length, hoursTried: clocks.length, wrongHours: wrongHours.length },
        };
      } finally {
        await removeUsers(ctx, own);
      }
    },
    shortcuts: [
      {
        description: "set the node's zone back to UTC (and TZ=UTC in the shell) without restarting the backend",
        actions: () => [
          {
            id: `${id}-shortcut-zone`,
            node: "backend",
            description: "zone back to UTC, no restart",
            script: "set -e\nln -sfn /usr/share/zoneinfo/Etc/UTC /etc/localtime\necho Etc/UTC >/etc/timezone\necho 'export TZ=UTC' >>/root/.bashrc",
          },
        ],
        undo: () => [
          {
            id: `${id}-shortcut-zone-undo`,
            node: "backend",
            description: "zone as before",
            script: `set -e\nln -sfn /usr/share/zoneinfo/${zone} /etc/localtime\necho ${zone} >/etc/timezone\nsed -i '/^export TZ=UTC$/d' /root/.bashrc`,
          },
        ],
      },
      {
        description: "widen the view to yesterday..tomorrow so that new users show whatever the zone",
        actions: () => [
          {
            id: `${id}-shortcut-widen`,
            node: "backend",
            description: "query from yesterday to tomorrow, restart",
            script: [
              "set -euo pipefail",
              `cp -p ${USERS_JS} /root/users.js.before`,
              replaceIn(USERS_JS, "const day = dayOf(new Date());\n  const next = dayOf(new Date(Date.parse(day) + DAY_MS));", "const day = dayOf(new Date(Date.now() - DAY_MS));\n  const next = dayOf(new Date(Date.now() + 2 * DAY_MS));"),
              ...RESTART_BACKEND,
            ].join("\n"),
          },
        ],
        undo: () => [
          { id: `${id}-shortcut-widen-undo`, node: "backend", description: "code as before", script: [`set -euo pipefail`, `mv /root/users.js.before ${USERS_JS}`, ...RESTART_BACKEND].join("\n") },
        ],
      },
      {
        description: "keep the node's calendar day but end it at the node's midnight (right only while the node's date is the UTC date)",
        actions: () => [
          {
            id: `${id}-shortcut-local-next`,
            node: "backend",
            description: "next day from the local calendar, restart",
            script: [
              "set -euo pipefail",
              `cp -p ${USERS_JS} /root/users.js.before`,
              replaceIn(USERS_JS, "const next = dayOf(new Date(Date.parse(day) + DAY_MS));", "const d = new Date();\n  const next = dayOf(new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1));"),
              ...RESTART_BACKEND,
            ].join("\n"),
          },
        ],
        undo: () => [
          { id: `${id}-shortcut-local-next-undo`, node: "backend", description: "code as before", script: [`set -euo pipefail`, `mv /root/users.js.before ${USERS_JS}`, ...RESTART_BACKEND].join("\n") },
        ],
      },
    ],
    solution: restore,
    story: scriptedStory("backend", artifacts, [
      "set -uo pipefail",
      "now=$(date +%s)",
      "age() { echo $(( now - $(stat -c %Y \"$1\") )); }",
      `[ "$(readlink /etc/localtime)" = /usr/share/zoneinfo/${zone} ] && grep -qx '${zone}' /etc/timezone && [ "$(age /etc/timezone)" -ge 432000 ] || echo MISSING zone`,
      `grep -q 'FIN-3120 .*node zone set to ${zone}' ${CHANGES} || echo MISSING changes`,
      `[ -x ${JOB} ] && grep -q '${JOB}' ${JOB_CRON} || echo MISSING job`,
      `grep -q 'getFullYear' ${USERS_JS} && a=$(age ${USERS_JS}) && [ "$a" -ge 3600 ] && [ "$a" -le 172800 ] && grep -qE 'INFO deploy [0-9.]+: done' ${DEPLOY_LOG} && [ -s ${RELEASE_NOTES} ] || echo MISSING release`,
    ].join("\n")),
  };
}
