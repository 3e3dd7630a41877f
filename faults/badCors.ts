import { originToken } from "../plan/endpoints";
import { setEnv } from "../plan/patch";
import { stringParam } from "./params";
import { RESTART_BACKEND } from "./scripts";
import { ActionSpec } from "../plan/types";
import { CheckContext, Fault } from "./types";

export interface BadCorsParams {
  /**
   * The origin the backend wrongly allows. Default: the staging host's, left
   * in the backend's settings by the move (neither 127.0.0.1 nor localhost,
   * so the fault holds however the app is opened).
   */
  allowedOrigin?: string;
}

/** The origin staging serves the app on; the move copied it into production's settings. */
export const STALE_ORIGIN = "https://app.staging.drills.internal";

/** An origin that is not the app's: the API must not allow it (no `*`, no echo of any Origin). */
export const FOREIGN_ORIGIN = "https://example.org";

/** Set the backend's CORS_ORIGIN and restart it, as a player would by hand. */
function setCorsOrigin(id: string, description: string, value: string): ActionSpec {
  return {
    id,
    node: "backend",
    description,
    script: ["set -euo pipefail", `sed -i "s|^CORS_ORIGIN=.*|CORS_ORIGIN='${value}'|" /etc/drills/backend.env`, ...RESTART_BACKEND].join("\n"),
  };
}

/** scheme://host:port of a URL. */
export const originOf = (url: string): string => new URL(url).origin;

/** The app's URL as users open it: on 127.0.0.1 also spelled localhost (the same server). */
export function appSpellings(appUrl: string): string[] {
  const u = new URL(appUrl);
  if (u.hostname !== "127.0.0.1") return [appUrl];
  const other = new URL(appUrl);
  other.hostname = "localhost";
  return [appUrl, other.toString()];
}

interface Loaded {
  url: string;
  failed: string[];
}

async function browserLoads(ctx: CheckContext, url: string): Promise<Loaded> {
  const b = await ctx.browser(url);
  const failed = Object.entries(b.sections)
    .filter(([, s]) => s !== "loaded")
    .map(([id, s]) => `${id}: ${s}`);
  return { url, failed };
}

/** Access-Control-Allow-Origin the API answers a GET from `origin` with (null: no answer). */
async function allowOriginFor(ctx: CheckContext, origin: string): Promise<{ status: number; acao: string | undefined; error?: string }> {
  const r = await ctx.http(`${ctx.plan.apiUrl ?? ctx.plan.appUrl}api/users`, { headers: { Origin: origin }, timeoutMs: 5000 });
  return { status: r.status, acao: r.headers["access-control-allow-origin"], error: r.error };
}

/**
 * The front end calls the API on its own origin (the backend's port), and the
 * backend allows a stale origin (staging's, copied by the move): a real
 * browser blocks every API call however the app is opened, while curl and
 * the API itself look fine.
 */
