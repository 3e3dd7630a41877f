import { cpuHog } from "../faults/cpuHog";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = cpuHog();

const symptoms = {
  slow: "Every API call is slow since early this morning: the invoice list (100 per page), usually about ten milliseconds, now takes from several tens of milliseconds to most of a second. Nothing fails; it is just slow, all day.",
  front: "The front page itself (the HTML) loads at once.",
};

const level: LevelDefinition = {
  id: "cpu-hog",
  title: "Everything is slow, nothing fails",
  summary: "Since early this morning every API call is several times slower than usual, and nothing fails.",
  engine: "postgres",
  category: "node",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      "Since early this morning customers say the app is sluggish: lists take a long time to appear, but they do appear. " +
      "The API was not deployed since last week, traffic is as usual, and the on-call engineer restarted the backend node a few minutes ago; it did not help.",
    alert: "01:10: WARNING backend-cpu-saturated: backend at its CPU limit for 10 minutes. It has not cleared since.",
    symptoms: [symptoms.slow, symptoms.front],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      // Half a second on a calm host (the job spends the node's quota early in each 1 s period); tens of ms where the host is saturated.
      if (!(Number(f.p50Ms) >= 40) || Number(f.errors) > 0) out.push(`${symptoms.slow} (measured: p50 ${f.p50Ms} ms, ${f.errors} failed)`);
      // On a calm host the node sits at its quota; on a saturated one it gets less, but the job still takes most of it.
      if (!(Number(f.nodeCpus) >= 0.4 || Number(f.othersShare) >= 0.6)) {
        out.push(`The alert says the backend is at its CPU limit (measured ${f.nodeCpus} of 0.5 CPU, ${f.othersShare} of it outside the API).`);
      }
      return out;
    },
  },
  objectives: [
    "Find what makes every API call slow, using the tools on the nodes.",
    "Make the app fast again, and make sure it stays fast after the next scheduled jobs run.",
  ],
  hints: [
    "Which node is busy? `top` on each node shows the node itself (its CPU quota as its CPUs). Which processes use the CPU?",
    "Who started those processes, and when? `ps -ef --forest`, /etc/cron.d, /var/log/drills.",
    "Killing them buys you a few minutes: the scheduler starts the job again. Read the job's log and its script: why does it never finish?",
    "The job reads each archive back and compares two hashes. Run both commands by hand on one file: what does each print?",
    "Solution: in /usr/local/bin/db-backup, `sha256sum \"$dump\"` prints the file name after the hash, the other side prints `-`: compare the hashes only " +
      "(e.g. `sha256sum <\"$dump\"`). Then `pkill -f /usr/local/bin/db-backup; pkill -x gzip`, remove /var/backups/drills/archive/*.part, and run " +
      "`flock /run/lock/db-backup.lock /usr/local/bin/db-backup` once so tonight's dumps are archived.",
  ],
};

export default level;
