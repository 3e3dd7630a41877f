import { updateNode } from "../plan/patch";
import { intParam } from "./params";
import { hostFigures, nodeCpu, NodeCpu, sampleLatency } from "./nodeUsage";
import { scriptedStory } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";

export interface CpuHogParams {
  /** The invoice list must answer under this (p50, through the proxy) to count as fixed. */
  fastMs?: number;
  /** Seconds the check lets the scheduled job run before it calls it stuck. */
  jobSeconds?: number;
}

/**
 * The story: every 5 minutes cron runs a job that ships the datastore's
 * nightly dumps (one file per table, dropped in incoming/ at 01:00) off the
 * backend node: compress, move to the archive, delete. Yesterday 16:20 it
 * learnt to read each archive back before deleting the dump, and compares
 * `gzip -dc | sha256sum` ("<hash>  -") with `sha256sum "$dump"` ("<hash>
 * <path>"): never equal, so it compresses every table again and again, in
 * parallel, for ever. flock keeps later runs out; cron starts it again
 * whenever it is not running.
 */
export const BACKUP = {
  script: "/usr/local/bin/db-backup",
  schedule: "/etc/cron.d/db-backup",
  log: "/var/log/drills/db-backup.log",
  incoming: "/var/backups/drills/incoming",
  archive: "/var/backups/drills/archive",
  lock: "/run/lock/db-backup.lock",
} as const;

/** The backend's CPU quota period in this level (see patch). */
const QUOTA_PERIOD_MS = 1000;

const CRON_CMD = `flock -n ${BACKUP.lock} ${BACKUP.script} >>${BACKUP.log} 2>&1`;
const CRON_LINE = `*/5 * * * * root ${CRON_CMD}`;

const jobScript = `#!/bin/bash
# db-backup: ship the datastore's dumps off this node. The datastore's nightly
# dump (01:00) drops one file per table in $INCOMING; cron runs this job every
# 5 minutes (${BACKUP.schedule}): it compresses each new dump, moves the
# archive to $ARCHIVE (kept 14 days) and deletes the dump. Nothing new: it
# exits at once.
# 2026-11-26: read each archive back before the dump is deleted (OPS-2213).
set -euo pipefail

INCOMING=${BACKUP.incoming}
ARCHIVE=${BACKUP.archive}
KEEP_DAYS=14

log() { echo "$(date '+%F %T') db-backup[$$]: $*"; }

backup_one() {
  local dump=$1 name out try=0
  name=$(basename "$dump" .sql)
  out="$ARCHIVE/$name-$(date -r "$dump" +%F).sql.gz"
  log "$name: compressing $(du -k "$dump" | cut -f1) KiB"
  # Compress, then read the archive back: a bad archive is made again.
  until [ "$(gzip -dc "$out.part" 2>/dev/null | sha256sum)" = "$(sha256sum "$dump")" ]; do
    try=$((try + 1))
    [ "$try" -eq 1 ] || log "$name: archive does not match the dump, compressing again (attempt $try)"
    gzip -9 -c "$dump" >"$out.part"
  done
  mv "$out.part" "$out"
  rm -f "$dump"
  log "$name: archived as $out"
}

shopt -s nullglob
dumps=("$INCOMING"/*.sql)
[ \${#dumps[@]} -gt 0 ] || exit 0
log "start: \${#dumps[@]} new dump(s) in $INCOMING"
mkdir -p "$ARCHIVE"
for d in "\${dumps[@]}"; do backup_one "$d" & done
wait
find "$ARCHIVE" -name '*.sql.gz' -mtime +$KEEP_DAYS -delete
log "done"
`;

/**
 * Bash: write tonight's dumps into incoming/ (one file per table, COPY
 * format, rows drawn at random) dated $1 (epoch seconds). $2: invoice rows.
 */
