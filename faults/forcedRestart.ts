import * as crypto from "crypto";
import { intParam } from "./params";
import { missingArtifacts } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";

export interface ForcedRestartParams {
  /** Days before the restart that the program was set not to start with the node. */
  daysAgo?: number;
  /** How long the check waits for the app to come back after it restarts the node. */
  comeBackSeconds?: number;
}

const CONF = "/etc/supervisor/conf.d/backend.conf";
const CHANGES = "/var/log/drills/changes.log";
const SUPERVISOR_LOG = "/var/log/supervisor/supervisord.log";
const BACKEND_LOG = "/var/log/drills/backend.log";
/** A port only the restart's handshake uses (proxy -> backend), for the few seconds of the restart. */
const HANDSHAKE_PORT = 3999;

/**
 * Bash arithmetic: when the node's PID 1 started, in epoch seconds (boot time
 * + its start in clock ticks). Not \`ps -o etimes\`: with lxcfs, ps mixes the
 * node's uptime with the machine's ticks.
 */
const PID1_STARTED = "$(awk '/^btime/{print $2}' /proc/stat) + $(awk '{print $22}' /proc/1/stat) / $(getconf CLK_TCK)";

/** The app through the proxy: health status, or the error. */
async function health(ctx: CheckContext): Promise<{ status: number; error: string }> {
  const r = await ctx.http(`${ctx.plan.appUrl}api/health`, { timeoutMs: 5000 });
  const title = /<title>([^<]*)<\/title>/.exec(r.text)?.[1];
  return { status: r.status, error: r.error ?? (r.status === 200 ? "" : `HTTP ${r.status}${title ? ` (${title})` : ""}`) };
}

/** The backend node's own view: seconds up, and supervisor's word on the program. */
async function nodeState(ctx: CheckContext): Promise<{ uptimeSeconds: number; program: string }> {
  const r = await ctx.exec("backend", "cut -d' ' -f1 /proc/uptime; supervisorctl status backend 2>&1 | head -1 || true");
  const [up, program] = r.stdout.split("\n");
  return { uptimeSeconds: Math.round(Number(up)), program: (program ?? "").replace(/\s+/g, " ").trim() };
}

/**
 * The backend's program was set not to start with the node during a
 * datastore move days ago, started by hand after it, and never set back.
 * Nothing showed until the node restarted: it came back without the app.
 */
