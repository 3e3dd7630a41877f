import { memoryExhaustion } from "../faults/memoryExhaustion";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = memoryExhaustion();

const symptoms = {
  badGateway:
    "About once a minute the whole app fails for a second or two: every API call answers 502 Bad Gateway, then it works again. " +
    "On the backend, supervisorctl shows the API was started only recently.",
  between: "In between, pages open as fast as ever (the invoice list in about ten milliseconds).",
  front: "The front page itself (the HTML) always loads.",
};

const level: LevelDefinition = {
  id: "memory-exhaustion",
  title: "Bad Gateway about once a minute",
  summary: "Since yesterday the app answers 502 Bad Gateway for a second or two about once a minute, and is fine in between.",
  engine: "postgres",
  category: "node",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "Since yesterday afternoon customers report short outages (\"Bad Gateway\") many times an hour; support cannot reproduce them when they try. " +
      "The API's code was not deployed since last week.",
    alert:
      "Yesterday 15:40, then again and again: WARNING backend-api-restarts: the API process on backend restarted 3 times in 15 minutes. " +
      "Tonight the night shift muted it.",
    symptoms: [symptoms.badGateway, symptoms.between, symptoms.front],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      // The probe watches through one kill of the API: users must have seen it, and the kernel must have done it.
      if (!(Number(f.errors) > 0 && Number(f.apiKills) > 0 && Number(f.oomKills) > 0)) {
        out.push(`${symptoms.badGateway} (measured: ${f.statuses}; the API was killed ${f.apiKills} times, ${f.oomKills} kills in the node)`);
      }
      if (!(Number(f.p50Ms) <= 100)) out.push(`${symptoms.between} (measured: p50 ${f.p50Ms} ms)`);
      return out;
    },
  },
  objectives: [
    "Find why the API restarts, using the tools on the backend node.",
    "Make the app fast and stable again, and make sure it stays so after the node's next reboot.",
  ],
  hints: [
    "On the backend: `supervisorctl status` and /var/log/supervisor/supervisord.log. How does the API's process end each time (which signal)? Who sends that signal?",
    "`free -m` and `top` (press M) on the backend show the node itself: how much of its memory is used, and by what? Watch it for a minute.",
    "The kernel counts what it killed in the node: /sys/fs/cgroup/memory/memory.oom_control (cgroup v1) or memory.events (v2). Which processes grow, and what started them (`ps -ef --forest`, /etc/supervisor/conf.d)?",
    "Killing the growing processes is not enough: supervisor starts them again, and the next boot too. Read the program's script: what does it keep, under which key, and when does it drop it?",
    "Solution: the supervisor program statement-render (/etc/supervisor/conf.d/statement-render.conf) keeps every rendered page under (customer, render time) and never drops one. " +
      "Disable it: `mv /etc/supervisor/conf.d/statement-render.conf /etc/supervisor/conf.d/statement-render.conf.disabled && supervisorctl update`, " +
      "then `supervisorctl start backend` if it is not running. Hand the script back to its owners (key the cache by customer and bound it).",
  ],
};

export default level;
