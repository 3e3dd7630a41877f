import { nodeOf } from "../plan/names";
import { LevelPlan } from "../plan/types";
import { intParam } from "./params";
import { HostFigures, hostFigures, Latency, mergeLatency, nodeMemory, sampleLatency } from "./nodeUsage";
import { RESTART_BACKEND } from "./scripts";
import { scriptedStory } from "./story";
import { CheckContext, Fault, ProbeResult } from "./types";

export interface MemoryExhaustionParams {
  /** Render workers in the pool (each grows until it is replaced). */
  workers?: number;
  /** Renders after which a worker is replaced (its peak size follows). */
  maxTasks?: number;
  /** Seconds the check watches the node after starting what the next boot would start. */
  windowSeconds?: number;
  /** The invoice list must answer under this (p50, through the proxy) to count as fixed. */
  fastMs?: number;
}

/**
 * The story: finance's statement pages were slow, so yesterday at 15:10 a
 * pre-renderer went out on the backend node as a supervisor program. It
 * keeps every page it renders in a dict keyed by (customer, render time): no
 * key is ever asked for twice and nothing is ever dropped, so each pool
 * worker grows until the pool replaces it. Four of them together fill the
 * node; the kernel's OOM killer then kills the largest process in the
 * node, which is the API (each worker stays smaller than it), supervisor
 * restarts the API, and users get 502s and slow pages.
 */
export const RENDER = {
  program: "statement-render",
  dir: "/opt/drills/statements",
  script: "/opt/drills/statements/statement-render.py",
  conf: "/etc/supervisor/conf.d/statement-render.conf",
  log: "/var/log/drills/statement-render.log",
  supervisorLog: "/var/log/supervisor/supervisord.log",
} as const;

const workerScript = `#!/usr/bin/python3
"""statement-render: pre-renders the customers' statement pages (HTML) so the
statements page opens at once (FIN-2340). Runs under supervisor (program
statement-render).

A pool of RENDER_WORKERS processes renders; each is replaced after MAX_TASKS
renders. The parent refreshes the invoice list from the API every REFRESH
seconds and hands the customers to the pool.
"""
import json
import multiprocessing
import os
import random
import time
import urllib.request

API = os.environ.get("API", "http://127.0.0.1:3000/api")
WORKERS = int(os.environ.get("RENDER_WORKERS", "4"))
MAX_TASKS = int(os.environ.get("MAX_TASKS", "150"))
REFRESH = int(os.environ.get("REFRESH", "60"))

# Rendered pages, so a customer asked for twice is served from here.
_rendered = {}

ROW = ('<tr class="inv {status}"><td class="num">{number}</td><td class="date">{issued_at}</td>'
       '<td class="amt" style="text-align:right;font-variant-numeric:tabular-nums">{amount}</td>'
       '<td class="st"><span class="badge badge-{status}">{status}</span></td></tr>\\n')


def log(msg):
    print(time.strftime("%Y-%m-%d %H:%M:%S"), f"statement-render[{os.getpid()}]:", msg, flush=True)


def fetch(path):
    with urllib.request.urlopen(f"{API}{path}", timeout=10) as r:
        return json.load(r)


def _head():
    # The stylesheet and the logo are inlined: the page is mailed and printed as it is.
    css = "".join(".inv-%d td {padding:2px 6px;border-bottom:1px solid #e%de%de%d}\\n" % (i, i % 10, i % 10, i % 10) for i in range(2400))
    logo = bytes(random.getrandbits(8) for _ in range(90000)).hex()
    return f'<html><head><style>{css}</style></head><body><img alt="logo" src="data:image/png;hex,{logo}">'


HEAD = None


def render(job):
    global HEAD
    HEAD = HEAD or _head()
    customer, rows, generated = job
    key = (customer, generated)
    page = _rendered.get(key)
    if page is None:
        body = "".join(ROW.format(amount=f"{r['amount_cents'] / 100:,.2f}", **r) for r in rows)
        page = f"{HEAD}<h1>Statement {customer}</h1><table>{body}</table></body></html>"
        _rendered[key] = page
    time.sleep(0.15 + random.random() * 0.1)
    return customer, len(page)


def main():
    log(f"start: {WORKERS} workers, {MAX_TASKS} renders per worker, api {API}")
    with multiprocessing.Pool(WORKERS, maxtasksperchild=MAX_TASKS) as pool:
        while True:
            started = time.time()
            try:
                items = fetch("/invoices?page=1&pageSize=100&sort=issued_at&order=desc")["items"]
            except Exception as e:  # the API restarting: try again shortly
                log(f"refresh failed: {e}")
                time.sleep(5)
                continue
            customers = sorted({i["customer"] for i in items})
            generated = time.strftime("%Y-%m-%dT%H:%M:%S")
            done = failed = 0
            while time.time() - started < REFRESH:
                jobs = [(c, [i for i in items if i["customer"] == c], f"{generated}.{n}") for n, c in enumerate(customers)]
                for res in [pool.apply_async(render, (job,)) for job in jobs]:
                    try:
                        res.get(timeout=5)
                        done += 1
                    except multiprocessing.TimeoutError:  # a worker that died takes its job with it
                        failed += 1
                generated = time.strftime("%Y-%m-%dT%H:%M:%S")
            log(f"rendered {done} statements for {len(customers)} customers ({failed} timed out)")


if __name__ == "__main__":
    main()
`;

