import { DB_CREDENTIALS, INTERNAL_PORTS, datastorePort } from "../plan/app";
import { updateNode } from "../plan/patch";
import { ActionSpec, LevelPlan, NodeSpec, Role } from "../plan/types";
import { CheckContext, Fault, HttpResult } from "./types";

/**
 * Nodes freshly installed by the ops team: every role's software runs, but
 * the connections between them are empty. The proxy has no upstream, the
 * backend no datastore address or account, the front end no API address.
 * The player wires them; the check drives the app through the proxy.
 */

const ENV_FILE: Record<Role, string> = {
  proxy: "/etc/drills/proxy.env",
  backend: "/etc/drills/backend.env",
  datastore: "/etc/drills/datastore.env",
};

/** Bash helpers a player would type: set or drop NAME='value' in an env file. */
const ENV_HELPERS = [
  "setenv() { if grep -q \"^$2=\" \"$1\"; then sed -i \"s|^$2=.*|$2='$3'|\" \"$1\"; else echo \"$2='$3'\" >>\"$1\"; fi; }",
  "dropenv() { sed -i \"/^$2=/d\" \"$1\"; }",
];

const RESTART_NGINX = [
  "supervisorctl restart nginx >/dev/null",
  "for _ in $(seq 1 100); do curl -fsS -m 2 http://127.0.0.1/healthz >/dev/null 2>&1 && exit 0; sleep 0.1; done",
  'echo "nginx did not answer after restart" >&2; exit 1',
];

/** Restart the backend and wait until it answers at all (wired: 200; not: 503). */
const restartBackend = (wired: boolean): string[] => [
  "supervisorctl restart backend >/dev/null",
  `for _ in $(seq 1 150); do curl -sS -m 2 -o /dev/null ${wired ? "-f " : ""}http://127.0.0.1:${INTERNAL_PORTS.backend}/api/health 2>/dev/null && exit 0; sleep 0.2; done`,
  'echo "backend did not answer after restart" >&2; exit 1',
];

const script = (...lines: string[]): string => ["set -euo pipefail", ...ENV_HELPERS, ...lines].join("\n");

/**
 * The backend's readiness while unwired: the API process answers /api/health
 * at all (503 without a database). The role's own healthcheck wants 200,
 * which only a wired backend gives.
 */
function answersAtAll(n: NodeSpec): NodeSpec {
  return {
    ...n,
    healthcheck: {
      ...n.healthcheck,
      command: ["CMD", "curl", "-sS", "-o", "/dev/null", "-m", "5", `http://127.0.0.1:${INTERNAL_PORTS.backend}/api/health`],
    },
  };
}

/** A query with `?` placeholders, as the engine's client wants it (PostgreSQL: $1, $2...). */
function query(ctx: CheckContext, sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  let i = 0;
  return ctx.sql(ctx.plan.engine === "postgres" ? sql.replace(/\?/g, () => `$${++i}`) : sql, params);
}

const rand = (): string => Math.random().toString(36).slice(2, 10);
/** Status and what the body says: an HTML error page by its title, else its first line. */
function brief(r: HttpResult): string {
  if (r.error) return r.error;
  const title = /<title>([^<]*)<\/title>/i.exec(r.text);
  const said = title ? title[1] : r.text.trim().split("\n")[0].slice(0, 120);
  return said.startsWith(String(r.status)) ? said : `${r.status} ${said}`.trim();
}

/** The backend's published origin, as a player reads it from the brief (Docker: 127.0.0.1). */
function backendOrigin(plan: LevelPlan): string {
  const u = new URL(plan.appUrl);
  const port = plan.nodes.find((n) => n.role === "backend")!.ports[0].host;
  return `${u.protocol}//${u.hostname}:${port}`;
}

/** apiBase as the served config.js sets it; undefined when it sets none. */
function apiBaseOf(configJs: string): string | undefined {
  const m = /"apiBase"\s*:\s*"([^"]*)"/.exec(configJs);
  return m ? m[1] : undefined;
}

