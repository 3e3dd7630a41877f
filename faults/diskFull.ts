import * as crypto from "crypto";
import { updateNode } from "../plan/patch";
import { LevelPlan } from "../plan/types";
import { intParam } from "./params";
import { scriptedStory } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";

export interface DiskFullParams {
  /** Size of the backend's capped uploads volume (the only thing filled). */
  sizeMiB?: number;
  /** Free space needed to count as fixed. */
  minFreeMiB?: number;
  /** Users' files put there first; they must survive the fix. */
  userFiles?: number;
}

export const UPLOAD_DIR = "/var/lib/drills/uploads";

/**
 * The story: a statements job for finance went in the afternoon before. Its
 * awk filter assigns instead of comparing (`$3 = c`), so every customer's
 * block holds every invoice; at 02:00 its temp file in the uploads volume
 * grew until the volume had no room left, the job died, and the temp file
 * stayed. Cron runs it again every night.
 */
export const JOB = {
  script: "/usr/local/bin/nightly-export",
  schedule: "/etc/cron.d/nightly-export",
  log: "/var/log/drills/nightly-export.log",
  outDir: `${UPLOAD_DIR}/.exports`,
  temp: `${UPLOAD_DIR}/.exports/nightly-export.csv.tmp`,
} as const;

/** Customers whose statements the job writes: with the bug, each block is every invoice (about 1.3 MB at 20 000). */
const STATEMENT_CUSTOMERS = 200;
const CRON_LINE = `0 2 * * * app ${JOB.script} >>${JOB.log} 2>&1`;

const jobScript = `#!/bin/bash
# nightly-export: statements of the customers with the largest open balances,
# for finance's morning import. Scheduled in ${JOB.schedule} (02:00).
# Writes ${JOB.outDir}/statements-<date>.csv through a .tmp file.
set -euo pipefail

API=http://127.0.0.1:3000/api
OUT_DIR=${JOB.outDir}
TOP=${STATEMENT_CUSTOMERS}

log() { echo "$(date '+%F %T') nightly-export[$$]: $*"; }
trap 'log "FAILED (exit $?) at line $LINENO"' ERR

day=$(date +%F)
tmp="$OUT_DIR/nightly-export.csv.tmp"
out="$OUT_DIR/statements-$day.csv"
work=$(mktemp /tmp/nightly-export.XXXXXX)
trap 'rm -f "$work" "$work.customers"' EXIT

log "start: statements for the $TOP largest open balances -> $out"
mkdir -p "$OUT_DIR"

# Every invoice as CSV: id,number,customer,amount_cents,status,issued_at
node - "$API" >"$work" <<'JS'
const api = process.argv[2];
(async () => {
  for (let page = 1; ; page++) {
    const r = await fetch(\`\${api}/invoices?page=\${page}&pageSize=100&sort=number&order=asc\`);
    if (!r.ok) throw new Error(\`GET /invoices page \${page}: HTTP \${r.status}\`);
    const { items } = await r.json();
    for (const i of items) process.stdout.write(\`\${i.id},\${i.number},\${i.customer},\${i.amount_cents},\${i.status},\${i.issued_at}\\n\`);
    if (items.length < 100) break;
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
log "fetched $(wc -l <"$work") invoices"

# The customers with the largest open balances.
awk -F, '$5 == "open" { due[$3] += $4 } END { for (c in due) print due[c], c }' "$work" \\
  | sort -rn | sed -n "1,\${TOP}p" | cut -d' ' -f2 >"$work.customers"

# One statement block per customer: that customer's invoices.
: >"$tmp"
while read -r customer; do
  awk -F, -v OFS=, -v c="$customer" '$3 = c' "$work" >>"$tmp"
done <"$work.customers"

mv "$tmp" "$out"
log "done: $(wc -l <"$out") lines in $out"
`;