export function badCors(params: BadCorsParams = {}): Fault {
  const id = "bad-cors";
  const wrong = stringParam(id, "allowedOrigin", params.allowedOrigin, STALE_ORIGIN, /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/, "an origin like http://host:port");
  return {
    id,
    description: `The API is on its own origin and the backend's CORS_ORIGIN names a stale origin (${wrong}).`,
    spoilers: ["cors", "access-control", "allow-origin", "preflight", "staging"],
    bounds: ["Changes two settings of the level's own nodes (proxy API_BASE, backend CORS_ORIGIN); adds the move's notes and backups."],
    patch: (plan) => {
      const api = originToken("backend");
      const withEnv = setEnv(setEnv(plan, "proxy", { API_BASE: api }), "backend", { CORS_ORIGIN: wrong });
      return { ...withEnv, apiUrl: `${api}/` };
    },
    actions: () => [
      {
        id: `${id}-history`,
        node: "backend",
        description: "the move's traces: the settings from before it and the deploy notes",
        script: [
          "set -euo pipefail",
          "moved=$(( $(date +%s) - 2 * 86400 - 5400 ))   # two days ago, mid-afternoon-ish",
          "at() { date -d \"@$((moved + $1))\" '+%F %T'; }",
          "bak=/etc/drills/backend.env.bak-$(date -d \"@$moved\" +%Y%m%d)",
          "# Before the move the front end called /api/ on its own origin: no CORS_ORIGIN needed.",
          "sed \"s|^CORS_ORIGIN=.*|CORS_ORIGIN=''|\" /etc/drills/backend.env >\"$bak\"",
          "chmod 0644 \"$bak\"; touch -d \"@$((moved - 60))\" \"$bak\"",
          "{",
          "  echo \"$(at 0) deploy api-own-origin (OPS-1204) by j.doe: start\"",
          "  echo \"$(at 4)   proxy: API_BASE set: the front end calls the API on its own origin\"",
          `  echo "$(at 9)   backend: CORS_ORIGIN set to ${wrong} (value from the staging rollout, OPS-1187)"`,
          "  echo \"$(at 12)   backend: restarted, /api/health ok\"",
          "  echo \"$(at 15) deploy api-own-origin: done (smoke test: curl /api/users ok)\"",
          "} >>/var/log/drills/deploy.log",
          "chown app:app /var/log/drills/deploy.log; touch -d \"@$((moved + 15))\" /var/log/drills/deploy.log",
        ].join("\n"),
      },
    ],
    probe: async (ctx) => {
      const runs: Loaded[] = [];
      for (const url of appSpellings(ctx.plan.appUrl)) runs.push(await browserLoads(ctx, url));
      const broken = runs.filter((r) => r.failed.length > 0);
      // What curl sees: the API answers, and the backend logs no error for it.
      const api = await ctx.http(`${ctx.plan.apiUrl ?? ctx.plan.appUrl}api/users`, { timeoutMs: 5000 });
      const errors = await ctx.exec("backend", "grep -c ' ERROR ' /var/log/drills/backend.log || true");
      return {
        // The fault holds however the app is opened.
        present: broken.length === runs.length,
        summary: runs.map((r) => `${r.url}: ${r.failed.length ? r.failed.join(", ") : "every section loads"}`).join("; "),
        figures: {
          failedSections: Math.min(...runs.map((r) => r.failed.length)),
          spellings: runs.length,
          spellingsBroken: broken.length,
          apiStatus: api.status,
          backendErrors: Number(errors.stdout.trim()) || 0,
        },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const app = originOf(ctx.plan.appUrl);
      const b = await browserLoads(ctx, ctx.plan.appUrl);
      if (b.failed.length) reasons.push(`In a real browser at ${ctx.plan.appUrl} the page still fails to load data (${b.failed.join(", ")}).`);
      const own = await allowOriginFor(ctx, app);
      if (own.status !== 200) reasons.push(`The API did not answer a request from ${app} (${own.error ?? own.status}).`);
      else if (own.acao !== app) {
        reasons.push(
          own.acao === "*"
            ? `The API allows every origin (*); allow exactly the app's origin, ${app}.`
            : `The API answers ${app} with Access-Control-Allow-Origin: ${own.acao ?? "(none)"}; it must be exactly ${app}.`,
        );
      }
      // Shortcuts are not fixes: any site could then read the API in its visitors' browsers.
      const foreign = await allowOriginFor(ctx, FOREIGN_ORIGIN);
      if (foreign.acao === "*" || foreign.acao === FOREIGN_ORIGIN) {
        reasons.push(`The API also allows ${FOREIGN_ORIGIN} (Access-Control-Allow-Origin: ${foreign.acao}); allow only the app's origin.`);
      }
      return { ok: reasons.length === 0, reasons, figures: { failedSections: b.failed.length, allowOrigin: own.acao ?? "", foreignAllowOrigin: foreign.acao ?? "" } };
    },
    shortcuts: [
      {
        description: "Allow every origin (CORS_ORIGIN='*'): the page loads, and so could any site's script read the API.",
        actions: () => [setCorsOrigin(`${id}-shortcut-any`, "allow every origin", "*")],
        undo: () => [setCorsOrigin(`${id}-undo-any`, "put the stale origin back", wrong)],
      },
      {
        description: "Paste the app's address with its trailing slash (http://host:port/): browsers compare origins exactly, the page still fails.",
        actions: (plan) => [setCorsOrigin(`${id}-shortcut-slash`, "allow the app's URL", `${originOf(plan.appUrl)}/`)],
        undo: () => [setCorsOrigin(`${id}-undo-slash`, "put the stale origin back", wrong)],
      },
    ],
    solution: (plan) => [
      {
        id: `${id}-allow`,
        node: "backend",
        description: "allow the app's origin and restart the backend",
        script: [
          "set -euo pipefail",
          `sed -i "s|^CORS_ORIGIN=.*|CORS_ORIGIN='${originOf(plan.appUrl)}'|" /etc/drills/backend.env`,
          ...RESTART_BACKEND,
        ].join("\n"),
      },
    ],
    story: {
      artifacts: [
        "/etc/drills/backend.env.bak-<date>: the backend's settings from before the move (no CORS_ORIGIN), dated two days ago",
        "/var/log/drills/deploy.log: the move's deploy (API_BASE set, CORS_ORIGIN set from the staging rollout), dated two days ago",
      ],
      verify: async (ctx) => {
        const missing: string[] = [];
        const day = 86400;
        const bak = await ctx.exec(
          "backend",
          `f=$(ls -1 /etc/drills/backend.env.bak-* 2>/dev/null | tail -n1); [ -n "$f" ] || exit 1; ` +
            `grep -qx "CORS_ORIGIN=''" "$f" && [ $(( $(date +%s) - $(stat -c %Y "$f") )) -ge ${day} ]`,
        );
        if (bak.code !== 0) missing.push("/etc/drills/backend.env.bak-<date> from before the move");
        const note = await ctx.exec(
          "backend",
          `grep -q "CORS_ORIGIN set to ${wrong}" /var/log/drills/deploy.log && [ $(( $(date +%s) - $(stat -c %Y /var/log/drills/deploy.log) )) -ge ${day} ]`,
        );
        if (note.code !== 0) missing.push("the move's entry in /var/log/drills/deploy.log");
        return missing;
      },
    },
    symptomPaths: [],
  };
}
