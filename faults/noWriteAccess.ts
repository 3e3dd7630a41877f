import * as crypto from "crypto";
import { RESTART_BACKEND } from "./scripts";
import { scriptedStory } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";
import { randomFile, uploadFile, UploadOutcome, UPLOADS, listedUploads } from "./uploads";

/**
 * The story: yesterday evening the uploads were moved over from the old
 * backend node (being retired) by restoring its nightly archive with
 * `tar --numeric-owner -xpf`. On the old node the app's user had uid 1001;
 * here nobody does, so the folder and every file belong to a bare number and
 * the app may read them but not write: every upload fails with 500.
 */
const OLD_UID = 1001;
const ARCHIVE_DIR = "/var/backups/drills";
const NOTE = "/var/log/drills/migration.log";

/** Users' files the restore brought back: name, size; content fixed by the name so the check can hash it. */
const USER_FILES = [
  ["signed-contract-4471.pdf", 182_113],
  ["delivery-note-0932.pdf", 64_870],
  ["IMG_20241121_101522.jpg", 321_337],
  ["invoice-2291-scan.pdf", 97_004],
  ["receipt-77812.pdf", 23_419],
  ["statement-october.pdf", 141_220],
  ["passport-copy-kw.pdf", 88_716],
] as const;

const key = (name: string) => crypto.createHash("sha256").update(`drills-restore-${name}`).digest("hex").slice(0, 32);

/** The files' sha256, computed the way the node made them (AES-CTR of zeros under the name's key). */
function sha256Of(name: string, size: number): string {
  const c = crypto.createCipheriv("aes-128-ctr", Buffer.from(key(name), "hex"), Buffer.alloc(16));
  return crypto.createHash("sha256").update(Buffer.concat([c.update(Buffer.alloc(size)), c.final()])).digest("hex");
}

/** Bash: the move happened yesterday at 19:40 (node time), in $moved. */
const WHEN = [
  "moved=$(( $(date -d 'today 19:40' +%s) - 86400 ))",
  "stamp() { date -d \"@$1\" +%Y%m%d%H%M.%S; }",
  "at() { date -d \"@$(( moved + $1 ))\" '+%F %T'; }",
];

const BACKEND_PID = "pid=$(pgrep -of 'node /opt/drills/backend/server.js' || true)";

const outcome = (u: UploadOutcome) => (u.status === 0 ? u.message : `HTTP ${u.status}${u.message ? ` "${u.message.slice(0, 160)}"` : ""}`);

/** Back to the state the fault left (a shortcut's undo): everything the old uid's, dirs 0755, files 0644, the backend as app. */
const RESTORE_STATE = [
  "set -euo pipefail",
  `chown -R ${OLD_UID}:${OLD_UID} ${UPLOADS.dir}`,
  `find ${UPLOADS.dir} -type d -exec chmod 0755 {} +`,
  `find ${UPLOADS.dir} -type f -exec chmod 0644 {} +`,
].join("\n");

/**
 * The uploads folder (and its temp folder) belong to a uid that is not the
 * app's: the backend can read users' files but every upload fails with 500
 * (permission denied).
 */
