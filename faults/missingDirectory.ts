import * as crypto from "crypto";
import { runScheduled, scheduledRuns } from "./cron";
import { RESTART_BACKEND } from "./scripts";
import { scriptedStory } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";
import { randomFile, uploadFile, UploadOutcome, UPLOADS, listedUploads } from "./uploads";

/**
 * The story: a week ago ops added a nightly job that removes uploads
 * abandoned half-way in the backend's temp directory (a backend killed
 * mid-write leaves its .part file). Its `find` has no -mindepth 1, so after a
 * day without uploads (the directory itself unchanged for a day) it removed
 * the directory too. The backend never creates it (provisioning does, once),
 * so every upload since fails; the job runs again every night.
 */
export const PURGE = {
  script: "/usr/local/bin/purge-partial-uploads",
  schedule: "/etc/cron.d/purge-partial-uploads",
  log: "/var/log/drills/purge-partial-uploads.log",
} as const;

const CRON_LINE = `15 3 * * * app ${PURGE.script} >>${PURGE.log} 2>&1`;

const purgeScript = `#!/bin/bash
# purge-partial-uploads: remove uploads abandoned half-way. The backend writes
# each upload into UPLOAD_TMP_DIR first and renames it into place when done; a
# backend killed mid-write leaves its .part file behind (OPS-1187: 2.3 GB of
# them on the old node). Scheduled in ${PURGE.schedule} (03:15).
set -euo pipefail
set -a; . /etc/drills/backend.env; set +a
dir="\${UPLOAD_TMP_DIR:-${UPLOADS.tmpDir}}"

log() { echo "$(date '+%F %T') purge-partial-uploads[$$]: $*"; }

[ -d "$dir" ] || { log "nothing to do: $dir does not exist"; exit 0; }
log "start: removing what has not changed for a day in $dir"
n=0
while IFS= read -r f; do
  log "removed $f"
  n=$((n + 1))
done < <(find "$dir" -mmin +1440 -print -delete)
log "done: $n removed"
`;

/** Users' files uploaded before the quiet day: name, size and a content key the check can recompute. */
const USER_FILES = [
  ["signed-contract-4471.pdf", 182_113],
  ["delivery-note-0932.pdf", 64_870],
  ["IMG_20241121_101522.jpg", 421_337],
  ["invoice-2291-scan.pdf", 97_004],
  ["receipt-77812.pdf", 23_419],
  ["statement-october.pdf", 141_220],
] as const;

function userFileKey(name: string): string {
  return crypto.createHash("sha256").update(`drills-upload-${name}`).digest("hex").slice(0, 32);
}

/** Bash: the last 03:15 at least an hour ago (node time) in $night; the job went in six days before, at 14:20. */
const LAST_NIGHT = [
  "night=$(date -d 'today 03:15' +%s)",
  '[ $(( $(date +%s) - night )) -ge 600 ] || night=$(( night - 86400 ))',
  "installed=$(( night - 6 * 86400 + 11 * 3600 + 5 * 60 ))",
  "quiet=$(( night - 40 * 3600 - 17 * 60 ))   # the last upload: the morning before the quiet day",
  "stamp() { date -d \"@$1\" +%Y%m%d%H%M.%S; }",
  "at() { date -d \"@$1\" '+%F %T'; }",
];

/** Bash: the temp directory the running backend uses, in $tmpdir. */
const EFFECTIVE_TMP = [
  "pid=$(pgrep -of 'node /opt/drills/backend/server.js' || true)",
  "# A container's root may not read another user's environ: read it as the process's own user.",
  `tmpdir=$( { [ -n "$pid" ] && runuser -u "$(ps -o user= -p "$pid")" -- cat /proc/$pid/environ | tr '\\0' '\\n' | sed -n 's/^UPLOAD_TMP_DIR=//p'; } 2>/dev/null || true)`,
  `tmpdir=\${tmpdir:-${UPLOADS.tmpDir}}`,
].join("\n");

const outcome = (u: UploadOutcome) => (u.status === 0 ? u.message : `HTTP ${u.status}${u.message ? ` "${u.message.slice(0, 160)}"` : ""}`);

/** An upload of an ordinary file through the app's address (random content and size). */
const ordinaryUpload = (ctx: CheckContext) => uploadFile(ctx, ctx.plan.appUrl, randomFile(40 * 1024, 2 * 1024 * 1024));

/**
 * The backend writes uploads through a temp directory that a nightly job
 * removed; the backend does not create it, so every upload fails with 500.
 */