/** What users do on the page, through the proxy; a reason per thing that does not work. */
async function userJourney(ctx: CheckContext): Promise<{ reasons: string[]; figures: Record<string, number | string> }> {
  const app = ctx.plan.appUrl;
  const reasons: string[] = [];
  const figures: Record<string, number | string> = {};

  // Users: create one with a fresh name through the app; it must land in the datastore.
  const tag = rand();
  const email = `trainee-${tag}@example.org`;
  const created = await ctx.http(`${app}api/users`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: `Trainee ${tag}`, email }),
  });
  figures.createUserStatus = created.status;
  if (created.status !== 201) reasons.push(`Creating a user through the app (POST /api/users) answered ${brief(created)}.`);
  else {
    const rows = await query(ctx, "SELECT id FROM users WHERE email = ?", [email]).catch(() => []);
    if (rows.length !== 1) reasons.push(`A user created through the app (${email}) is not in the datastore's users table.`);
    const list = await ctx.http(`${app}api/users`);
    if (list.status !== 200) reasons.push(`Listing users through the app answered ${brief(list)}.`);
    else if (!list.text.includes(email)) reasons.push(`The user list through the app does not show the user just created (${email}).`);
    await query(ctx, "DELETE FROM users WHERE email = ?", [email]).catch(() => undefined);
  }

  // Invoices: a customer picked at random from the datastore; the search must count what the datastore holds.
  const [{ m }] = await query(ctx, "SELECT MAX(id) AS m FROM invoices");
  const [pick] = await query(ctx, "SELECT customer FROM invoices WHERE id >= ? ORDER BY id LIMIT 1", [1 + Math.floor(Math.random() * Number(m))]);
  const customer = String(pick.customer);
  const [{ n }] = await query(ctx, "SELECT COUNT(*) AS n FROM invoices WHERE customer = ?", [customer]);
  const search = await ctx.http(`${app}api/invoices?customer=${customer}&page=1&pageSize=20&sort=issued_at&order=desc`);
  figures.searchStatus = search.status;
  figures.searchCustomer = customer;
  if (search.status !== 200) reasons.push(`Searching invoices of ${customer} through the app answered ${brief(search)}.`);
  else {
    let body: { total?: unknown; items?: Array<{ customer?: unknown }> } = {};
    try {
      body = JSON.parse(search.text) as typeof body;
    } catch {
      body = {};
    }
    const items = body.items ?? [];
    if (Number(body.total) !== Number(n) || items.some((i) => i.customer !== customer) || items.length !== Math.min(20, Number(n))) {
      reasons.push(`Searching invoices of ${customer} through the app returned ${String(body.total)} invoice(s) (${items.length} listed); the datastore has ${n}.`);
    }
  }

  // Uploads: a fresh file through the app must end up, byte for byte, in the backend's upload directory.
  const name = `trainee-${rand()}.txt`;
  const content = `uploaded through the proxy ${rand()} ${new Date().toISOString()}\n`;
  const up = await ctx.http(`${app}api/uploads?name=${name}`, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: content });
  figures.uploadStatus = up.status;
  if (up.status !== 201) reasons.push(`Uploading a file through the app (POST /api/uploads) answered ${brief(up)}.`);
  else {
    const stored = await ctx.exec("backend", `set -a; . ${ENV_FILE.backend}; set +a; cat "$UPLOAD_DIR/${name}"`);
    if (stored.code !== 0 || stored.stdout !== content) reasons.push(`A file uploaded through the app (${name}) is not in the backend's upload directory with its content.`);
    const listed = await ctx.http(`${app}api/uploads`);
    if (!listed.text.includes(name)) reasons.push(`The uploads list through the app does not show the file just uploaded (${name}).`);
    await ctx.exec("backend", `set -a; . ${ENV_FILE.backend}; set +a; rm -f "$UPLOAD_DIR/${name}"`);
  }

  // The answers come from the backend: a request marked through the proxy must appear in the backend's log.
  const mark = `trace-${rand()}`;
  const traced = await ctx.http(`${app}api/health?${mark}`);
  figures.healthStatus = traced.status;
  const seen = await ctx.exec("backend", `set -a; . ${ENV_FILE.backend}; set +a; grep -c -- '${mark}' "$LOG_FILE" || true`);
  if ((Number(seen.stdout.trim()) || 0) === 0) reasons.push("A request to /api/ through the proxy never reached the backend (not in its log): the proxy must pass /api/ to the backend.");
  return { reasons, figures };
}