/** A user's file: name, size and content (a PDF header, then bytes fixed by its name) the check can hash without storing anything. */
function userFile(i: number, count: number): { name: string; size: number; key: string; sha256: string } {
  const name = `scan-${String(i).padStart(Math.max(2, String(count).length), "0")}.pdf`;
  const size = 20_000 + ((i * 7919) % 150_000);
  const key = crypto.createHash("sha256").update(`drills-upload-${name}`).digest("hex").slice(0, 32);
  const cipher = crypto.createCipheriv("aes-128-ctr", Buffer.from(key, "hex"), Buffer.alloc(16));
  const body = Buffer.concat([Buffer.from("%PDF-1.4\n"), cipher.update(Buffer.alloc(size - 9)), cipher.final()]);
  return { name, size, key, sha256: crypto.createHash("sha256").update(body).digest("hex") };
}

/** Bash: the last 02:00 at least an hour ago (node time) in $night; the job went in at 16:40 the day before. */
const LAST_NIGHT = [
  "night=$(date -d 'today 02:00' +%s)",
  '[ $(( $(date +%s) - night )) -ge 3600 ] || night=$(( night - 86400 ))',
  "deployed=$(( night - 33600 ))",
  "stamp() { date -d \"@$1\" +%Y%m%d%H%M.%S; }",
];

interface VolumeFigures {
  sizeMiB: number;
  freeMiB: number;
  usedPct: number;
  filesystem: string;
}

async function volumeFigures(ctx: CheckContext): Promise<VolumeFigures> {
  const r = await ctx.exec("backend", `df -k --output=size,avail,pcent,fstype ${UPLOAD_DIR} | tail -1`);
  const [size, avail, pcent, fstype] = r.stdout.trim().split(/\s+/);
  return {
    sizeMiB: Math.round(Number(size) / 1024),
    freeMiB: Math.floor(Number(avail) / 1024),
    usedPct: Number(String(pcent).replace("%", "")),
    filesystem: fstype ?? "",
  };
}

