import { setEnv } from "../plan/patch";
import { ActionSpec } from "../plan/types";
import { stringParam } from "./params";
import { scriptedStory } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";
import { APP_MAX_BYTES, mib, randomFile, uploadFile, uploadInBrowser, UploadOutcome } from "./uploads";

export interface PayloadTooLargeParams {
  /** The proxy's request body cap after the change (an nginx size; default 1m, nginx's own default). */
  limit?: string;
}

/** The healthy setting, as it was before the change. */
export const HEALTHY_LIMIT = "20m";

/** Largest cap the check accepts: a few times the app's own maximum, never "no limit". */
export const MAX_CAP_BYTES = 64 * 1024 * 1024;

const ENV_FILE = "/etc/drills/proxy.env";
const CHANGES = "/var/log/drills/proxy-changes.log";
const ACCESS_LOG = "/var/log/nginx/access.log";
const BACKEND_LOG = "/var/log/drills/backend.log";

/** Bash: the change went in two days ago at 16:05 (node time), in $changed; stamp/at format it. */
const WHEN = [
  "changed=$(( $(date -d 'today 16:05' +%s) - 2 * 86400 ))",
  "stamp() { date -d \"@$1\" +%Y%m%d%H%M.%S; }",
  "at() { date -d \"@$(( changed + $1 ))\" '+%F %T'; }",
  "clf() { date -d \"@$(( changed + $1 ))\" '+%d/%b/%Y:%H:%M:%S %z'; }",
];

/** Restart nginx as a deploy or a reboot does (the site is rendered again from its settings), and wait for it. */
const RESTART_PROXY = [
  "supervisorctl restart nginx >/dev/null || true",
  "for _ in $(seq 1 100); do curl -fsS -m 2 http://127.0.0.1/healthz >/dev/null 2>&1 && exit 0; sleep 0.1; done",
  "echo \"nginx did not answer after a restart: $(tail -n 3 /var/log/supervisor/nginx.log | tr '\\n' ' ')\" >&2; exit 1",
].join("\n");

/** Set the proxy's setting in its env file, then restart nginx (a shortcut's step or its undo). */
const setLimit = (value: string, what: string): ActionSpec => ({
  id: `proxy-limit-${value}`,
  node: "proxy",
  description: what,
  script: ["set -euo pipefail", `sed -i "s/^CLIENT_MAX_BODY_SIZE=.*/CLIENT_MAX_BODY_SIZE='${value}'/" ${ENV_FILE}`, RESTART_PROXY].join("\n"),
});

const outcome = (u: UploadOutcome) => (u.status === 0 ? u.message : `HTTP ${u.status}${u.message ? ` "${u.message.slice(0, 80)}"` : ""}`);

/** Does the proxy still refuse a body far beyond what the app takes? A declared size is enough: nginx answers before reading it. */
async function capHolds(ctx: CheckContext): Promise<{ status: string; ms: number }> {
  const r = await ctx.exec(
    "proxy",
    `curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' -X POST -H 'Expect:' -H 'Content-Type: application/octet-stream' ` +
      `-H 'Content-Length: ${MAX_CAP_BYTES + 1}' 'http://127.0.0.1/api/uploads?name=oversized.bin' || true`,
  );
  const [code, secs] = r.stdout.trim().split(" ");
  return { status: code || "000", ms: Math.round(Number(secs || 0) * 1000) };
}

/** Lines of the backend's log and the proxy's access log that mention a file name. */
async function traces(ctx: CheckContext, name: string): Promise<{ backendLines: number; proxyStatus: string }> {
  const b = await ctx.exec("backend", `grep -cF -- '${name}' ${BACKEND_LOG} || true`);
  const p = await ctx.exec("proxy", `grep -F -- '${name}' ${ACCESS_LOG} | tail -n 1 | sed -E 's/^[^"]*"[^"]*" ([0-9]{3}) .*/\\1/'`);
  return { backendLines: Number(b.stdout.trim()) || 0, proxyStatus: p.stdout.trim() || "none" };
}