export function missingDirectory(): Fault {
  const id = "missing-directory";
  const artifacts: Record<string, string> = {
    script: `${PURGE.script}: the nightly purge, installed six days ago (14:20); its find has no -mindepth 1, so it removes the directory itself once unchanged for a day`,
    schedule: `${PURGE.schedule}: '${CRON_LINE}', run by cron`,
    log: `${PURGE.log}: a run every night since; last night's (03:15) ends with 'removed ${UPLOADS.tmpDir}'`,
    files: `${UPLOADS.dir}: users' files, the last one uploaded the morning before the quiet day; ${UPLOADS.tmpDir} absent`,
  };

  return {
    id,
    description: `A nightly job removed the backend's upload temp directory (${UPLOADS.tmpDir}); the backend never creates it, so uploads fail with 500.`,
    spoilers: ["directory", "missing", "mkdir", "enoent", "no such file", "partial", "purge", "temp"],
    bounds: [
      "Touches only the backend node: a job in /etc/cron.d, its log, users' files in the uploads volume (under 1 MiB in all).",
      "The check uploads two files of at most 2 MiB (removed after), ages the temp directory by two days, puts one stale .part file in it, " +
        "and runs the node's scheduled purge once, as cron would (files up to 64 MiB, 60 s).",
    ],
    actions: () => [
      {
        id: `${id}-history`,
        node: "backend",
        description: "users' files, a nightly job in cron, and its runs since it went in",
        script: [
          "set -euo pipefail",
          ...LAST_NIGHT,
          `cd ${UPLOADS.dir}`,
          "put() {",
          "  { head -c \"$2\" /dev/zero | openssl enc -aes-128-ctr -nosalt -K \"$3\" -iv 00000000000000000000000000000000; } >\"$1\"",
          '  chown app:app "$1"; chmod 0644 "$1"; touch -t "$(stamp $4)" "$1"',
          "}",
          ...USER_FILES.map(([name, size], i) => `put ${name} ${size} ${userFileKey(name)} $(( quiet - ${(USER_FILES.length - 1 - i) * 29_000} ))`),
          `cat >${PURGE.script} <<'DRILLS_JOB'`,
          purgeScript.trimEnd(),
          "DRILLS_JOB",
          `chmod 0755 ${PURGE.script}`,
          `printf '%s\\n' '# Abandoned partial uploads, every night (OPS-1187).' '${CRON_LINE}' >${PURGE.schedule}`,
          `chmod 0644 ${PURGE.schedule}`,
          `touch -t "$(stamp $installed)" ${PURGE.script} ${PURGE.schedule}`,
          `install -o app -g app -m 0644 /dev/null ${PURGE.log}`,
          `tmp=${UPLOADS.tmpDir}`,
          "# The nights before: the first run found what the old node's crashes had left; nothing since.",
          "first=$(( night - 5 * 86400 ))",
          "{",
          "  pid=$(( 31000 + RANDOM % 2000 ))",
          '  echo "$(at $first) purge-partial-uploads[$pid]: start: removing what has not changed for a day in $tmp"',
          "  n=0",
          "  for f in contract-final.pdf.3f9a0c11d2e4.part IMG_4410.jpg.0b7d93aa51c2.part scan-0041.pdf.c4e1f0a9b873.part; do",
          '    n=$((n + 1)); echo "$(at $(( first + n ))) purge-partial-uploads[$pid]: removed $tmp/$f"',
          "  done",
          '  echo "$(at $(( first + 4 ))) purge-partial-uploads[$pid]: done: $n removed"',
          "  for d in 4 3 2 1; do",
          "    t=$(( night - d * 86400 )); pid=$(( 31000 + RANDOM % 2000 ))",
          '    echo "$(at $t) purge-partial-uploads[$pid]: start: removing what has not changed for a day in $tmp"',
          '    echo "$(at $(( t + 1 ))) purge-partial-uploads[$pid]: done: 0 removed"',
          "  done",
          `} >>${PURGE.log}`,
          "# Last night: the directory had not changed since the last upload, the morning before.",
          `install -d -o app -g app -m 0755 "$tmp"`,
          'touch -t "$(stamp $quiet)" "$tmp"',
          "start=$(date +%s)",
          `runuser -u app -- env -i PATH=/usr/bin:/bin SHELL=/bin/sh HOME=/opt/drills LOGNAME=app /bin/sh -c '${PURGE.script}' </dev/null >/tmp/.run.$$ 2>&1 || true`,
          "shift=$(( night - start ))",
          "while IFS= read -r line; do",
          '  if [[ "$line" =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}\\ [0-9]{2}:[0-9]{2}:[0-9]{2})(.*)$ ]]; then',
          '    printf \'%s%s\\n\' "$(at $(( $(date -d "${BASH_REMATCH[1]}" +%s) + shift )))" "${BASH_REMATCH[2]}"',
          "  else printf '%s\\n' \"$line\"; fi",
          `done </tmp/.run.$$ >>${PURGE.log}`,
          "rm -f /tmp/.run.$$",
          `touch -t "$(stamp $(( night + 1 )))" ${PURGE.log}`,
          `touch -t "$(stamp $(( night + 1 )))" ${UPLOADS.dir}`,
          `[ ! -e "$tmp" ] || { echo "last night's run left $tmp in place" >&2; cat ${PURGE.log} >&2; exit 1; }`,
        ].join("\n"),
      },
    ],
    probe: async (ctx): Promise<ProbeResult> => {
      const up = await ordinaryUpload(ctx);
      const logged = await ctx.exec("backend", `${EFFECTIVE_TMP}\ntail -n 40 /var/log/drills/backend.log | grep -cF "$tmpdir/" || true`);
      const { status: listStatus, listed } = await listedUploads(ctx);
      return {
        present: !up.intact,
        summary: `an ordinary upload: ${outcome(up)} in ${up.ms} ms; backend log lines naming the path: ${logged.stdout.trim()}; the list: ${listStatus}, ${listed} files`,
        figures: {
          uploadStatus: up.status,
          uploadMessage: up.message,
          uploadMs: up.ms,
          logLinesNamingPath: Number(logged.stdout.trim()) || 0,
          listStatus,
          listed,
          userFiles: USER_FILES.length,
        },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const first = await ordinaryUpload(ctx);
      if (!first.intact) reasons.push(`An ordinary upload through the app fails: ${outcome(first)}.`);
      // A quiet day, then the night: the temp directory unchanged for two days with an abandoned
      // upload in it, and the node's purge run as cron runs it.
      const stale = `${randomFile(0).name}.${crypto.randomBytes(6).toString("hex")}.part`;
      const night = await ctx.exec(
        "backend",
        [
          EFFECTIVE_TMP,
          'echo "TMPDIR $tmpdir"',
          `echo "SAME $( [ "$(realpath -m "$tmpdir")" = "$(realpath -m ${UPLOADS.dir})" ] && echo yes || echo no)"`,
          'echo "MODE $(stat -c %a "$tmpdir" 2>/dev/null || echo none)"',
          'if [ -d "$tmpdir" ]; then',
          `  head -c 65536 /dev/urandom >"$tmpdir/${stale}"; chown app:app "$tmpdir/${stale}"`,
          `  touch -d '3 days ago' "$tmpdir/${stale}"; touch -d '2 days ago' "$tmpdir"; echo PLANTED`,
          "fi",
          `( ${runScheduled("purge-partial-uploads", { fileKiB: 64 * 1024, seconds: 60 })} )`,
          `[ -e "$tmpdir/${stale}" ] && echo "STALE left"`,
          `rm -f "$tmpdir/${stale}"`,
        ].join("\n"),
      );
      const out = night.stdout;
      const tmpdir = /^TMPDIR (.*)$/m.exec(out)?.[1] ?? UPLOADS.tmpDir;
      const runs = scheduledRuns(out);
      const mode = /^MODE (.*)$/m.exec(out)?.[1] ?? "none";
      if (/^SAME yes$/m.test(out)) {
        reasons.push(`Uploads are written straight into ${UPLOADS.dir} (UPLOAD_TMP_DIR is the uploads folder): users would see half-written files in the list.`);
      }
      if (mode !== "none" && (parseInt(mode, 8) & 0o002) !== 0) {
        reasons.push(`The backend's upload temp folder ${tmpdir} is writable by every user of the node (mode ${mode}): anyone can plant or swap files users upload.`);
      }
      for (const r of runs) if (r.code !== "0") reasons.push(`The nightly purge fails when cron runs it (\`${r.command}\`, exit ${r.code}): ${r.tail || "no output"}.`);
      if (/^PLANTED$/m.test(out) && (runs.length === 0 || /^STALE left$/m.test(out))) {
        reasons.push(
          runs.length === 0
            ? `Nothing removes abandoned partial uploads any more: no scheduled entry runs ${PURGE.script}. Keep the nightly purge.`
            : `An upload abandoned three days ago in ${tmpdir} was still there after the nightly purge ran: abandoned uploads pile up again.`,
        );
      }
      const second = await ordinaryUpload(ctx);
      if (first.intact && !second.intact) {
        reasons.push(
          `After a quiet day and the nightly purge (run now, as cron runs it at 03:15), uploads fail again: ${outcome(second)}. ` +
            "A fix must survive the next quiet night.",
        );
      }
      return {
        ok: reasons.length === 0,
        reasons,
        figures: {
          firstStatus: first.status,
          firstMs: first.ms,
          purgeRuns: runs.length,
          secondStatus: second.status,
          secondMs: second.ms,
          tmpMode: mode,
        },
      };
    },
    shortcuts: [
      {
        description: `create the folder by hand (install -d -o app -g app ${UPLOADS.tmpDir})`,
        actions: () => [{ id: "mkdir-by-hand", node: "backend", description: "create it by hand", script: `install -d -o app -g app -m 0755 ${UPLOADS.tmpDir}` }],
        undo: () => [{ id: "undo-mkdir", node: "backend", description: "remove it again", script: `rm -rf ${UPLOADS.tmpDir}` }],
      },
      {
        description: "point UPLOAD_TMP_DIR at /tmp in /etc/drills/backend.env and restart the backend",
        actions: () => [
          {
            id: "tmp-to-tmp",
            node: "backend",
            description: "use /tmp",
            script: ["set -euo pipefail", "sed -i \"s|^UPLOAD_TMP_DIR=.*|UPLOAD_TMP_DIR='/tmp'|\" /etc/drills/backend.env", ...RESTART_BACKEND].join("\n"),
          },
        ],
        undo: () => [
          {
            id: "tmp-back",
            node: "backend",
            description: "put the setting back",
            script: ["set -euo pipefail", `sed -i "s|^UPLOAD_TMP_DIR=.*|UPLOAD_TMP_DIR='${UPLOADS.tmpDir}'|" /etc/drills/backend.env`, ...RESTART_BACKEND].join("\n"),
          },
        ],
      },
      {
        description: "create the folder by hand and disable the nightly job that removed it",
        actions: () => [
          {
            id: "mkdir-no-job",
            node: "backend",
            description: "create it, drop the job",
            script: `set -euo pipefail\ninstall -d -o app -g app -m 0755 ${UPLOADS.tmpDir}\nmv ${PURGE.schedule} /root/purge-partial-uploads.cron`,
          },
        ],
        undo: () => [
          {
            id: "undo-mkdir-no-job",
            node: "backend",
            description: "put the job back, remove the folder",
            script: `set -euo pipefail\nmv /root/purge-partial-uploads.cron ${PURGE.schedule}\nrm -rf ${UPLOADS.tmpDir}`,
          },
        ],
      },
    ],
    solution: () => [
      {
        id: `${id}-fix`,
        node: "backend",
        description: "the backend creates its temp folder before writing into it; the purge spares the folder itself",
        script: [
          "set -euo pipefail",
          "f=/opt/drills/backend/routes/uploads.js",
          "grep -q 'mkdir(ctx.config.uploadTmpDir' $f || sed -i 's|^\\( *\\)await fs.promises.writeFile(tmp, |\\1await fs.promises.mkdir(ctx.config.uploadTmpDir, { recursive: true, mode: 0o755 });\\n&|' $f",
          "grep -q 'mkdir(ctx.config.uploadTmpDir' $f",
          `sed -i 's|find "$dir" -mmin|find "$dir" -mindepth 1 -mmin|' ${PURGE.script}`,
          `grep -q 'find "$dir" -mindepth 1 ' ${PURGE.script}`,
          ...RESTART_BACKEND,
        ].join("\n"),
      },
    ],
    story: scriptedStory("backend", artifacts, [
      "set -uo pipefail",
      ...LAST_NIGHT,
      `[ -x ${PURGE.script} ] && grep -q 'find "$dir" -mmin' ${PURGE.script} && [ "$(stat -c %Y ${PURGE.script})" -eq "$installed" ] || echo MISSING script`,
      `grep -qxF '${CRON_LINE}' ${PURGE.schedule} 2>/dev/null && pgrep -x cron >/dev/null || echo MISSING schedule`,
      `grep -q "^$(date -d "@$night" +%F) 03:15:0[0-9] purge-partial-uploads\\[[0-9]*\\]: removed ${UPLOADS.tmpDir}$" ${PURGE.log} && [ "$(grep -c ': start: ' ${PURGE.log})" -ge 6 ] || echo MISSING log`,
      `[ ! -e ${UPLOADS.tmpDir} ] && [ "$(find ${UPLOADS.dir} -maxdepth 1 -type f | wc -l)" -ge ${USER_FILES.length} ] || echo MISSING files`,
    ].join("\n")),
    symptomPaths: [],
  };
}