/** Upload a small file as a user or API client does (the API's own origin when it has one). */
async function tryUpload(ctx: CheckContext): Promise<{ status: number; message: string; ms: number }> {
  const name = `drills-check-${Date.now()}.bin`;
  const base = ctx.plan.apiUrl ?? ctx.plan.appUrl;
  const r = await ctx.http(`${base}api/uploads?name=${name}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: Buffer.alloc(256 * 1024, 7),
    timeoutMs: 10_000,
  });
  // The probe's file is not the player's business: remove it.
  if (r.status === 201) await ctx.exec("backend", `rm -f ${UPLOAD_DIR}/${name}`);
  let message = r.error ?? r.text.slice(0, 200);
  try {
    message = (JSON.parse(r.text) as { error?: string }).error ?? message;
  } catch {
    // not JSON: keep the raw text
  }
  return { status: r.status, message: message.split(name).join("<name>"), ms: Math.round(r.ms) };
}

/** The reads users do: the user and invoice lists and the list of uploaded files. */
async function reads(ctx: CheckContext): Promise<{ worst: number; listed: number }> {
  const base = ctx.plan.apiUrl ?? ctx.plan.appUrl;
  let worst = 200;
  let listed = 0;
  for (const p of ["api/users", "api/invoices?page=1&pageSize=20", "api/uploads"]) {
    const r = await ctx.http(`${base}${p}`, { timeoutMs: 10_000 });
    if (r.status !== 200) worst = r.status;
    if (p === "api/uploads" && r.status === 200) listed = (JSON.parse(r.text) as { items: unknown[] }).items.length;
  }
  return { worst, listed };
}

/**
 * A nightly job writes its temp file into the backend's uploads volume until
 * the volume has no room left, dies, and leaves it there; cron runs it again
 * every night. The volume is a capped filesystem owned by the level (ext4,
 * or tmpfs where the host cannot make ext4 volumes), never the host's disk.
 */
export function diskFull(params: DiskFullParams = {}): Fault {
  const id = "disk-full";
  const sizeMiB = intParam(id, "sizeMiB", params.sizeMiB, 64, 16, 1024);
  const minFreeMiB = intParam(id, "minFreeMiB", params.minFreeMiB, Math.floor(sizeMiB / 4), 1, sizeMiB - 1);
  const userFiles = intParam(id, "userFiles", params.userFiles, 20, 1, 500);
  const files = Array.from({ length: userFiles }, (_, i) => userFile(i + 1, userFiles));
  const capVolume = (plan: LevelPlan) =>
    updateNode(plan, "backend", (n) => ({
      ...n,
      volumes: n.volumes.map((v) => (v.target === UPLOAD_DIR ? { ...v, sizeMiB, filesystem: "ext4" as const } : v)),
    }));

  /** Hashes of the volume's files: users' files count by content, wherever they are and whatever their name. */
  const keptFiles = async (ctx: CheckContext): Promise<number> => {
    const r = await ctx.exec("backend", `find ${UPLOAD_DIR} -xdev -type f -size -16M -exec sha256sum {} + 2>/dev/null | cut -d' ' -f1`);
    const present = new Set(r.stdout.split("\n").map((l) => l.trim()));
    return files.filter((f) => present.has(f.sha256)).length;
  };

  // Runs every cron entry that runs the job, as cron would (its user, /bin/sh,
  // cron's environment), bounded: files at most twice the volume, 5 minutes.
  const runScheduled = [
    "set -uo pipefail",
    "entries() {",
    "  local f",
    "  for f in /etc/crontab /etc/cron.d/*; do",
    "    [ -f \"$f\" ] || continue",
    "    # cron skips /etc/cron.d files whose names hold a dot (nightly-export.disabled, *.dpkg-old).",
    "    [ \"$f\" = /etc/crontab ] || [[ \"${f##*/}\" =~ ^[A-Za-z0-9_-]+$ ]] || continue",
    "    grep -Ev '^[[:space:]]*(#|$|[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=)' \"$f\" |",
    "      sed -nE 's/^[[:space:]]*(@[a-z]+|[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+(.*)$/\\2\\t\\3/p'",
    "  done",
    "  for f in /var/spool/cron/crontabs/*; do",
    "    [ -f \"$f\" ] || continue",
    "    grep -Ev '^[[:space:]]*(#|$|[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=)' \"$f\" |",
    "      sed -nE 's/^[[:space:]]*(@[a-z]+|[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+)[[:space:]]+(.*)$/'\"${f##*/}\"'\\t\\2/p'",
    "  done",
    "  for f in /etc/cron.hourly/* /etc/cron.daily/* /etc/cron.weekly/* /etc/cron.monthly/*; do",
    "    [ -x \"$f\" ] && [[ \"${f##*/}\" =~ ^[A-Za-z0-9_-]+$ ]] && printf 'root\\t%s\\n' \"$f\"",
    "  done",
    "}",
    "n=0",
    "while IFS=$'\\t' read -r user cmd; do",
    "  case \"$cmd\" in *nightly-export*) ;; *) continue ;; esac",
    "  n=$((n + 1))",
    "  home=$(getent passwd \"$user\" | cut -d: -f6)",
    `  out=$(cd "\${home:-/}" 2>/dev/null || cd /; ulimit -f ${sizeMiB * 2 * 1024}; timeout 300 runuser -u "$user" -- env -i PATH=/usr/bin:/bin SHELL=/bin/sh HOME="\${home:-/}" LOGNAME="$user" /bin/sh -c "$cmd" 2>&1 </dev/null)`,
    "  code=$?",
    "  printf 'RAN\\t%s\\t%s\\t%s\\n' \"$code\" \"$cmd\" \"$(printf '%s' \"$out\" | tail -n 2 | tr '\\n\\t' '  ')\"",
    "done < <(entries)",
    "echo \"ENTRIES $n\"",
  ].join("\n");

  const artifacts: Record<string, string> = {
    script: `${JOB.script}: the job, installed the afternoon before (mtime 16:40); its awk filter assigns instead of comparing ('$3 = c'), so every customer's block holds every invoice`,
    schedule: `${JOB.schedule}: '${CRON_LINE}', run by cron (a supervisor program in the container, cron.service on EC2)`,
    log: `${JOB.log}: last night's run from 02:00 (start, fetched N invoices, mawk's write failure, FAILED), timestamps of that night`,
    temp: `${JOB.temp}: the temp file it never cleans up, filling the volume, last written last night`,
  };

  return {
    id,
    description: `A nightly job's temp file fills the backend's ${sizeMiB} MiB uploads volume; cron runs the job again every night.`,
    spoilers: ["disk", "space", "full", "runaway", "export", "enospc", "quota", "cron", "statement", "awk", "ext4", "tmpfs"],
    bounds: [
      `Fills only the backend's uploads volume: on Docker its own ${sizeMiB} MiB ext4 filesystem (a sparse image under /var/lib/drills/ext4 on the host, ` +
        `loop-mounted; image and loop device removed on down), or a ${sizeMiB} MiB tmpfs where the host cannot make ext4 volumes (not root, no losetup); ` +
        `on AWS a ${sizeMiB} MiB ext4 filesystem on the node's own EBS volume. Never the host's disk.`,
      `The check runs the scheduled job once, as cron would, limited to files of ${sizeMiB * 2} MiB and 5 minutes.`,
    ],
    patch: capVolume,
    actions: () => [
      {
        id: `${id}-history`,
        node: "backend",
        description: `users' files, a nightly job in cron, and its run last night in ${UPLOAD_DIR}`,
        script: [
          "set -euo pipefail",
          ...LAST_NIGHT,
          `cd ${UPLOAD_DIR}`,
          "# A replaced node gets the volume as its predecessor left it: the story starts again from the same state.",
          `rm -rf ${JOB.outDir}`,
          "# What users uploaded in the weeks before.",
          "put() {",
          "  { printf '%%PDF-1.4\\n'; head -c $(( $2 - 9 )) /dev/zero | openssl enc -aes-128-ctr -nosalt -K \"$3\" -iv 00000000000000000000000000000000; } >\"$1\"",
          "  chown app:app \"$1\"; chmod 0644 \"$1\"",
          "  touch -t \"$(stamp $(( deployed - $4 )))\" \"$1\"",
          "}",
          ...files.map((f, i) => `put ${f.name} ${f.size} ${f.key} ${(userFiles - i) * 97_000 + ((i * 7_331) % 40_000)}`),
          "# The job, and its schedule, as installed the afternoon before.",
          `cat >${JOB.script} <<'DRILLS_JOB'`,
          jobScript.trimEnd(),
          "DRILLS_JOB",
          `chmod 0755 ${JOB.script}`,
          `printf '%s\\n' '# Statements for finance, every night (ticket FIN-2291).' 'SHELL=/bin/bash' '${CRON_LINE}' >${JOB.schedule}`,
          `chmod 0644 ${JOB.schedule}`,
          `touch -t "$(stamp $deployed)" ${JOB.script} ${JOB.schedule}`,
          `install -o app -g app -m 0644 /dev/null ${JOB.log}`,
          "# Last night's run, exactly as cron runs it.",
          "start=$(date +%s)",
          `runuser -u app -- env -i PATH=/usr/bin:/bin SHELL=/bin/bash HOME=/opt/drills LOGNAME=app /bin/bash -c '${JOB.script} >>${JOB.log} 2>&1' </dev/null || true`,
          "end=$(date +%s)",
          "# It ran at 02:00 last night: move its log lines and files back by the same amount.",
          "shift=$(( night - start ))",
          `while IFS= read -r line; do`,
          `  if [[ "$line" =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}\\ [0-9]{2}:[0-9]{2}:[0-9]{2})(.*)$ ]]; then`,
          `    printf '%s%s\\n' "$(date -d "@$(( $(date -d "\${BASH_REMATCH[1]}" +%s) + shift ))" '+%F %T')" "\${BASH_REMATCH[2]}"`,
          "  else printf '%s\\n' \"$line\"; fi",
          `done <${JOB.log} >${JOB.log}.new`,
          `cat ${JOB.log}.new >${JOB.log} && rm -f ${JOB.log}.new`,
          "# The output it meant to write is named after that night too.",
          `sed -i "s/statements-$(date -d "@$start" +%F)/statements-$(date -d "@$night" +%F)/" ${JOB.log}`,
          "# The volume itself is older than any of it.",
          `[ ! -d lost+found ] || touch -t "$(stamp $(( deployed - 90 * 86400 )))" lost+found`,
          `touch -t "$(stamp $(( end + shift )))" ${JOB.log} ${JOB.temp} ${JOB.outDir} ${UPLOAD_DIR}`,
          `[ -s ${JOB.temp} ] || { echo "the job left no temp file" >&2; cat ${JOB.log} >&2; exit 1; }`,
          `avail=$(df -k --output=avail ${UPLOAD_DIR} | tail -1)`,
          '[ "$avail" -lt 1024 ] || { echo "the volume still has ${avail} KiB free after the job" >&2; exit 1; }',
        ].join("\n"),
      },
    ],
    probe: async (ctx): Promise<ProbeResult> => {
      const vol = await volumeFigures(ctx);
      const up = await tryUpload(ctx);
      const r = await reads(ctx);
      return {
        present: up.status !== 201,
        summary: `upload answered ${up.status} in ${up.ms} ms (${up.message}); reads ${r.worst}, ${r.listed} files listed; ${vol.freeMiB} of ${vol.sizeMiB} MiB free on the uploads volume (${vol.filesystem})`,
        figures: {
          uploadStatus: up.status,
          uploadMessage: up.message,
          uploadMs: up.ms,
          readsStatus: r.worst,
          listedFiles: r.listed,
          userFiles,
          freeMiB: vol.freeMiB,
          usedPct: vol.usedPct,
          volumeMiB: vol.sizeMiB,
          filesystem: vol.filesystem,
        },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const before = await volumeFigures(ctx);
      if (before.freeMiB < minFreeMiB) reasons.push(`Only ${before.freeMiB} MiB free on the uploads volume; at least ${minFreeMiB} MiB must be free.`);
      const kept = await keptFiles(ctx);
      if (kept < userFiles) reasons.push(`Users' uploaded files were lost: ${kept} of ${userFiles} are still there (counted by content).`);
      // What the scheduler does next night: run its entries now, then look again.
      const ran = await ctx.exec("backend", runScheduled);
      const runs = ran.stdout.split("\n").filter((l) => l.startsWith("RAN\t")).map((l) => l.split("\t"));
      for (const [, code, cmd, tail] of runs) {
        if (code !== "0") reasons.push(`A scheduled job fails when cron runs it (\`${cmd}\`, exit ${code}): ${tail.trim() || "no output"}.`);
      }
      const after = runs.length > 0 ? await volumeFigures(ctx) : before;
      if (runs.length > 0 && before.freeMiB >= minFreeMiB && after.freeMiB < minFreeMiB) {
        reasons.push(`After the node's scheduled jobs ran once, as they do every night, only ${after.freeMiB} MiB were free on the uploads volume again.`);
      }
      const up = await tryUpload(ctx);
      if (up.status !== 201) reasons.push(`Uploading a file still fails (${up.status || up.message}).`);
      return {
        ok: reasons.length === 0,
        reasons,
        figures: { freeMiB: before.freeMiB, freeAfterJobsMiB: after.freeMiB, scheduledRuns: runs.length, uploadStatus: up.status, userFilesKept: kept },
      };
    },
    shortcuts: [
      {
        description: "Delete only the job's temp file: the volume is free until cron runs the job again (the check runs it).",
        actions: () => [{ id: `${id}-shortcut-rm-temp`, node: "backend", description: "delete the temp file", script: `set -euo pipefail\nrm -f ${JOB.temp}` }],
        // The check ran the job as cron does: the volume is full again, no undo needed.
      },
      {
        description: "Disable the job in cron but leave its temp file: uploads still have no room.",
        actions: () => [{ id: `${id}-shortcut-no-cron`, node: "backend", description: "comment out the schedule", script: `set -euo pipefail\nsed -i 's|^0 2 |# 0 2 |' ${JOB.schedule}` }],
        undo: () => [{ id: `${id}-undo-no-cron`, node: "backend", description: "schedule it again", script: `set -euo pipefail\nsed -i 's|^# 0 2 |0 2 |' ${JOB.schedule}` }],
      },
      {
        description: "Make room by emptying users' largest files (names kept): users lost their files, and the job fills the room again.",
        actions: () => [
          {
            id: `${id}-shortcut-empty-files`,
            node: "backend",
            description: "empty the three largest user files, keeping a copy outside the volume for the undo",
            script: [
              "set -euo pipefail",
              "install -d -m 0700 /var/tmp/.hurry",
              `cd ${UPLOAD_DIR}`,
              'for f in $(ls -1S -- *.pdf | head -n 3); do cp -a "$f" /var/tmp/.hurry/; : >"$f"; done',
            ].join("\n"),
          },
        ],
        undo: () => [
          {
            id: `${id}-undo-empty-files`,
            node: "backend",
            description: "put the files back, then let the job fill the volume as it did",
            script: [
              "set -euo pipefail",
              `rm -f ${JOB.temp}`,
              `for f in /var/tmp/.hurry/*.pdf; do cp -a "$f" ${UPLOAD_DIR}/; done`,
              "rm -rf /var/tmp/.hurry",
              `runuser -u app -- env -i PATH=/usr/bin:/bin SHELL=/bin/bash HOME=/opt/drills LOGNAME=app /bin/bash -c '${JOB.script} >/dev/null 2>&1' </dev/null || true`,
            ].join("\n"),
          },
        ],
      },
    ],
    solution: () => [
      {
        id: `${id}-fix-job`,
        node: "backend",
        description: "make the job's filter compare, then free the volume of what its last run left",
        script: [
          "set -euo pipefail",
          `sed -i "s/'\\$3 = c'/'\\$3 == c'/" ${JOB.script}`,
          `grep -q "'\\$3 == c'" ${JOB.script}`,
          `rm -f ${JOB.temp}`,
        ].join("\n"),
      },
    ],
    story: scriptedStory("backend", artifacts, [
      "set -uo pipefail",
      "# Last night, as the log tells it: its run started at 02:00, a few hours to a day and a half ago.",
      `day=$(grep -m1 -oE '^[0-9]{4}-[0-9]{2}-[0-9]{2} 02:00:0[0-9] nightly-export\\[[0-9]+\\]: start:' ${JOB.log} 2>/dev/null | cut -c1-10)`,
      'night=$(date -d "${day:-1970-01-01} 02:00" +%s); deployed=$(( night - 33600 )); age=$(( $(date +%s) - night ))',
      `[ -n "$day" ] && [ "$age" -ge 3000 ] && [ "$age" -le 133200 ] && grep -q "^$day 02:0[0-9]:[0-9]* nightly-export\\[[0-9]*\\]: FAILED" ${JOB.log} || echo MISSING log`,
      `[ -x ${JOB.script} ] && grep -q "'\\$3 = c'" ${JOB.script} && [ "$(stat -c %Y ${JOB.script})" -eq "$deployed" ] || echo MISSING script`,
      `grep -qxF '${CRON_LINE}' ${JOB.schedule} 2>/dev/null && pgrep -x cron >/dev/null || echo MISSING schedule`,
      `t=$(stat -c %Y ${JOB.temp} 2>/dev/null || echo 0); [ -s ${JOB.temp} ] && [ "$t" -ge "$night" ] && [ "$t" -lt $(( night + 600 )) ] || echo MISSING temp`,
    ].join("\n")),
  };
}