export function freshInstall(): Fault {
  const id = "fresh-install";
  return {
    id,
    description:
      "Nodes as the ops team installed them: the proxy has no upstream (BACKEND_HOST empty), the backend no datastore address or account " +
      "(DB_HOST, DB_USER, DB_PASSWORD empty), the front end no API address (API_BASE absent). The player wires all three.",
    spoilers: [id, "BACKEND_HOST='backend'", "DB_HOST='datastore'", `DB_PASSWORD='${DB_CREDENTIALS.password}'`],
    bounds: [
      "Empties four connection settings of the level's own nodes and drops one (proxy BACKEND_HOST, API_BASE; backend DB_HOST, DB_USER, DB_PASSWORD).",
      "The backend's readiness check accepts any answer from its API (503 without a database) instead of 200.",
      "Leaves the ops team's handover note in /root on every node; the check adds and removes one user and one upload file.",
    ],
    patch: (plan) => {
      const proxy = updateNode(plan, "proxy", (n) => {
        const env: Record<string, string> = Object.fromEntries(Object.entries(n.env).filter(([k]) => k !== "API_BASE"));
        return { ...n, env: { ...env, BACKEND_HOST: "" } };
      });
      return updateNode(proxy, "backend", (n) => answersAtAll({ ...n, env: { ...n.env, DB_HOST: "", DB_USER: "", DB_PASSWORD: "" } }));
    },
    actions: (plan) => {
      const engine = plan.engine === "postgres" ? "PostgreSQL 15" : "MariaDB 10.11";
      const note = [
        "Handover: the drills app, three boxes                     (ops team)",
        "",
        "Installed, NOT wired. Every box has its software installed and running",
        "under supervisor (`supervisorctl status`); the connections between the",
        "boxes are left empty for the app team:",
        "",
        `  proxy      nginx and the front end.  Settings: ${ENV_FILE.proxy}`,
        "             (rendered into the nginx site and the front end's config.js",
        "             at every `supervisorctl restart nginx`).",
        `  backend    the Node API, port ${INTERNAL_PORTS.backend}.  Settings: ${ENV_FILE.backend}`,
        "             (`supervisorctl restart backend`; log in /var/log/drills/).",
        `  datastore  ${engine}, seeded.  What it serves (port, database,`,
        `             account): ${ENV_FILE.datastore}`,
        "",
        "The boxes reach each other by host name (proxy, backend, datastore).",
        "Done means: the page loads users, searches invoices and takes a file",
        "upload, through the proxy. No staging settings were copied on purpose.",
      ].join("\n");
      return (["datastore", "backend", "proxy"] as Role[]).map((node) => ({
        id: `${id}-note-${node}`,
        node,
        description: "the ops team's handover note",
        script: [
          "set -euo pipefail",
          "left=$(date -d 'yesterday 17:42' +%s)",
          "cat >/root/HANDOVER.txt <<'NOTE'",
          note,
          "NOTE",
          "sed -i \"1s|(ops team)|(ops team, $(date -d \"@$left\" +%F))|\" /root/HANDOVER.txt",
          "chmod 0644 /root/HANDOVER.txt; touch -d \"@$left\" /root/HANDOVER.txt",
        ].join("\n"),
      }));
    },
    probe: async (ctx) => {
      const app = ctx.plan.appUrl;
      const b = await ctx.browser(app);
      const failed = Object.entries(b.sections).filter(([, s]) => s !== "loaded");
      const page = await ctx.http(app);
      const api = await ctx.http(`${app}api/health`);
      const own = await ctx.exec("backend", `curl -sS -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:${INTERNAL_PORTS.backend}/api/health || true`);
      return {
        present: failed.length > 0 && api.status !== 200,
        summary: `page ${page.status}; sections failing: ${failed.map(([k, s]) => `${k} ${s}`).join(", ") || "none"}; /api/health through the proxy ${brief(api)}; on the backend ${own.stdout.trim()}`,
        figures: {
          pageStatus: page.status,
          sections: Object.keys(b.sections).length,
          failedSections: failed.length,
          apiStatus: api.status,
          backendHealthStatus: Number(own.stdout.trim()) || 0,
        },
      };
    },
    check: async (ctx) => {
      const app = ctx.plan.appUrl;
      const origin = new URL(app).origin;
      const reasons: string[] = [];

      const b = await ctx.browser(app);
      const failed = Object.entries(b.sections).filter(([, s]) => s !== "loaded").map(([k, s]) => `${k}: ${s}`);
      if (failed.length) reasons.push(`In a browser at ${app} sections of the page do not load (${failed.join(", ")}).`);

      // The front end calls the API through the proxy: its own origin (empty apiBase, or the same origin spelled out).
      const cfg = await ctx.http(`${app}config.js`);
      const apiBase = apiBaseOf(cfg.text);
      if (apiBase === undefined) reasons.push("The front end's config.js sets no API address (apiBase).");
      else if (apiBase !== "") {
        let where = "";
        try {
          where = new URL(apiBase, app).origin; // a path ("/") stays on the page's origin
        } catch {
          where = apiBase;
        }
        if (where !== origin) reasons.push(`The front end calls the API at ${apiBase}, not through the proxy at ${origin}.`);
      }

      // A named mistake: the proxy's upstream is the datastore (it speaks SQL, not HTTP).
      const up = await ctx.exec(
        "proxy",
        `set -a; . ${ENV_FILE.proxy}; set +a; echo "host=\${BACKEND_HOST:-}"; echo "port=\${BACKEND_PORT:-}"; echo "ds=$(getent hosts datastore | awk '{print $1}')"`,
      );
      const val = (k: string): string => new RegExp(`^${k}=(.*)$`, "m").exec(up.stdout)?.[1].trim() ?? "";
      const [host, port, dsIp] = [val("host"), val("port"), val("ds")];
      if (host && (host === "datastore" || host === dsIp || port === String(datastorePort(ctx.plan.engine)))) {
        reasons.push(`The proxy sends /api/ to ${host}:${port}, the datastore, which speaks SQL, not HTTP; /api/ belongs to the backend's API.`);
      }
      const journey = await userJourney(ctx);
      reasons.push(...journey.reasons);

      return { ok: reasons.length === 0, reasons, figures: { failedSections: failed.length, apiBase: apiBase ?? "(none)", ...journey.figures } };
    },
    shortcuts: [
      {
        description: "point the proxy's upstream straight at the datastore (and give the front end its address)",
        actions: (plan) => [
          {
            id: `${id}-shortcut-datastore`,
            node: "proxy",
            description: "proxy upstream = datastore",
            script: script(
              `setenv ${ENV_FILE.proxy} BACKEND_HOST datastore`,
              `setenv ${ENV_FILE.proxy} BACKEND_PORT ${datastorePort(plan.engine)}`,
              `setenv ${ENV_FILE.proxy} API_BASE ''`,
              ...RESTART_NGINX,
            ),
          },
        ],
        undo: () => [unwireProxy(`${id}-undo-datastore`)],
      },
      {
        description: "hard-code the API on the proxy: nginx `return 200 '{...}'` for /api/health and static JSON files for the rest of /api/",
        actions: () => [
          {
            id: `${id}-shortcut-static`,
            node: "proxy",
            description: "static answers for /api/",
            script: script(
              `setenv ${ENV_FILE.proxy} API_BASE ''`,
              "supervisorctl restart nginx >/dev/null",
              "d=/usr/share/drills/frontend/api; mkdir -p $d",
              `echo '{"items":[{"id":1,"name":"Ada","email":"ada@example.org","created_at":"2024-01-01T00:00:00Z"}]}' >$d/users`,
              `echo '{"items":[],"page":1,"pageSize":20,"total":0,"totalIsEstimate":false}' >$d/invoices`,
              `echo '{"items":[]}' >$d/uploads`,
              "cat >/etc/nginx/sites-available/drills <<'SITE'",
              "server {",
              "    listen 80 default_server;",
              "    root /usr/share/drills/frontend;",
              "    index index.html;",
              '    location = /healthz { default_type text/plain; return 200 "ok\\n"; }',
              `    location = /api/health { default_type application/json; return 200 '{"status":"ok","db":"ok","engine":"postgres"}'; }`,
              "    location /api/ { default_type application/json; try_files $uri =404; }",
              "}",
              "SITE",
              "nginx -t -q && nginx -s reload && sleep 0.5",
            ),
          },
        ],
        undo: () => [unwireProxy(`${id}-undo-static`, "rm -rf /usr/share/drills/frontend/api")],
      },
      {
        description: "skip the proxy: wire the backend, let it allow every origin (CORS *) and point the front end at the backend's own port",
        actions: (plan) => [
          {
            id: `${id}-shortcut-direct-backend`,
            node: "backend",
            description: "backend wired, CORS *",
            script: script(
              `setenv ${ENV_FILE.backend} DB_HOST datastore`,
              `setenv ${ENV_FILE.backend} DB_USER ${DB_CREDENTIALS.user}`,
              `setenv ${ENV_FILE.backend} DB_PASSWORD ${DB_CREDENTIALS.password}`,
              `setenv ${ENV_FILE.backend} CORS_ORIGIN '*'`,
              ...restartBackend(true),
            ),
          },
          {
            id: `${id}-shortcut-direct-front`,
            node: "proxy",
            description: "front end calls the backend's port",
            script: script(`setenv ${ENV_FILE.proxy} API_BASE ${backendOrigin(plan)}`, ...RESTART_NGINX),
          },
        ],
        undo: () => [
          {
            id: `${id}-undo-direct-backend`,
            node: "backend",
            description: "backend as installed",
            script: script(
              ...["DB_HOST", "DB_USER", "DB_PASSWORD", "CORS_ORIGIN"].map((k) => `setenv ${ENV_FILE.backend} ${k} ''`),
              ...restartBackend(false),
            ),
          },
          unwireProxy(`${id}-undo-direct-front`),
        ],
      },
    ],
    solution: () => [
      {
        id: `${id}-backend`,
        node: "backend",
        description: "the backend's datastore: host and account (from the datastore's settings)",
        script: script(
          `setenv ${ENV_FILE.backend} DB_HOST datastore`,
          `setenv ${ENV_FILE.backend} DB_USER ${DB_CREDENTIALS.user}`,
          `setenv ${ENV_FILE.backend} DB_PASSWORD ${DB_CREDENTIALS.password}`,
          ...restartBackend(true),
        ),
      },
      {
        id: `${id}-proxy`,
        node: "proxy",
        description: "the proxy's upstream (the backend's API) and the front end's API address (the proxy's own /api/)",
        script: script(
          `setenv ${ENV_FILE.proxy} BACKEND_HOST backend`,
          `setenv ${ENV_FILE.proxy} BACKEND_PORT ${INTERNAL_PORTS.backend}`,
          `setenv ${ENV_FILE.proxy} API_BASE ''`,
          ...RESTART_NGINX,
        ),
      },
    ],
    story: {
      artifacts: ["/root/HANDOVER.txt on every node: the ops team's handover note (installed, not wired), dated yesterday"],
      verify: async (ctx) => {
        const missing: string[] = [];
        for (const node of ["proxy", "backend", "datastore"] as Role[]) {
          const r = await ctx.exec(node, "grep -q 'NOT wired' /root/HANDOVER.txt && [ $(( $(date +%s) - $(stat -c %Y /root/HANDOVER.txt) )) -ge 3600 ]");
          if (r.code !== 0) missing.push(`the handover note on the ${node} node`);
        }
        return missing;
      },
    },
    symptomPaths: ["api/"],
  };
}

/** The proxy as installed: no upstream, no API address for the front end. */
function unwireProxy(actionId: string, ...extra: string[]): ActionSpec {
  return {
    id: actionId,
    node: "proxy",
    description: "proxy as installed",
    script: script(
      ...extra,
      `setenv ${ENV_FILE.proxy} BACKEND_HOST ''`,
      `setenv ${ENV_FILE.proxy} BACKEND_PORT ${INTERNAL_PORTS.backend}`,
      `dropenv ${ENV_FILE.proxy} API_BASE`,
      ...RESTART_NGINX,
    ),
  };
}