export function forcedRestart(params: ForcedRestartParams = {}): Fault {
  const id = "forced-restart";
  const daysAgo = intParam(id, "daysAgo", params.daysAgo, 9, 1, 60);
  const comeBack = intParam(id, "comeBackSeconds", params.comeBackSeconds, 60, 10, 300);

  const artifacts: Record<string, string> = {
    conf: `backend: ${CONF}: [program:backend] with autostart=false, changed ${daysAgo} days ago (mtime)`,
    changes: `backend: ${CHANGES}: the move's notes ${daysAgo} days ago: program stopped, set not to start with the node, started by hand after the move`,
    restart: "backend: the node restarted minutes ago (uptime, the container's start time) while the proxy and the datastore have run longer",
    supervisor: `backend: ${SUPERVISOR_LOG}: supervisord's shutdown at the restart, then its start with cron spawned and no backend`,
    app: `backend: ${BACKEND_LOG}: "SIGTERM received, shutting down" and nothing after`,
  };

  return {
    id,
    description: `The backend's supervisor program was set not to start with the node ${daysAgo} days ago; the node restarted and the app stayed down.`,
    spoilers: ["autostart", "reboot", "restart"],
    bounds: [
      "Restarts only the level's backend node: once at setup (from inside the node, as a host restart does) and once per check (the container, on Docker).",
      `Changes one line of ${CONF}; the datastore and the proxy are not touched.`,
    ],
    actions: () => [
      {
        id: `${id}-history`,
        node: "backend",
        description: "the move's change to the backend's program, days ago, and the node's restart now",
        script: [
          "set -euo pipefail",
          `then=$(( $(date +%s) - ${daysAgo} * 86400 ))`,
          'at() { date -u -d "@$(( then + $1 ))" "+%F %T"; }',
          `sed -i 's/^autostart=true$/autostart=false/' ${CONF}`,
          `grep -qx 'autostart=false' ${CONF}`,
          `touch -d "@$(( then + 40 ))" ${CONF}`,
          `install -d -m 0755 ${CHANGES.replace(/\/[^/]*$/, "")}`,
          `cat >>${CHANGES} <<EOF`,
          "$(at 0) ops(mkovacs): OPS-1873 datastore move starting; stopping the backend so it does not write during the copy",
          "$(at 2) ops(mkovacs): supervisorctl stop backend",
          `$(at 40) ops(mkovacs): ${CONF}: autostart=true -> autostart=false (the node may be restarted during the move; keep the API down until the copy is verified)`,
          "$(at 2710) ops(mkovacs): copy verified, datastore back in service",
          "$(at 2760) ops(mkovacs): supervisorctl start backend; /api/health 200. OPS-1873 done",
          "EOF",
          `chmod 0644 ${CHANGES}; touch -d "@$(( then + 2760 ))" ${CHANGES}`,
          // The restart: a listener the proxy's next step connects to; the
          // connection tells it when this node is gone. As a host restart does:
          // PID 1 ends (supervisord stops its programs), the engine starts it again.
          `setsid /usr/bin/node -e "require('net').createServer(() => { require('fs').existsSync('/run/systemd/system') ? require('child_process').spawn('systemctl', ['reboot']) : process.kill(1, 'SIGTERM'); }).listen(${HANDSHAKE_PORT}); setTimeout(() => process.exit(0), 120000);" </dev/null >/dev/null 2>&1 &`,
          "# Listening (IPv4 or IPv6) before the proxy's step connects.",
          `for _ in $(seq 1 100); do grep -qE ':${HANDSHAKE_PORT.toString(16).toUpperCase().padStart(4, "0")} [0:]+ 0A' /proc/net/tcp /proc/net/tcp6 && exit 0; sleep 0.05; done`,
          'echo "the restart could not be prepared" >&2; exit 1',
        ].join("\n"),
      },
      {
        id: `${id}-wait`,
        node: "proxy",
        description: "restart the backend node and wait until it runs again",
        script: [
          "set -uo pipefail",
          `exec 3<>/dev/tcp/backend/${HANDSHAKE_PORT} || { echo "the backend node's restart could not be triggered" >&2; exit 1; }`,
          "# The connection ends when the old node is gone.",
          'timeout 60 cat <&3 >/dev/null; exec 3<&-',
          "# The engine starts it again after its restart delay.",
          "sleep 5",
          "# Back: the node's network answers again (the app itself is not listening).",
          "for _ in $(seq 1 120); do",
          "  err=$(timeout 2 bash -c 'exec 3<>/dev/tcp/backend/3000' 2>&1 && echo open)",
          '  case "$err" in *"Connection refused"*) sleep 2; exit 0 ;; esac',
          "  sleep 0.5",
          "done",
          'echo "the backend node did not come back within 60 s: $err" >&2; exit 1',
        ].join("\n"),
      },
    ],
    probe: async (ctx): Promise<ProbeResult> => {
      const h = await health(ctx);
      const page = await ctx.http(ctx.plan.appUrl, { timeoutMs: 5000 });
      const node = await nodeState(ctx);
      return {
        present: h.status !== 200,
        summary: `API through the proxy: ${h.status || h.error}; front page ${page.status}; backend node up ${node.uptimeSeconds} s, program: ${node.program}`,
        figures: { healthStatus: h.status, pageStatus: page.status, backendUptimeSeconds: node.uptimeSeconds, program: node.program },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      // What the host does without asking: restart the node, then see whether the app comes back by itself.
      await ctx.restart("backend");
      const restarted = Date.now();
      let h = await health(ctx);
      while (h.status !== 200 && Date.now() - restarted < comeBack * 1000) {
        await new Promise((r) => setTimeout(r, 1000));
        h = await health(ctx);
      }
      const backSeconds = Math.round((Date.now() - restarted) / 1000);
      const node = await nodeState(ctx);
      let created = 0;
      if (h.status !== 200) {
        reasons.push(
          `After the backend node restarted, the API did not come back on its own within ${comeBack} s ` +
            `(through the proxy: ${h.error}; on the node: ${node.program || "no program status"}).`,
        );
      } else {
        // It came back as a working app: a new user, with a name nobody chose, is stored and listed.
        const name = `check-${crypto.randomBytes(4).toString("hex")}`;
        const r = await ctx.http(`${ctx.plan.appUrl}api/users`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name, email: `${name}@example.com` }),
        });
        const list = await ctx.http(`${ctx.plan.appUrl}api/users`);
        created = r.status;
        if (r.status !== 201 || !list.text.includes(name)) {
          reasons.push(`After the restart the API answers its health check, but creating and listing a user fails (POST ${r.status}, GET ${list.status}).`);
        }
        if (r.status === 201) {
          const uid = (JSON.parse(r.text) as { id: number }).id;
          await ctx.sql(ctx.plan.engine === "postgres" ? "DELETE FROM users WHERE id = $1" : "DELETE FROM users WHERE id = ?", [uid]);
        }
      }
      return {
        ok: reasons.length === 0,
        reasons,
        figures: { afterRestartStatus: h.status, comeBackSeconds: backSeconds, backendUptimeSeconds: node.uptimeSeconds, createdStatus: created },
      };
    },
    shortcuts: [
      {
        description: "start the program by hand (supervisorctl start backend) and leave the node's settings as they are",
        actions: () => [
          {
            id: `${id}-shortcut-start`,
            node: "backend",
            description: "supervisorctl start backend",
            script: "set -e\nsupervisorctl start backend\nfor _ in $(seq 1 100); do curl -fsS -m 2 http://127.0.0.1:3000/api/health >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1",
          },
        ],
      },
      {
        description: "run the app by hand in the background, outside supervisor (nohup node server.js &)",
        actions: () => [
          {
            id: `${id}-shortcut-nohup`,
            node: "backend",
            description: "nohup node server.js &",
            script: [
              "set -e",
              "cd /opt/drills/backend",
              "( set -a; . /etc/drills/backend.env; set +a; exec setsid nohup /usr/bin/node server.js ) </dev/null >>/tmp/backend.out 2>&1 &",
              "for _ in $(seq 1 100); do curl -fsS -m 2 http://127.0.0.1:3000/api/health >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1",
            ].join("\n"),
          },
        ],
        undo: () => [
          { id: `${id}-shortcut-nohup-undo`, node: "backend", description: "stop the hand-started app", script: "pkill -f '^/usr/bin/node server.js$' || true; rm -f /tmp/backend.out" },
        ],
      },
    ],
    solution: () => [
      {
        id: `${id}-fix`,
        node: "backend",
        description: "let the program start with the node again, and start it now",
        script: [
          "set -euo pipefail",
          `sed -i 's/^autostart=false$/autostart=true/' ${CONF}`,
          "supervisorctl reread >/dev/null",
          "supervisorctl update >/dev/null",
          "supervisorctl start backend >/dev/null 2>&1 || true",
          "for _ in $(seq 1 150); do curl -fsS -m 2 http://127.0.0.1:3000/api/health >/dev/null 2>&1 && exit 0; sleep 0.2; done",
          'echo "the backend did not answer after the fix" >&2; exit 1',
        ].join("\n"),
      },
    ],
    story: {
      artifacts: Object.values(artifacts),
      verify: async (ctx) => {
        const missing = await missingArtifacts(ctx, "backend", [
          "set -uo pipefail",
          `then=$(( $(date +%s) - ${daysAgo} * 86400 ))`,
          `m=$(stat -c %Y ${CONF}); grep -qx 'autostart=false' ${CONF} && [ $(( m - then )) -ge 0 ] && [ $(( m - then )) -le 600 ] || echo MISSING conf`,
          `grep -q 'autostart=true -> autostart=false' ${CHANGES} && grep -q 'supervisorctl start backend' ${CHANGES} || echo MISSING changes`,
          `[ $(( $(date +%s) - (${PID1_STARTED}) )) -lt 3600 ] || echo MISSING restart`,
          `grep -q 'received SIGTERM' ${SUPERVISOR_LOG} && tac ${SUPERVISOR_LOG} | sed '/received SIGTERM/q' | grep -q "spawned: 'cron'" && ! tac ${SUPERVISOR_LOG} | sed '/received SIGTERM/q' | grep -q "spawned: 'backend'" || echo MISSING supervisor`,
          `tail -n 3 ${BACKEND_LOG} | grep -q 'SIGTERM received, shutting down' || echo MISSING app`,
        ].join("\n"), artifacts);
        // The other nodes ran on: only the backend restarted.
        const started = `echo $(( ${PID1_STARTED} ))`;
        const proxyStart = Number((await ctx.exec("proxy", started)).stdout.trim());
        const backendStart = Number((await ctx.exec("backend", started)).stdout.trim());
        if (!(backendStart > proxyStart)) missing.push(`${artifacts.restart} (PID 1 started at ${backendStart} on the backend, ${proxyStart} on the proxy, epoch seconds)`);
        return missing;
      },
    },
    symptomPaths: ["api/"],
  };
}
