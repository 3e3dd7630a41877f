import { deepPagination } from "../faults/deepPagination";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "deep-pagination",
  title: "Month-end in the back pages",
  summary: "The invoice list sorted by amount turned slow: a second or more a page far into the list.",
  engine: "postgres",
  category: "datastore",
  seed: { users: 50, invoices: 3_000_000 },
  faults: [deepPagination()],
  brief: {
    situation:
      "It is month-end: finance reviews every invoice sorted by amount, jumping to where they stopped yesterday " +
      "(around page 20 000) and clicking Next from there. Since yesterday's release each of those pages takes a second or more. " +
      "The release notes mention only database housekeeping.",
    alert: "Finance opened a ticket at 08:55: \"The invoice list sorted by amount is unusable; every Next click takes forever.\"",
    symptoms: [
      "Sorted by amount, page 1 of the invoice list is slow, and pages around 20 000 take a second or more each.",
      "Sorted by date or number the list is as fast as ever; so are users and uploads.",
      "No errors are shown; the pages are just slow.",
    ],
    contradictions: (probes) => {
      const p = probes["deep-pagination"];
      if (!p) return ["no measurement of the amount-sorted list"];
      const out: string[] = [];
      if (p.figures.status !== 200) out.push(`"No errors are shown": the list answered ${p.figures.status}`);
      else {
        if (!(Number(p.figures.deepMs) >= 1000)) out.push(`"pages around 20 000 take a second or more": the median is ${p.figures.deepMs} ms`);
        if (!(Number(p.figures.page1Ms) >= 300)) out.push(`"page 1 ... is slow": its median is ${p.figures.page1Ms} ms`);
      }
      return out;
    },
  },
  objectives: [
    "Find where a page of the amount-sorted list spends its time; prove it with the datastore's own plan of the app's query.",
    "Make page 1 fast again, then find out why pages far into the list stay slower than page 1 even so, and make every page fast however deep.",
    "Keep the front end's pager working: Prev, Next and jumping to a page.",
  ],
  hints: [
    "Time page 1 and a deep page: `curl -s -o /dev/null -w '%{time_total}\\n' '<app>/api/invoices?page=20000&pageSize=20&sort=amount_cents&order=desc'`. Then read the datastore's log (/var/log/postgresql/postgresql.log) for the statements and their durations.",
    "On the datastore (`psql`), run the deep page's statement under `EXPLAIN ANALYZE`: what does it sort, and how many rows does it read to return 20? Compare `\\d invoices` with /opt/drills/migrations/postgres on the backend and with yesterday's release in /var/log/drills/deploy.log.",
    "With the index back, `EXPLAIN ANALYZE` page 20 000 again: OFFSET still reads and throws away every row before the page. The front end already sends the last row it showed (`after=<amount>,<id>`); see /opt/drills/backend/routes/invoices.js and the deploy log for how the API can start right after it.",
    "Solution: on the datastore `CREATE INDEX idx_invoices_amount_cents ON invoices (amount_cents); ANALYZE invoices;`, then on the backend add `INVOICE_CURSOR_PAGING=on` to /etc/drills/backend.env and `supervisorctl restart backend`: Next then seeks `amount_cents <= v AND (amount_cents, id) < (v, id)` through the index (keyset pagination), milliseconds at any depth. A jump to a page number still counts its way there.",
  ],
};

export default level;