export function noWriteAccess(): Fault {
  const id = "no-write-access";
  const artifacts: Record<string, string> = {
    archive: `${ARCHIVE_DIR}/uploads-<date>.tar.gz: the old node's nightly archive of the uploads, entries owned by uid ${OLD_UID}`,
    note: `${NOTE}: the move's log (yesterday 19:40: archive copied, restored with tar --numeric-owner -xpzf, 'ls' looked fine, backend restarted)`,
    files: `${UPLOADS.dir}: users' files and the temp folder, owned by ${OLD_UID}:${OLD_UID} (no such user here), mode 0755/0644, dated from the old node`,
  };

  return {
    id,
    description: `The uploads folder and its temp folder belong to uid ${OLD_UID} (restored with --numeric-owner from the old node); the app's user cannot write there.`,
    spoilers: ["permission", "denied", "eacces", "owner", "ownership", "chown", "chmod", "uid", "numeric"],
    bounds: [`Touches only the backend's uploads volume (ownership, ${USER_FILES.length} users' files under 1 MiB), an archive in ${ARCHIVE_DIR} and a log line file.`],
    actions: () => [
      {
        id: `${id}-history`,
        node: "backend",
        description: "users' files from the old node, its archive, and the move's log",
        script: [
          "set -euo pipefail",
          ...WHEN,
          `[ "$(id -u app)" != ${OLD_UID} ]`,
          "day=$(date -d \"@$(( moved - 68400 ))\" +%Y%m%d)   # the old node's archive of last night, 00:40",
          "work=$(mktemp -d)",
          `install -d -m 0755 "$work/uploads" "$work/uploads/.partial"`,
          "put() {",
          "  head -c \"$2\" /dev/zero | openssl enc -aes-128-ctr -nosalt -K \"$3\" -iv 00000000000000000000000000000000 >\"$work/uploads/$1\"",
          "  chmod 0644 \"$work/uploads/$1\"; touch -t \"$(stamp $(( moved - $4 )))\" \"$work/uploads/$1\"",
          "}",
          ...USER_FILES.map(([name, size], i) => `put ${name} ${size} ${key(name)} ${(USER_FILES.length - i) * 151_000 + 72_000}`),
          'touch -t "$(stamp $(( moved - 72000 )))" "$work/uploads/.partial" "$work/uploads"',
          `install -d -m 0750 ${ARCHIVE_DIR}`,
          `tar --numeric-owner --owner=${OLD_UID} --group=${OLD_UID} -C "$work" -czf ${ARCHIVE_DIR}/uploads-$day.tar.gz uploads`,
          `touch -t "$(stamp $(( moved - 68400 )))" ${ARCHIVE_DIR}/uploads-$day.tar.gz`,
          'rm -rf "$work"',
          "# The move, as it was done: the volume emptied, the archive restored as it came.",
          `find ${UPLOADS.dir} -mindepth 1 -delete`,
          `tar --numeric-owner -xpzf ${ARCHIVE_DIR}/uploads-$day.tar.gz -C ${UPLOADS.dir} --strip-components=1`,
          `chown ${OLD_UID}:${OLD_UID} ${UPLOADS.dir}; chmod 0755 ${UPLOADS.dir}`,
          `touch -t "$(stamp $(( moved - 72000 )))" ${UPLOADS.dir} ${UPLOADS.tmpDir}`,
          `cat >>${NOTE} <<DRILLS_NOTE`,
          `$(at 0) move-uploads: old node backend-1 to retire (OPS-1203): copying last night's archive uploads-$day.tar.gz to ${ARCHIVE_DIR}`,
          "$(at 41) move-uploads: stopping uploads for the restore: supervisorctl stop backend",
          `$(at 44) move-uploads: emptying ${UPLOADS.dir} (new volume: only what the backend's start-up made)`,
          `$(at 46) move-uploads: tar --numeric-owner -xpzf ${ARCHIVE_DIR}/uploads-$day.tar.gz -C ${UPLOADS.dir} --strip-components=1`,
          `$(at 52) move-uploads: restored ${USER_FILES.length} files; ls -l looks right (same sizes, same dates as on backend-1)`,
          "$(at 53) move-uploads: supervisorctl start backend; /api/health 200, /api/uploads lists every file. Done.",
          "DRILLS_NOTE",
          `touch -t "$(stamp 53)" ${NOTE}`,
        ].join("\n"),
      },
    ],
    probe: async (ctx): Promise<ProbeResult> => {
      const up = await uploadFile(ctx, ctx.plan.appUrl, randomFile(40 * 1024, 2 * 1024 * 1024));
      const logged = await ctx.exec("backend", "tail -n 40 /var/log/drills/backend.log | grep -ci 'permission denied' || true");
      const { status: listStatus, listed } = await listedUploads(ctx);
      return {
        present: !up.intact,
        summary: `an ordinary upload: ${outcome(up)} in ${up.ms} ms; backend log lines saying permission denied: ${logged.stdout.trim()}; the list: ${listStatus}, ${listed} files`,
        figures: {
          uploadStatus: up.status,
          uploadMessage: up.message,
          uploadMs: up.ms,
          logLinesDenied: Number(logged.stdout.trim()) || 0,
          listStatus,
          listed,
          userFiles: USER_FILES.length,
        },
      };
    },
    check: async (ctx: CheckContext) => {
      const reasons: string[] = [];
      const state = await ctx.exec(
        "backend",
        [
          BACKEND_PID,
          `tmpdir=$( { [ -n "$pid" ] && runuser -u "$(ps -o user= -p "$pid")" -- cat /proc/$pid/environ | tr '\\0' '\\n' | sed -n 's/^UPLOAD_TMP_DIR=//p'; } 2>/dev/null || true)`,
          `tmpdir=\${tmpdir:-${UPLOADS.tmpDir}}`,
          'echo "USER $( [ -n "$pid" ] && ps -o user= -p "$pid" || echo none)"',
          `for d in ${UPLOADS.dir} "$tmpdir"; do echo "DIR $(stat -c '%U:%u %a' "$d" 2>/dev/null || echo 'none 0') $d"; done`,
          `find ${UPLOADS.dir} -xdev -type f -exec sha256sum {} + 2>/dev/null | sed 's/^/SUM /'`,
        ].join("\n"),
      );
      const out = state.stdout;
      const user = /^USER (.*)$/m.exec(out)?.[1]?.trim() ?? "none";
      if (user !== "app") {
        reasons.push(
          user === "none"
            ? "The backend is not running."
            : `The backend runs as ${user}, not as its own user app: a bug in it would own the whole node. Give the folders to app instead.`,
        );
      }
      // Who owns the folders is the answer, not the symptom: said only once uploads work some other way.
      const owners: string[] = [];
      for (const m of out.matchAll(/^DIR (\S+) (\d+) (.*)$/gm)) {
        const [, who, mode, dir] = m;
        const [name, uid] = who.split(":");
        const owner = name === "UNKNOWN" ? `uid ${uid}, a user this node does not have` : name;
        if ((parseInt(mode, 8) & 0o002) !== 0) {
          reasons.push(`${dir} is writable by every user of the node (mode ${mode}): anyone could replace the files customers uploaded. Owner app, mode 0755 (or 0750).`);
        }
        if (who === "none") reasons.push(`${dir} does not exist.`);
        else if (name !== "app") owners.push(`${dir} belongs to ${owner}, not to app, the user the backend runs as.`);
      }
      const sums = new Set([...out.matchAll(/^SUM ([0-9a-f]{64}) /gm)].map((m) => m[1]));
      const kept = USER_FILES.filter(([name, size]) => sums.has(sha256Of(name, size))).length;
      if (kept < USER_FILES.length) reasons.push(`Users' files were lost: ${kept} of ${USER_FILES.length} are still in ${UPLOADS.dir} (counted by content).`);
      const up = await uploadFile(ctx, ctx.plan.appUrl, randomFile(40 * 1024, 2 * 1024 * 1024));
      if (!up.intact) reasons.push(`An ordinary upload through the app does not arrive intact: ${outcome(up)}.`);
      else reasons.push(...owners);
      return {
        ok: reasons.length === 0,
        reasons,
        figures: { backendUser: user, uploadStatus: up.status, uploadMs: up.ms, userFilesKept: kept },
      };
    },
    shortcuts: [
      {
        description: `open the folder to everyone (chmod -R 777 ${UPLOADS.dir})`,
        actions: () => [{ id: "chmod-777", node: "backend", description: "open it to everyone", script: `chmod -R 777 ${UPLOADS.dir}` }],
        undo: () => [{ id: "undo-chmod", node: "backend", description: "put it back", script: RESTORE_STATE }],
      },
      {
        description: "run the backend as root (user=root in its supervisor program)",
        actions: () => [
          {
            id: "backend-as-root",
            node: "backend",
            description: "run it as root",
            script: [
              "set -euo pipefail",
              "sed -i 's/^user=app$/user=root/' /etc/supervisor/conf.d/backend.conf",
              "supervisorctl reread >/dev/null && supervisorctl update >/dev/null",
              ...RESTART_BACKEND,
            ].join("\n"),
          },
        ],
        undo: () => [
          {
            id: "backend-as-app",
            node: "backend",
            description: "back to app",
            script: [
              "set -euo pipefail",
              "sed -i 's/^user=root$/user=app/' /etc/supervisor/conf.d/backend.conf",
              "supervisorctl reread >/dev/null && supervisorctl update >/dev/null",
              ...RESTART_BACKEND,
            ].join("\n"),
          },
        ],
      },
      {
        description: `give app only the temp folder the log names (chown app ${UPLOADS.tmpDir})`,
        actions: () => [{ id: "chown-tmp", node: "backend", description: "give it the temp folder", script: `chown app:app ${UPLOADS.tmpDir}` }],
        undo: () => [{ id: "undo-chown-tmp", node: "backend", description: "put it back", script: RESTORE_STATE }],
      },
    ],
    solution: () => [
      {
        id: `${id}-fix`,
        node: "backend",
        description: "give the uploads back to the app's user",
        script: ["set -euo pipefail", `chown -R app:app ${UPLOADS.dir}`, `chmod 0755 ${UPLOADS.dir} ${UPLOADS.tmpDir}`].join("\n"),
      },
    ],
    story: scriptedStory("backend", artifacts, [
      "set -uo pipefail",
      ...WHEN,
      'day=$(date -d "@$(( moved - 68400 ))" +%Y%m%d)',
      `a=${ARCHIVE_DIR}/uploads-$day.tar.gz`,
      `[ -f "$a" ] && tar --numeric-owner -tvzf "$a" | grep ' ${OLD_UID}/${OLD_UID} .* uploads/signed-contract-4471.pdf$' >/dev/null || echo MISSING archive`,
      `grep -q "^$(at 46) move-uploads: tar --numeric-owner -xpzf" ${NOTE} 2>/dev/null || echo MISSING note`,
      `[ "$(stat -c %u:%g ${UPLOADS.dir})" = ${OLD_UID}:${OLD_UID} ] && [ "$(stat -c %u ${UPLOADS.tmpDir})" = ${OLD_UID} ] && ! getent passwd ${OLD_UID} >/dev/null ` +
        `&& [ "$(find ${UPLOADS.dir} -maxdepth 1 -type f -uid ${OLD_UID} | wc -l)" -ge ${USER_FILES.length} ] || echo MISSING files`,
    ].join("\n")),
    symptomPaths: [],
  };
}