/**
 * A hardening change two days ago capped request bodies at the proxy to
 * nginx's default (1m): every ordinary upload from the page is refused by
 * nginx with 413 before the backend sees it.
 */
export function payloadTooLarge(params: PayloadTooLargeParams = {}): Fault {
  const id = "payload-too-large";
  const limit = stringParam(id, "limit", params.limit, "1m", /^[1-9][0-9]*[kKmM]?$/, "an nginx size below the app's 10 MiB, like 1m or 512k");

  const artifacts: Record<string, string> = {
    backup: `${ENV_FILE}.bak-<date>: the proxy's settings from before the change (CLIENT_MAX_BODY_SIZE='${HEALTHY_LIMIT}'), two days old`,
    note: `${CHANGES}: the change note (SEC-412 hardening, CLIENT_MAX_BODY_SIZE ${HEALTHY_LIMIT} -> ${limit}, nginx restarted, only / and /api/health tried)`,
    access: `${ACCESS_LOG}: users' uploads answered 413 by nginx since the change (no upstream status), timestamps from two days ago on`,
  };

  return {
    id,
    description: `The proxy's request body cap (nginx client_max_body_size, CLIENT_MAX_BODY_SIZE in ${ENV_FILE}) was lowered to ${limit}: uploads above it get 413 from nginx.`,
    spoilers: ["413", "too large", "body size", "client_max_body_size", "body_size", "entity", "payload"],
    bounds: [
      "Changes one setting of the level's proxy (its env file) and writes the change's notes and log lines on the proxy.",
      `The check uploads at most ${mib(APP_MAX_BYTES)} at a time through the proxy (and removes what it stored), restarts nginx once, ` +
        `and declares (never sends) a ${mib(MAX_CAP_BYTES + 1)} body to the proxy itself.`,
    ],
    patch: (plan) => setEnv(plan, "proxy", { CLIENT_MAX_BODY_SIZE: limit }),
    actions: () => [
      {
        id: `${id}-history`,
        node: "proxy",
        description: "the proxy's settings before the security review, its change note and the access log since",
        script: [
          "set -euo pipefail",
          ...WHEN,
          "day=$(date -d \"@$changed\" +%Y%m%d)",
          `sed "s/^CLIENT_MAX_BODY_SIZE=.*/CLIENT_MAX_BODY_SIZE='${HEALTHY_LIMIT}'/" ${ENV_FILE} >${ENV_FILE}.bak-$day`,
          `touch -t "$(stamp $(( changed - 60 )))" ${ENV_FILE}.bak-$day`,
          `touch -t "$(stamp $changed)" ${ENV_FILE}`,
          "install -d -m 0755 /var/log/drills",
          `cat >${CHANGES} <<DRILLS_NOTE`,
          `$(at -$(( 41 * 86400 ))) ops (d.rossi): nginx 1.22 from Debian 12; site rendered from ${ENV_FILE} by /usr/local/lib/drills/nginx-run.`,
          "$(at -$(( 9 * 86400 ))) ops (d.rossi): access log format 'timing' (request time, upstream time and status, request id).",
          `$(at 0) ops (m.keller): SEC-412 proxy hardening from the security review: request bodies capped at nginx's default size ` +
            `(CLIENT_MAX_BODY_SIZE ${HEALTHY_LIMIT} -> ${limit} in ${ENV_FILE}; backup ${ENV_FILE}.bak-$day). nginx restarted.`,
          "$(at 95) ops (m.keller): SEC-412 checked: / and /api/health answer 200. Done.",
          "DRILLS_NOTE",
          `touch -t "$(stamp 95)" ${CHANGES}`,
          "# Users' uploads since then, as nginx logged them: refused before any upstream.",
          "rid() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'; }",
          "ua='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36'",
          "{",
          "  for entry in '4630 signed-contract.pdf' '5210 signed-contract.pdf' '23140 IMG_20241126_0915.jpg' '61990 invoice-2291-scan.pdf' '63020 invoice-2291-scan.pdf' '148700 delivery-note.pdf'; do",
          "    set -- $entry",
          "    printf '10.20.0.%s - - [%s] \"POST /api/uploads?name=%s HTTP/1.1\" 413 183 \"http://app/\" \"%s\" rt=0.%03d urt=- us=- rid=%s\\n' " +
            "$(( $1 % 200 + 10 )) \"$(clf $1)\" \"$2\" \"$ua\" $(( $1 % 40 + 3 )) \"$(rid)\"",
          "  done",
          `  cat ${ACCESS_LOG} 2>/dev/null || true`,
          `} >${ACCESS_LOG}.new`,
          `cat ${ACCESS_LOG}.new >${ACCESS_LOG} && rm -f ${ACCESS_LOG}.new`,
        ].join("\n"),
      },
    ],
    probe: async (ctx): Promise<ProbeResult> => {
      const file = randomFile(2 * 1024 * 1024, 5 * 1024 * 1024);
      const page = await uploadInBrowser(ctx, file);
      const t = await traces(ctx, file.name);
      const api = await uploadFile(ctx, ctx.plan.appUrl, randomFile(2 * 1024 * 1024, 5 * 1024 * 1024));
      const small = await uploadFile(ctx, ctx.plan.appUrl, randomFile(50 * 1024, 200 * 1024));
      return {
        present: !page.intact || !api.intact,
        summary:
          `a ${mib(file.content.length)} file uploaded from the page: request ${page.status === -1 ? "never sent" : page.status || page.requestError}, ` +
          `page shows ${JSON.stringify(page.error || page.message || "nothing")}; backend log lines for it: ${t.backendLines}, proxy logged ${t.proxyStatus}; ` +
          `the same through the API: ${outcome(api)}; a small file: ${outcome(small)}`,
        figures: {
          fileBytes: file.content.length,
          pageStatus: page.status,
          pageError: page.error,
          pageMessage: page.message,
          pageStored: page.intact ? 1 : 0,
          backendLogLines: t.backendLines,
          proxyLogStatus: t.proxyStatus,
          apiStatus: api.status,
          smallStatus: small.status,
        },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      // What the next deploy or reboot does: nginx renders its site again from the proxy's settings.
      const restart = await ctx.exec("proxy", RESTART_PROXY);
      if (restart.code !== 0) reasons.push(`The proxy does not come back after a restart of nginx (as on the next deploy or reboot): ${restart.stderr.trim()}`);
      const ordinary = randomFile(2 * 1024 * 1024, 6 * 1024 * 1024);
      const a = await uploadFile(ctx, ctx.plan.appUrl, ordinary);
      if (!a.intact) {
        reasons.push(`Uploading an ordinary ${mib(ordinary.content.length)} file through the app's address fails after nginx restarts: ${outcome(a)}.`);
      }
      const largest = randomFile(APP_MAX_BYTES);
      const b = await uploadFile(ctx, ctx.plan.appUrl, largest);
      if (!b.intact) {
        reasons.push(
          `A ${mib(APP_MAX_BYTES)} file, the largest the app itself accepts (MAX_BYTES in /opt/drills/backend/routes/uploads.js), ` +
            `does not get through the app's address: ${outcome(b)}. The proxy must let through every file the app takes.`,
        );
      }
      const cap = await capHolds(ctx);
      if (cap.status !== "413") {
        reasons.push(
          `The proxy no longer refuses huge request bodies: a request declaring ${mib(MAX_CAP_BYTES + 1)} got ${cap.status === "000" ? "no answer within 5 s (nginx waits for the body)" : `HTTP ${cap.status}`} ` +
            `instead of an immediate 413. Keep a cap, between the app's own ${mib(APP_MAX_BYTES)} and ${mib(MAX_CAP_BYTES)}: ` +
            "without one anyone can make nginx buffer gigabytes to disk.",
        );
      }
      const pageFile = randomFile(2 * 1024 * 1024, 5 * 1024 * 1024);
      const page = await uploadInBrowser(ctx, pageFile);
      if (!page.intact) {
        const shown = page.error || page.message || "nothing";
        reasons.push(
          `Uploading a ${mib(pageFile.content.length)} file with the page's Upload button still fails in a browser ` +
            `(request ${page.status === -1 ? "never sent" : page.status || page.requestError}; the page shows ${JSON.stringify(shown)}${page.failedSteps.length ? `; ${page.failedSteps.join("; ")}` : ""}).`,
        );
      }
      return {
        ok: reasons.length === 0,
        reasons,
        figures: {
          ordinaryBytes: ordinary.content.length,
          ordinaryStatus: a.status,
          ordinaryMs: a.ms,
          largestStatus: b.status,
          largestMs: b.ms,
          hugeDeclaredStatus: cap.status,
          hugeDeclaredMs: cap.ms,
          pageStatus: page.status,
          pageMessage: page.message || page.error,
        },
      };
    },
    shortcuts: [
      {
        description: "raise the cap just above the file that failed (8m in proxy.env), restart nginx",
        actions: () => [setLimit("8m", "raise the cap to 8m")],
        undo: () => [setLimit(limit, "put the cap back")],
      },
      {
        description: "remove the cap altogether (CLIENT_MAX_BODY_SIZE=0: no limit), restart nginx",
        actions: () => [setLimit("0", "no cap")],
        undo: () => [setLimit(limit, "put the cap back")],
      },
      {
        description: "edit the rendered site (/etc/nginx/sites-available/drills: client_max_body_size 20m) and reload nginx, leaving the setting as it is",
        actions: () => [
          {
            id: "proxy-site-edit",
            node: "proxy",
            description: "edit the rendered site and reload",
            script: [
              "set -euo pipefail",
              "sed -i -E 's/client_max_body_size [^;]+;/client_max_body_size 20m;/' /etc/nginx/sites-available/drills",
              "nginx -t -q && nginx -s reload",
              "sleep 1",
            ].join("\n"),
          },
        ],
        undo: () => [{ id: "proxy-restart", node: "proxy", description: "restart nginx", script: RESTART_PROXY }],
      },
    ],
    solution: () => [setLimit(HEALTHY_LIMIT, `set the proxy's cap back to ${HEALTHY_LIMIT}, above the app's ${mib(APP_MAX_BYTES)}`)],
    story: scriptedStory("proxy", artifacts, [
      "set -uo pipefail",
      ...WHEN,
      "day=$(date -d \"@$changed\" +%Y%m%d)",
      `grep -qx "CLIENT_MAX_BODY_SIZE='${HEALTHY_LIMIT}'" ${ENV_FILE}.bak-$day 2>/dev/null && [ "$(stat -c %Y ${ENV_FILE}.bak-$day)" -lt "$changed" ] || echo MISSING backup`,
      `grep -q "SEC-412.*CLIENT_MAX_BODY_SIZE ${HEALTHY_LIMIT} -> ${limit}" ${CHANGES} 2>/dev/null && grep -q "^$(at 0) " ${CHANGES} || echo MISSING note`,
      `[ "$(grep -c '"POST /api/uploads?name=[^ ]* HTTP/1.1" 413 .* urt=- us=- ' ${ACCESS_LOG} 2>/dev/null)" -ge 6 ] && head -n 1 ${ACCESS_LOG} | grep -qF "[$(clf 4630)]" || echo MISSING access`,
      `grep -qx "CLIENT_MAX_BODY_SIZE='${limit}'" ${ENV_FILE} || echo MISSING note`,
    ].join("\n")),
    symptomPaths: [],
  };
}