const supervisorConf = (workers: number, maxTasks: number) => `; Statement pages for finance, pre-rendered (FIN-2340). Deployed by ci-deploy.
[program:${RENDER.program}]
command=/usr/bin/python3 ${RENDER.script}
directory=${RENDER.dir}
user=app
environment=HOME="/opt/drills",RENDER_WORKERS="${workers}",MAX_TASKS="${maxTasks}",REFRESH="60"
autostart=true
autorestart=true
startsecs=5
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=${RENDER.log}
stdout_logfile_maxbytes=20MB
`;

/** Bash: deployed = yesterday 15:10 (node time); stamp formats for touch -t; sv formats supervisord's log time. */
const TIMES = [
  "deployed=$(date -d 'yesterday 15:10' +%s)",
  "stamp() { date -d \"@$1\" +%Y%m%d%H%M.%S; }",
  "sv() { printf '%s,%03d' \"$(date -d \"@$1\" '+%F %T')\" $(( $1 % 1000 )); }",
];

/** Bash: count the API's kills (SIGKILL exits of the backend program) in supervisord's log. */
const BACKEND_KILLS = `grep -c "exited: backend (terminated by SIGKILL" ${RENDER.supervisorLog} 2>/dev/null || true`;

/** Bash: the backend program's pid (supervisor), or 0. */
const BACKEND_PID = "supervisorctl pid backend 2>/dev/null | grep -E '^[0-9]+$' || echo 0";

/**
 * Bash: what the node's next boot starts. Applies the program files as a
 * boot would (`supervisorctl update`), then starts every autostart program
 * that is not running; prints "STARTED <name>" for each, to be stopped again.
 */
const NEXT_BOOT = [
  "supervisorctl update >/dev/null 2>&1 || true",
  "auto=$(supervisorctl avail 2>/dev/null | awk '$4 == \"auto\" {print $1}')",
  "for p in $auto; do",
  "  st=$(supervisorctl status \"$p\" 2>/dev/null | awk '{print $2}')",
  "  case \"$st\" in RUNNING|STARTING|BACKOFF) continue ;; esac",
  "  supervisorctl start \"$p\" >/dev/null 2>&1 && echo \"STARTED $p\"",
  "done",
  "true",
].join("\n");

async function host(ctx: CheckContext): Promise<Record<string, number>> {
  const h: HostFigures | undefined = await hostFigures(ctx, 1000);
  return h ? { ...h } : {};
}

/**
 * A pre-render worker pool under supervisor grows until the backend node is
 * at its memory limit; the kernel's OOM killer kills the API now and then
 * and supervisor restarts it. Bounded by the node's own memory limit.
 */