const WRITE_DUMPS = [
  "write_dumps() {",
  `  local at=$1 rows=$2 d=${BACKUP.incoming}`,
  "  install -d -m 0750 \"$d\"",
  "  awk -v n=\"$rows\" -v seed=\"$RANDOM$at\" 'BEGIN { srand(seed);",
  "    print \"--\\n-- PostgreSQL database dump: table public.invoices\\n--\\nCOPY public.invoices (id, number, customer, amount_cents, status, issued_at) FROM stdin;\";",
  "    split(\"paid open void\", st, \" \");",
  "    for (i = 1; i <= n; i++) printf \"%d\\tINV-%07d\\tcustomer-%05d\\t%d\\t%s\\t2026-%02d-%02d %02d:%02d:%02d\\n\", i, i, 1 + int(rand() * 1000), 100 + int(rand() * 900000), st[1 + int(rand() * 3)], 1 + int(rand() * 11), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60);",
  "    print \"\\\\.\" }' >\"$d/invoices.sql\"",
  "  awk -v seed=\"$RANDOM$at\" 'BEGIN { srand(seed);",
  "    print \"--\\n-- PostgreSQL database dump: table public.users\\n--\\nCOPY public.users (id, name, email, created_at) FROM stdin;\";",
  "    for (i = 1; i <= 2000; i++) printf \"%d\\tcustomer-%05d\\tcustomer-%05d@example.com\\t2026-%02d-%02d 09:%02d:00\\n\", i, i, i, 1 + int(rand() * 11), 1 + int(rand() * 28), int(rand() * 60);",
  "    print \"\\\\.\" }' >\"$d/users.sql\"",
  "  awk -v seed=\"$RANDOM$at\" 'BEGIN { srand(seed);",
  "    print \"--\\n-- PostgreSQL database dump: table public.schema_migrations\\n--\\nCOPY public.schema_migrations (version, applied_at) FROM stdin;\";",
  "    print \"001_init\\t2026-09-02 10:14:00\\n002_sort_indexes\\t2026-10-11 16:02:00\\n\\\\.\" }' >\"$d/schema_migrations.sql\"",
  "  touch -d \"@$at\" \"$d\"/*.sql",
  "}",
].join("\n");

/** Bash: the last 01:00 at least an hour ago (node time) in $night; the change went in at 16:20 the day before. */
const TIMES = [
  "night=$(date -d 'today 01:00' +%s)",
  '[ $(( $(date +%s) - night )) -ge 3600 ] || night=$(( night - 86400 ))',
  "changed=$(( night - 31200 ))",
  "stamp() { date -d \"@$1\" +%Y%m%d%H%M.%S; }",
];

/**
 * Bash: start every cron entry that runs the job (by name, wherever the
 * player moved it), as cron does at its next
 * tick (root, /bin/sh, cron's environment), each in its own session, detached.
 */
const CRON_TICK = [
  "for f in /etc/crontab /etc/cron.d/*; do",
  "  [ -f \"$f\" ] || continue",
  "  [ \"$f\" = /etc/crontab ] || [[ \"${f##*/}\" =~ ^[A-Za-z0-9_-]+$ ]] || continue",
  "  grep -Ev '^[[:space:]]*(#|$|[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=)' \"$f\" |",
  "    sed -nE 's/^[[:space:]]*(@[a-z]+|[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+(.*)$/\\2\\t\\3/p'",
  "done | while IFS=$'\\t' read -r user cmd; do",
  "  case \"$cmd\" in *db-backup*) ;; *) continue ;; esac",
  "  home=$(getent passwd \"$user\" | cut -d: -f6)",
  "  (cd \"${home:-/}\" 2>/dev/null || cd /; exec setsid runuser -u \"$user\" -- env -i PATH=/usr/bin:/bin SHELL=/bin/sh HOME=\"${home:-/}\" LOGNAME=\"$user\" /bin/sh -c \"$cmd\" </dev/null >/dev/null 2>&1) &",
  "  echo \"TICK $! $cmd\"",
  "done",
].join("\n");

async function host(ctx: CheckContext): Promise<Record<string, number>> {
  const h = await hostFigures(ctx, 2000);
  return h ? { ...h } : {};
}

/** Share (0..1) of the node's CPU time in the window that went to processes other than the API. */
function othersShare(cpu: NodeCpu): number {
  const total = cpu.top.reduce((a, p) => a + p.pct, 0);
  const others = busyOthers(cpu, 0).reduce((a, p) => a + p.pct, 0);
  return total > 0 ? Number((others / total).toFixed(2)) : 0;
}

