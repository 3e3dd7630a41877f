import { missingIndex } from "../faults/missingIndex";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "missing-index",
  title: "The invoice search crawls",
  summary: "Invoice search by customer takes over a second instead of milliseconds.",
  engine: "postgres",
  category: "datastore",
  seed: { users: 50, invoices: 3_000_000 },
  faults: [missingIndex()],
  brief: {
    situation:
      "Finance says the invoice search became unusable after last night's maintenance window. " +
      "Nothing was deployed to the app.",
    alert: "Finance opened a ticket at 08:40: \"Customer invoice search takes forever since this morning.\"",
    symptoms: [
      "Searching invoices for a customer takes a second or more; it used to be instant.",
      "The rest of the app (users, uploads, the invoice list itself) feels normal.",
      "No errors are shown; the page is just slow.",
    ],
    contradictions: (probes) => {
      const p = probes["missing-index"];
      if (!p) return ["no measurement of the customer search"];
      const out: string[] = [];
      const ms = Number(p.figures.searchMs);
      if (p.figures.status !== 200) out.push(`"No errors are shown": the customer search answered ${p.figures.status}`);
      else if (!(ms >= 1000)) out.push(`"takes a second or more": the customer search's median is ${ms} ms`);
      return out;
    },
  },
  objectives: [
    "Find where the time goes: proxy, backend or datastore. Prove it with a measurement.",
    "Make the customer search fast again without changing the app's code.",
  ],
  hints: [
    "Time the API call itself: `curl -s -o /dev/null -w '%{time_total}\\n' '<app>/api/invoices?customer=customer-00042'`. Is the backend slow, or what it waits on?",
    "On the datastore, `psql -U drills -h 127.0.0.1 drills` and run the search query under `EXPLAIN ANALYZE`. What kind of scan do you see, and how many rows does it read?",
    "Compare the indexes on invoices (`\\d invoices`) with the migrations in /opt/drills/migrations on the backend: one is missing. What ran on the datastore last night (its logs in /var/log/postgresql/)?",
    "Solution: `CREATE INDEX idx_invoices_customer ON invoices (customer); ANALYZE invoices;` then EXPLAIN shows an index scan and the search takes milliseconds.",
  ],
};

export default level;
