import { originToken, portToken } from "../plan/endpoints";
import { setEnv } from "../plan/patch";
import { stringParam } from "./params";
import { RESTART_BACKEND } from "./scripts";
import { CheckContext, Fault } from "./types";

export interface BadCorsParams {
  /**
   * The origin the backend wrongly allows. Default: the app's own origin
   * spelled with localhost instead of 127.0.0.1, the classic mix-up.
   */
  allowedOrigin?: string;
}

/** scheme://host:port of a URL. */
export const originOf = (url: string): string => new URL(url).origin;


async function browserLoads(ctx: CheckContext): Promise<{ failed: string[]; sections: Record<string, string>; messages: string[] }> {
  const b = await ctx.browser();
  const failed = Object.entries(b.sections)
    .filter(([, s]) => s !== "loaded")
    .map(([id, s]) => `${id}: ${s}`);
  return { failed, sections: b.sections, messages: b.messages };
}

/**
 * The front end calls the API on its own origin (the backend's port), and the
 * backend allows the wrong origin: a real browser blocks every API call,
 * while curl and the API itself look fine.
 */
export function badCors(params: BadCorsParams = {}): Fault {
  const id = "bad-cors";
  const wrong =
    params.allowedOrigin === undefined
      ? // The app's own origin spelled with localhost: the classic mix-up.
        `http://localhost:${portToken("proxy")}`
      : stringParam(id, "allowedOrigin", params.allowedOrigin, "", /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/, "an origin like http://host:port");
  return {
    id,
    description: "The API is on its own origin and the backend's CORS_ORIGIN names the wrong one.",
    spoilers: ["cors", "access-control", "allow-origin", "preflight"],
    bounds: ["Changes two settings of the level's own nodes (proxy API_BASE, backend CORS_ORIGIN)."],
    patch: (plan) => {
      const api = originToken("backend");
      const withEnv = setEnv(setEnv(plan, "proxy", { API_BASE: api }), "backend", { CORS_ORIGIN: wrong });
      return { ...withEnv, apiUrl: `${api}/` };
    },
    probe: async (ctx) => {
      const b = await browserLoads(ctx);
      return {
        present: b.failed.length > 0,
        summary: b.failed.length ? `in the browser: ${b.failed.join(", ")}` : "every section loads in the browser",
        figures: { failedSections: b.failed.length },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const app = originOf(ctx.plan.appUrl);
      const b = await browserLoads(ctx);
      if (b.failed.length) reasons.push(`In a real browser the page still fails to load data (${b.failed.join(", ")}).`);
      const r = await ctx.http(`${ctx.plan.apiUrl ?? ctx.plan.appUrl}api/users`, { headers: { Origin: app }, timeoutMs: 5000 });
      const acao = r.headers["access-control-allow-origin"];
      if (r.status !== 200) reasons.push(`The API did not answer a request from ${app} (${r.error ?? r.status}).`);
      else if (acao !== app && acao !== "*") reasons.push(`The API answers ${app} with Access-Control-Allow-Origin: ${acao ?? "(none)"}.`);
      return { ok: reasons.length === 0, reasons, figures: { failedSections: b.failed.length, allowOrigin: acao ?? "" } };
    },
    solution: (plan) => [
      {
        id: `${id}-allow`,
        node: "backend",
        description: "allow the app's origin and restart the backend",
        script: [
          "set -euo pipefail",
          `sed -i "s|^CORS_ORIGIN=.*|CORS_ORIGIN='${plan.appUrl.replace(/\/$/, "")}'|" /etc/drills/backend.env`,
          ...RESTART_BACKEND,
        ].join("\n"),
      },
    ],
  };
}