/** Processes other than the API (node) and this measurement that used CPU. */
function busyOthers(cpu: NodeCpu, minPct: number): NodeCpu["top"] {
  return cpu.top.filter((p) => p.pct >= minPct && !/\/opt\/drills\/backend\/server\.js/.test(p.args));
}

/** Below this many CPUs the node is idle: a share of almost nothing (supervisord's 1% tick) says nothing. */
const IDLE_CPUS = 0.05;

/**
 * What the check calls still busy on the backend besides the API: on a node
 * that works (IDLE_CPUS or more) and spends at least half of it outside the
 * API, anything from 1%; otherwise only a process of 10% or more.
 */
export function stillBusy(cpu: NodeCpu): NodeCpu["top"] {
  return cpu.cpus >= IDLE_CPUS && othersShare(cpu) >= 0.5 ? busyOthers(cpu, 1) : busyOthers(cpu, 10);
}

const describe = (ps: NodeCpu["top"]) => ps.map((p) => `${p.comm} (pid ${p.pid}, ${p.pct}%)`).join(", ");

/**
 * A cron job on the backend node compresses the same dumps again and again,
 * in parallel, and takes the node's whole CPU quota; the API shares what is
 * left and every request is slow. Bounded by the node's CPU limit.
 */
export function cpuHog(params: CpuHogParams = {}): Fault {
  const id = "cpu-hog";
  const fastMs = intParam(id, "fastMs", params.fastMs, 500, 50, 5000);
  const jobSeconds = intParam(id, "jobSeconds", params.jobSeconds, 25, 10, 300);
  const invoiceRows = 60_000;

  const setupScript = [
    "set -euo pipefail",
    ...TIMES,
    WRITE_DUMPS,
    "# On EC2 (systemd) the app and the scheduled jobs share the node's CPU quota, as in the container.",
    "if [ -d /run/systemd/system ]; then",
    "  printf '[Slice]\\nCPUQuota=50%%\\nCPUQuotaPeriodSec=${QUOTA_PERIOD_MS}ms\\n' >/etc/systemd/system/backend-node.slice",
    "  for u in cron supervisor; do install -d /etc/systemd/system/$u.service.d; printf '[Service]\\nSlice=backend-node.slice\\n' >/etc/systemd/system/$u.service.d/slice.conf; done",
    "  systemctl daemon-reload && systemctl restart cron supervisor",
    "fi",
    `cat >${BACKUP.script} <<'DRILLS_JOB'`,
    jobScript.trimEnd(),
    "DRILLS_JOB",
    `chmod 0755 ${BACKUP.script}`,
    `printf '%s\\n' '# Ship the datastore dumps off the node (OPS-1870).' '${CRON_LINE}' >${BACKUP.schedule}`,
    `chmod 0644 ${BACKUP.schedule}`,
    `touch -t "$(stamp $changed)" ${BACKUP.script}`,
    `touch -t "$(stamp $(( changed - 41 * 86400 )))" ${BACKUP.schedule}`,
    "# The archive of the nights before, and the job's log of them (each ran in seconds).",
    `install -d -m 0750 ${BACKUP.archive}`,
    `install -m 0644 /dev/null ${BACKUP.log}`,
    "for back in 5 4 3 2 1; do",
    "  at=$(( night - back * 86400 )); pid=$(( 1000 + RANDOM % 30000 )); t=$(( at + 600 - at % 300 ))",
    `  write_dumps $at ${invoiceRows}`,
    `  { echo "$(date -d @$t '+%F %T') db-backup[$pid]: start: 3 new dump(s) in ${BACKUP.incoming}"`,
    `    for f in ${BACKUP.incoming}/*.sql; do`,
    `      tb=$(basename $f .sql); a=${BACKUP.archive}/$tb-$(date -d @$at +%F).sql.gz`,
    `      echo "$(date -d @$t '+%F %T') db-backup[$pid]: $tb: compressing $(du -k $f | cut -f1) KiB"`,
    "      gzip -1 -c $f >$a; touch -d @$(( t + 4 )) $a",
    `      echo "$(date -d @$(( t + 3 + RANDOM % 3 )) '+%F %T') db-backup[$pid]: $tb: archived as $a"`,
    "    done",
    `    echo "$(date -d @$(( t + 7 )) '+%F %T') db-backup[$pid]: done"; } >>${BACKUP.log}`,
    `  rm -f ${BACKUP.incoming}/*.sql`,
    "done",
    "# Tonight's dumps, then the job as cron starts it: it never finishes.",
    `write_dumps $night ${invoiceRows}`,
    CRON_TICK,
    "for _ in $(seq 1 100); do",
    `  pgrep -x gzip >/dev/null && grep -q 'compressing again' ${BACKUP.log} && exit 0`,
    "  sleep 0.5",
    "done",
    `echo "the job is not running" >&2; tail -5 ${BACKUP.log} >&2; exit 1`,
  ].join("\n");

  const artifacts: Record<string, string> = {
    script: `backend: ${BACKUP.script} (mtime yesterday 16:20): its check compares \`gzip -dc | sha256sum\` ("<hash>  -") with \`sha256sum "$dump"\` ("<hash>  <path>"), never equal`,
    schedule: `backend: ${BACKUP.schedule}: '${CRON_LINE}', run by cron (a supervisor program in the container, cron.service on EC2)`,
    log: `backend: ${BACKUP.log}: the nights before, each run done in seconds; tonight's run "compressing again (attempt N)" for every table`,
    archive: `backend: ${BACKUP.archive}: one archive per table for each of the 5 nights before (mtimes of those nights); tonight's .part files`,
    running: "backend: the job's bash processes and their gzip -9, using the node's whole CPU quota",
  };

  const measure = async (ctx: CheckContext) => {
    const cpu = await nodeCpu(ctx, "backend", 3);
    // Gaps up to a second: arrivals at any point of the node's 1 s quota period.
    const lat = await sampleLatency(ctx, 11, 500);
    return { cpu, lat };
  };

  return {
    id,
    description:
      "A cron job on the backend (db-backup, every 5 minutes, flock) compresses the same dumps again and again because its archive check never matches; " +
      "it takes the node's whole CPU quota and every API call is slow.",
    spoilers: ["backup", "gzip", "compress", "hog", "dump", "sha256", "cron", "archive", "nice"],
    bounds: [
      "Docker: the job runs inside the backend container, whose CPU quota (0.5 CPU by default, LIMITS in plan/app.ts) the level fixes; " +
        "it cannot use more than that quota of the host, whatever it runs.",
      "EC2: the backend instance's CPUs come from its size (t3.small, 2 vCPUs); the fault puts cron.service and supervisor.service in a " +
        "backend-node.slice with CPUQuota=50% per 1 s period, so the job and the API share half a CPU and sshd keeps the rest of the instance.",
      `Writes the dumps (~${Math.round((invoiceRows * 60) / 1024 / 1024)} MiB) and their archives under /var/backups/drills on the node's own disk; ` +
        `the check starts the job once as cron would, for at most ${jobSeconds} s, then stops what it started.`,
    ],
    symptomPaths: ["api/"],
    // The node's quota is counted per second, as a burstable cloud instance's credits are: once the job
    // has spent it, everything on the node waits for the next second, whatever the host has free.
    patch: (plan) => updateNode(plan, "backend", (n) => ({ ...n, cpuPeriodMs: QUOTA_PERIOD_MS })),
    actions: () => [{ id: `${id}-job`, node: "backend", description: "a scheduled job on the backend, changed yesterday, running since its last tick", script: setupScript }],
    probe: async (ctx): Promise<ProbeResult> => {
      const { cpu, lat } = await measure(ctx);
      const h = await host(ctx);
      // Where the host itself is saturated the node gets less than its quota: what counts is who in the node takes it.
      const share = othersShare(cpu);
      return {
        present: share >= 0.5 && busyOthers(cpu, 0).length > 0,
        summary:
          `backend node uses ${cpu.cpus} CPUs of 0.5 (${cpu.throttled} throttled periods in 3 s; ${Math.round(share * 100)}% of it outside the API), busiest: ${describe(cpu.top.slice(0, 4))}; ` +
          `invoice pages p50 ${lat.p50Ms} ms, p90 ${lat.p90Ms} ms`,
        figures: {
          nodeCpus: cpu.cpus,
          nodeThrottled: cpu.throttled,
          othersShare: share,
          busiest: describe(cpu.top.slice(0, 4)),
          p50Ms: lat.p50Ms,
          p90Ms: lat.p90Ms,
          errors: lat.errors,
          ...h,
        },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const now = await nodeCpu(ctx, "backend", 3);
      const busy = stillBusy(now);
      if (busy.length > 0) {
        reasons.push(`Something on the backend still uses its CPU: ${describe(busy)}; the node has ${now.cpus} of 0.5 CPU in use with the app idle.`);
      }
      // The job holds its lock while it runs: held for 10 s on end, it has not finished (cron's next ticks skip).
      const held = await ctx.exec(
        "backend",
        `for _ in $(seq 1 20); do flock -n ${BACKUP.lock} true && exit 0; sleep 0.5; done; echo "HELD $(pgrep -f '${BACKUP.script}' | head -1)"`,
      );
      if (held.stdout.includes("HELD")) {
        reasons.push(`The scheduled job is still running (pid ${held.stdout.trim().slice(5) || "?"}, it holds ${BACKUP.lock}); it has not finished, whatever its priority.`);
      }
      // Tonight's dumps arrive as every night; cron's next tick runs the job on them. It must finish.
      const tick = await ctx.exec(
        "backend",
        [
          "set -uo pipefail",
          ...TIMES,
          WRITE_DUMPS,
          "# Nothing waiting: the next night's dumps arrive (dated then; removed again afterwards with what the job made of them).",
          `planted=""; ls ${BACKUP.incoming}/*.sql >/dev/null 2>&1 || { planted=$(( night + 86400 )); write_dumps $planted 20000; }`,
          "pids=$(",
          CRON_TICK,
          ")",
          'echo "$pids"',
          `for _ in $(seq 1 ${jobSeconds * 2}); do`,
          "  alive=0; for p in $(echo \"$pids\" | awk '/^TICK/{print $2}'); do kill -0 \"$p\" 2>/dev/null && alive=1; done",
          "  [ $alive = 0 ] && break; sleep 0.5",
          "done",
          "for p in $(echo \"$pids\" | awk '/^TICK/{print $2}'); do",
          "  if kill -0 \"$p\" 2>/dev/null; then echo \"STUCK $p $(tr '\\0' ' ' </proc/$p/cmdline | cut -c1-200)\"; kill -KILL -- -\"$p\" 2>/dev/null; fi",
          "done",
          `[ -z "$planted" ] || rm -f ${BACKUP.incoming}/*.sql ${BACKUP.archive}/*-$(date -d @$planted +%F).sql.gz*`,
          "true",
        ].join("\n"),
      );
      const stuck = tick.stdout.split("\n").filter((l) => l.startsWith("STUCK "));
      for (const s of stuck) {
        reasons.push(`A scheduled job (cron runs it every few minutes) was started as cron would and was still running after ${jobSeconds} s: ${s.split(" ").slice(2).join(" ").trim()}.`);
      }
      const after = await measure(ctx);
      if (after.lat.errors > 0) reasons.push(`Invoice pages failed ${after.lat.errors} of ${after.lat.samples} times (${after.lat.statuses}).`);
      if (after.lat.p50Ms > fastMs) reasons.push(`Invoice pages took ${after.lat.p50Ms} ms (p50 through the proxy); they must answer under ${fastMs} ms.`);
      return {
        ok: reasons.length === 0,
        reasons,
        figures: {
          nodeCpusBefore: now.cpus,
          nodeCpusAfter: after.cpu.cpus,
          nodeThrottledAfter: after.cpu.throttled,
          scheduledStuck: stuck.length,
          p50Ms: after.lat.p50Ms,
          p90Ms: after.lat.p90Ms,
          ...(await host(ctx)),
        },
      };
    },
    shortcuts: [
      {
        description: "kill the job's processes once (cron starts it again at its next tick)",
        actions: () => [
          { id: `${id}-shortcut-kill`, node: "backend", description: "pkill the job and its gzip", script: `pkill -f '${BACKUP.script}' || true; pkill -x gzip || true; sleep 1` },
        ],
        undo: () => [{ id: `${id}-shortcut-kill-undo`, node: "backend", description: "cron's next tick", script: ["set -uo pipefail", CRON_TICK, "sleep 2"].join("\n") }],
      },
      {
        description: "renice the job to 19 so the API gets the CPU first",
        actions: () => [
          {
            id: `${id}-shortcut-renice`,
            node: "backend",
            description: "renice +19 the job's processes",
            script: `for p in $(pgrep -f '${BACKUP.script}') $(pgrep -x gzip) $(pgrep -x sha256sum); do renice -n 19 -p $p >/dev/null || true; done`,
          },
        ],
        undo: () => [
          {
            id: `${id}-shortcut-renice-undo`,
            node: "backend",
            description: "restart the job at normal priority",
            script: [`pkill -f '${BACKUP.script}' || true; pkill -x gzip || true; sleep 1`, CRON_TICK, "sleep 2"].join("\n"),
          },
        ],
      },
      {
        description: "kill the job and delete tonight's dumps it works on",
        actions: () => [
          {
            id: `${id}-shortcut-delete`,
            node: "backend",
            description: "pkill the job, rm the incoming dumps",
            script: `pkill -f '${BACKUP.script}' || true; pkill -x gzip || true; sleep 1; rm -f ${BACKUP.incoming}/*.sql ${BACKUP.archive}/*.part`,
          },
        ],
        undo: () => [
          {
            id: `${id}-shortcut-delete-undo`,
            node: "backend",
            description: "tonight's dumps back, and cron's next tick",
            script: ["set -uo pipefail", ...TIMES, WRITE_DUMPS, `write_dumps $night ${invoiceRows}`, CRON_TICK, "sleep 2"].join("\n"),
          },
        ],
      },
    ],
    solution: () => [
      {
        id: `${id}-fix`,
        node: "backend",
        description: "compare the hashes only in the job's check, stop the stuck run, then let the job archive tonight's dumps once",
        script: [
          "set -euo pipefail",
          `sed -i 's/\\$(sha256sum "\\$dump")/\\$(sha256sum <"\\$dump")/' ${BACKUP.script}`,
          `grep -qF '$(sha256sum <"$dump")' ${BACKUP.script}`,
          `pkill -f '${BACKUP.script}' || true`,
          "pkill -x gzip || true",
          "for _ in $(seq 1 50); do pgrep -x gzip >/dev/null || break; sleep 0.2; done",
          `rm -f ${BACKUP.archive}/*.part`,
          `timeout 120 flock ${BACKUP.lock} ${BACKUP.script} >>${BACKUP.log} 2>&1`,
          `! ls ${BACKUP.incoming}/*.sql >/dev/null 2>&1`,
        ].join("\n"),
      },
    ],
    story: scriptedStory("backend", artifacts, [
      "set -uo pipefail",
      ...TIMES,
      `[ "$(stat -c %Y ${BACKUP.script} 2>/dev/null)" = "$changed" ] && grep -qF 'sha256sum "$dump"' ${BACKUP.script} || echo MISSING script`,
      `grep -qxF '${CRON_LINE}' ${BACKUP.schedule} 2>/dev/null && pgrep -x cron >/dev/null || echo MISSING schedule`,
      `[ "$(grep -c ': done$' ${BACKUP.log})" -ge 5 ] && grep -q 'compressing again (attempt' ${BACKUP.log} || echo MISSING log`,
      `[ "$(find ${BACKUP.archive} -name '*.sql.gz' ! -newermt "@$night" | wc -l)" -ge 15 ] || echo MISSING archive`,
      `pgrep -f '^/bin/bash ${BACKUP.script}' >/dev/null && ! flock -n ${BACKUP.lock} true || echo MISSING running`,
    ].join("\n")),
  };
}
