import { numberAsString } from "../faults/numberAsString";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "number-as-string",
  title: "The lookup that reads everything",
  summary: "After a small release, finding an invoice by its bank sequence number takes seconds.",
  engine: "mysql",
  category: "app",
  seed: { users: 50, invoices: 2_000_000 },
  faults: [numberAsString()],
  brief: {
    situation:
      "Finance matches incoming bank payments to invoices by the payment provider's sequence number " +
      "(the \"Sequence no.\" filter of the invoice list). Since this morning's release every lookup takes seconds. " +
      "The release notes list only a small clean-up of the invoice filters; the database was not touched.",
    alert: "Finance opened a ticket at 09:05: \"Looking up a payment by sequence number hangs for seconds, every single one.\"",
    symptoms: [
      "Looking up an invoice by its sequence number takes about a second or more; yesterday it was instant.",
      "The lookup still finds the right invoice: it is only slow.",
      "Listing, sorting and the customer search feel normal.",
    ],
    contradictions: (probes) => {
      const p = probes["number-as-string"];
      if (!p) return ["no measurement of the lookup"];
      const out: string[] = [];
      if (p.figures.status !== 200) out.push(`"it is only slow": the lookup answered ${p.figures.status}`);
      else {
        if (Number(p.figures.wrong) > 0) out.push(`"finds the right invoice": ${p.figures.wrong} lookups returned other invoices`);
        if (!(Number(p.figures.lookupMs) >= 700)) out.push(`"about a second or more": the lookup's median is ${p.figures.lookupMs} ms`);
      }
      return out;
    },
  },
  objectives: [
    "Find where a lookup spends its time, and prove it with a measurement on the datastore.",
    "Find out why a query that looks right reads the whole invoices table, and what in the release caused it.",
    "Make every lookup fast again, keeping the sequence numbers exactly as the provider issued them.",
  ],
  hints: [
    "Time one lookup: `curl -s -o /dev/null -w '%{time_total}\\n' '<app>/api/invoices?sequence=0001234567'`, then look at the datastore's slow log (/var/log/mysql/mariadb-slow.log). What does the statement look like, and how many rows does it examine?",
    "On the datastore (`mariadb drills`), run that statement under `EXPLAIN`, then the same with the number in quotes. Compare `type`, `key` and `rows`, and the column's type in `SHOW CREATE TABLE invoices`.",
    "When a text column is compared with a number, MariaDB converts every row's value to a number: no index can serve that. What changed in /opt/drills/backend/routes/invoices.js with this morning's release (/var/log/drills/deploy.log)?",
    "Solution: in /opt/drills/backend/routes/invoices.js read the filter as text again (`const sequence = (q.get('sequence') || '').trim();` plus the digits check) instead of `intIn(...)`, then `supervisorctl restart backend`. The query then compares text with text and seeks idx_invoices_sequence_number (EXPLAIN: type ref).",
  ],
};

export default level;