export function memoryExhaustion(params: MemoryExhaustionParams = {}): Fault {
  const id = "memory-exhaustion";
  const workers = intParam(id, "workers", params.workers, 4, 2, 8);
  const maxTasks = intParam(id, "maxTasks", params.maxTasks, 150, 50, 1000);
  const windowSeconds = intParam(id, "windowSeconds", params.windowSeconds, 20, 5, 120);
  const fastMs = intParam(id, "fastMs", params.fastMs, 500, 50, 5000);

  const limitOf = (plan: LevelPlan) => nodeOf(plan, "backend").memoryMiB;
  /** Bash test: the pool runs (its parent and every worker). */
  const poolRuns = `[ "$(pgrep -u app -f '^/usr/bin/python3 ${RENDER.script}' | wc -l)" -gt ${workers} ]`;

  const deployScript = (plan: LevelPlan) =>
    [
      "set -euo pipefail",
      ...TIMES,
      `install -d -m 0755 ${RENDER.dir}`,
      `cat >${RENDER.script} <<'DRILLS_PY'`,
      workerScript.trimEnd(),
      "DRILLS_PY",
      `chmod 0755 ${RENDER.script}`,
      `cat >${RENDER.conf} <<'DRILLS_CONF'`,
      supervisorConf(workers, maxTasks).trimEnd(),
      "DRILLS_CONF",
      `touch -t "$(stamp $deployed)" ${RENDER.dir} ${RENDER.script} ${RENDER.conf}`,
      "# On EC2 (systemd) the supervised programs get the node's limit, as the container does.",
      `if [ -d /run/systemd/system ]; then systemctl set-property supervisor.service MemoryMax=${limitOf(plan)}M MemorySwapMax=0; fi`,
      "# What the night left: the renderer's passes (one a minute) and the API's restarts since the deploy.",
      "now=$(date +%s)",
      "hist=$(mktemp)",
      "rpid=$(( 2000 + RANDOM % 3000 ))",
      `cat >"$hist.awk" <<'DRILLS_AWK'`,
      "function ts(t) { return strftime(\"%Y-%m-%d %H:%M:%S\", t) }",
      "function sv(t) { return sprintf(\"%s,%03d\", ts(t), int(rand() * 1000)) }",
      "BEGIN {",
      "  srand(seed)",
      `  print ts(d) " statement-render[" rpid "]: start: ${workers} workers, ${maxTasks} renders per worker, api http://127.0.0.1:3000/api" > out`,
      "  t = d; kills = 0; next_kill = d + 1900",
      "  while (t + 60 < now - 120) {",
      "    t += 60 + int(rand() * 3); lost = 0",
      "    if (t >= next_kill) {",
      "      lost = 1 + int(rand() * 4); kills++",
      "      print sv(next_kill) \" WARN exited: backend (terminated by SIGKILL; not expected)\" > hist",
      "      print sv(next_kill + 1) \" INFO spawned: 'backend' with pid \" (3000 + kills * 37 + int(rand() * 30)) > hist",
      "      print sv(next_kill + 3) \" INFO success: backend entered RUNNING state, process has stayed up for > than 2 seconds (startsecs)\" > hist",
      "      next_kill += 120 + int(rand() * 420)",
      "    }",
      "    printf \"%s statement-render[%d]: rendered %d statements for %d customers (%d timed out)\\n\", ts(t), rpid, 1180 + int(rand() * 90) - lost * 40, 88 + int(rand() * 8), lost > out",
      "  }",
      "}",
      "DRILLS_AWK",
      `awk -v d="$deployed" -v now="$now" -v seed="$RANDOM" -v rpid="$rpid" -v out=${RENDER.log} -v hist="$hist" -f "$hist.awk"`,
      `chown app:app ${RENDER.log}`,
      "# supervisord's log: the deploy's lines and the restarts, in time order before what it logged since this boot.",
      `{ echo "$(sv $deployed) INFO spawned: '${RENDER.program}' with pid $rpid"`,
      `  echo "$(sv $(( deployed + 5 ))) INFO success: ${RENDER.program} entered RUNNING state, process has stayed up for > than 5 seconds (startsecs)"`,
      "  cat \"$hist\"",
      `  cat ${RENDER.supervisorLog}; } >"$hist.all"`,
      `cat "$hist.all" >${RENDER.supervisorLog}; rm -f "$hist" "$hist.all" "$hist.awk"`,
      `touch -t "$(stamp $(( now - 60 )))" ${RENDER.log}`,
      "# Start it, as supervisord does at boot, and wait until its workers run. The node fills and the",
      "# kernel kills the API about a minute later, as since yesterday (not waited for: the level is",
      "# ready while the pool fills, as a node is after a boot).",
      "supervisorctl update >/dev/null",
      "for _ in $(seq 1 300); do",
      `  ${poolRuns} && exit 0`,
      "  sleep 0.1",
      "done",
      `echo "${RENDER.program} did not start its workers within 30 s" >&2; tail -5 ${RENDER.supervisorLog} >&2; exit 1`,
    ].join("\n");

  const artifacts: Record<string, string> = {
    program: `backend: ${RENDER.conf} (mtime yesterday 15:10): program ${RENDER.program}, autostart and autorestart, ${workers} workers, MAX_TASKS=${maxTasks}`,
    script: `backend: ${RENDER.script} (mtime yesterday 15:10): its _rendered dict is keyed by (customer, render time), so nothing is ever reused or dropped`,
    log: `backend: ${RENDER.log}: a pass a minute since yesterday 15:10, with "timed out" renders after each kill`,
    kills: `backend: ${RENDER.supervisorLog}: "exited: backend (terminated by SIGKILL; not expected)" every few minutes since yesterday afternoon, and again since this boot`,
    running: `backend: the running pool (python3 ${RENDER.script}, a parent and ${workers} workers, user app); the node's cgroup counts the OOM kills (memory.oom_control / memory.events)`,
  };

  const figures = async (ctx: CheckContext) => {
    const mem = await nodeMemory(ctx, "backend");
    const r = await ctx.exec("backend", `${BACKEND_KILLS}; ${BACKEND_PID}; free -m | awk '/^Mem:/{print $2, $3}'`);
    const [kills, pid, free] = r.stdout.trim().split("\n");
    const [freeTotal, freeUsed] = (free ?? "").split(/\s+/).map(Number);
    return { mem, kills: Number(kills) || 0, pid: Number(pid) || 0, freeTotalMiB: freeTotal, freeUsedMiB: freeUsed };
  };

  return {
    id,
    description:
      `A statement pre-renderer (supervisor program ${RENDER.program}, ${workers} pool workers) caches every page under a key that includes ` +
      "the render time; the pool fills the backend node, and the OOM killer kills the API (the largest process) now and then.",
    spoilers: ["oom", "leak", "exhaust", "out of memory", "killer", "render", "statement", "cache", "python", "swap"],
    bounds: [
      "Docker: the pool runs inside the backend container, whose memory cgroup limit (256 MiB by default, LIMITS in plan/app.ts) the level fixes; " +
        "the kernel's OOM killer acts inside that cgroup only, so the host's memory and processes are never touched.",
      "EC2: the backend instance's memory comes from its size (t3.small, 2 GiB); the fault puts supervisor.service (the API and the pool) " +
        "under MemoryMax equal to the node's limit with no swap, so the pool can never take the whole instance and sshd and the agent keep their memory.",
      `Adds ${RENDER.script}, ${RENDER.conf} and ${RENDER.log}; supervisorctl stops it at once.`,
    ],
    symptomPaths: ["api/"],
    actions: (plan) => [
      { id: `${id}-deploy`, node: "backend", description: "a supervised worker pool on the backend, as deployed yesterday", script: deployScript(plan) },
    ],
    probe: async (ctx): Promise<ProbeResult> => {
      const a = await figures(ctx);
      // Users' requests while the node is watched: through one kill of the API (the pool fills the node in about a
      // minute) plus a few seconds of its restart, at most 150 s; a node whose memory stays low and flat for 15 s is done.
      const t0 = Date.now();
      const lats: Latency[] = [];
      let peakUsed = a.mem.usedMiB;
      let killedAt = 0;
      for (;;) {
        lats.push(await sampleLatency(ctx, 5, 100));
        const now = await figures(ctx);
        peakUsed = Math.max(peakUsed, now.mem.usedMiB);
        const elapsed = Date.now() - t0;
        if (!killedAt && (now.kills > a.kills || now.pid !== a.pid || now.mem.oomKills > a.mem.oomKills)) killedAt = Date.now();
        if (killedAt && Date.now() - killedAt > 4000) break;
        if (elapsed > 150_000) break;
        if (elapsed > 15_000 && peakUsed < 0.5 * a.mem.limitMiB && peakUsed - a.mem.usedMiB < 8) break;
      }
      const lat = mergeLatency(lats);
      const b = await figures(ctx);
      peakUsed = Math.max(peakUsed, b.mem.usedMiB);
      const h = await host(ctx);
      const newKills = b.mem.oomKills - a.mem.oomKills;
      return {
        present: peakUsed >= 0.75 * b.mem.limitMiB || newKills > 0,
        summary:
          `backend node: ${b.mem.usedMiB}/${b.mem.limitMiB} MiB used (peak ${peakUsed}; free says ${b.freeUsedMiB}/${b.freeTotalMiB}), ${b.mem.oomKills} OOM kills (${newKills} while probed), ` +
          `API killed ${b.kills} times; invoice pages p50 ${lat.p50Ms} ms, p90 ${lat.p90Ms} ms, max ${lat.maxMs} ms, ${lat.statuses}`,
        figures: {
          nodeLimitMiB: b.mem.limitMiB,
          nodeUsedMiB: b.mem.usedMiB,
          nodeUsedPeakMiB: peakUsed,
          freeTotalMiB: b.freeTotalMiB,
          freeUsedMiB: b.freeUsedMiB,
          oomKills: b.mem.oomKills,
          oomKillsWhileProbed: newKills,
          apiKills: b.kills,
          apiRestartedDuringProbe: a.pid !== b.pid ? 1 : 0,
          p50Ms: lat.p50Ms,
          p90Ms: lat.p90Ms,
          maxMs: lat.maxMs,
          errors: lat.errors,
          statuses: lat.statuses,
          ...h,
        },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      // What the next boot starts runs during the window, as it would after a reboot.
      const boot = await ctx.exec("backend", NEXT_BOOT);
      const started = boot.stdout.split("\n").filter((l) => l.startsWith("STARTED ")).map((l) => l.slice(8).trim());
      try {
        // The API must be up to be measured (it may have been left down).
        await ctx.exec("backend", RESTART_BACKEND.slice(1).join("\n"));
        const a = await figures(ctx);
        // Users' requests for the window, while the node's memory is sampled every second.
        let done = false;
        let peak = a.mem.usedMiB;
        const watch = (async () => {
          while (!done) {
            peak = Math.max(peak, (await nodeMemory(ctx, "backend")).usedMiB);
            await new Promise((r) => setTimeout(r, 1000));
          }
        })();
        const t0 = Date.now();
        const lats: Latency[] = [];
        while (Date.now() - t0 < windowSeconds * 1000) lats.push(await sampleLatency(ctx, 4, 400));
        done = true;
        await watch;
        const lat = mergeLatency(lats);
        const b = await figures(ctx);
        peak = Math.max(peak, b.mem.usedMiB);
        const limit = b.mem.limitMiB;
        const low = Math.round(limit / 2);
        const grew = peak - a.mem.usedMiB;
        if (peak > low) {
          reasons.push(`The backend node used up to ${peak} of its ${limit} MiB while the check watched it (the app alone needs well under ${low} MiB).`);
        }
        if (grew > 16) {
          reasons.push(
            `Memory in the backend node grew by ${grew} MiB in ${windowSeconds} s` +
              (started.length ? `, with what the next boot starts running (${started.join(", ")})` : "") +
              ": something there still grows.",
          );
        }
        if (b.mem.oomKills > a.mem.oomKills) reasons.push(`The kernel killed ${b.mem.oomKills - a.mem.oomKills} process(es) in the backend node while the check watched it.`);
        if (b.kills > a.kills || a.pid !== b.pid) reasons.push("The API was restarted while the check watched it.");
        if (lat.errors > 0) reasons.push(`Invoice pages failed ${lat.errors} of ${lat.samples} times (${lat.statuses}).`);
        if (lat.p50Ms > fastMs) reasons.push(`Invoice pages took ${lat.p50Ms} ms (p50); they must answer under ${fastMs} ms.`);
        return {
          ok: reasons.length === 0,
          reasons,
          figures: {
            nodeLimitMiB: limit,
            nodeUsedBeforeMiB: a.mem.usedMiB,
            nodeUsedAfterMiB: b.mem.usedMiB,
            nodeUsedPeakMiB: peak,
            freeUsedMiB: b.freeUsedMiB,
            oomKillsInWindow: b.mem.oomKills - a.mem.oomKills,
            startedAsAtBoot: started.join(" "),
            p50Ms: lat.p50Ms,
            p90Ms: lat.p90Ms,
            errors: lat.errors,
            ...(await host(ctx)),
          },
        };
      } finally {
        // Leave the node as the player left it.
        if (started.length) await ctx.exec("backend", started.map((p) => `supervisorctl stop '${p}' >/dev/null 2>&1 || true`).join("\n"));
      }
    },
    shortcuts: [
      {
        description: "kill the biggest python3 processes once (supervisor and the pool start them again)",
        actions: () => [
          {
            id: `${id}-shortcut-kill`,
            node: "backend",
            description: "kill -9 the pool's processes",
            script: `pkill -9 -f '^/usr/bin/python3 ${RENDER.script}' || true; sleep 1`,
          },
        ],
      },
      {
        description: "restart the API only",
        actions: () => [{ id: `${id}-shortcut-restart`, node: "backend", description: "supervisorctl restart backend", script: ["set -euo pipefail", ...RESTART_BACKEND].join("\n") }],
      },
      {
        description: "stop the program with supervisorctl, but leave it to start at the next boot",
        actions: () => [{ id: `${id}-shortcut-stop`, node: "backend", description: `supervisorctl stop ${RENDER.program}`, script: `supervisorctl stop ${RENDER.program}` }],
        undo: () => [{ id: `${id}-shortcut-stop-undo`, node: "backend", description: `supervisorctl start ${RENDER.program}`, script: `supervisorctl start ${RENDER.program}` }],
      },
    ],
    solution: () => [
      {
        id: `${id}-fix`,
        node: "backend",
        description: `remove the ${RENDER.program} program (stopped and not started at boot), then make sure the API runs`,
        script: [
          "set -euo pipefail",
          `mv ${RENDER.conf} ${RENDER.conf}.disabled`,
          "supervisorctl update >/dev/null",
          ...RESTART_BACKEND,
        ].join("\n"),
      },
    ],
    story: scriptedStory("backend", artifacts, [
      "set -uo pipefail",
      ...TIMES,
      `[ "$(stat -c %Y ${RENDER.conf} 2>/dev/null)" = "$deployed" ] && grep -q '^autorestart=true' ${RENDER.conf} || echo MISSING program`,
      `[ "$(stat -c %Y ${RENDER.script} 2>/dev/null)" = "$deployed" ] && grep -q 'key = (customer, generated)' ${RENDER.script} || echo MISSING script`,
      `head -1 ${RENDER.log} 2>/dev/null | grep -q "^$(date -d @$deployed '+%F %T') statement-render\\[[0-9]*\\]: start:" && grep -q 'timed out' ${RENDER.log} || echo MISSING log`,
      `n=$(grep -c "^$(date -d @$deployed +%F).*exited: backend (terminated by SIGKILL" ${RENDER.supervisorLog}); [ "$n" -gt 0 ] || echo MISSING kills`,
      `${poolRuns} || echo MISSING running`,
    ].join("\n")),
  };
}
