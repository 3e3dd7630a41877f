import * as path from "path";
import { SEARCH_SQL, searchPath } from "../../faults/missingIndex";
import { appSpellings, badCors, FOREIGN_ORIGIN } from "../../faults/badCors";
import { BrowserResult, CheckContext, HttpInit, HttpResult } from "../../faults/types";
import { LevelPlan } from "../../plan/types";

type ListQueries = (f: Record<string, unknown>) => {
  page: { sql: string; params: unknown[] };
  count: { sql: string; params: unknown[] };
  summary: { sql: string; params: unknown[] } | null;
};
// The backend is plain CommonJS shipped as is; its route module is pure apart from lib/http.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { listQueries } = require(path.join(__dirname, "../../app/backend/routes/invoices.js")) as { listQueries: ListQueries };

describe("missing-index checks the SQL the app really runs", () => {
  it("the fault EXPLAINs exactly the backend's queries for the search page it requests", () => {
    const q = new URLSearchParams(searchPath("customer-01234").split("?")[1]);
    const app = listQueries({ ...Object.fromEntries(q.entries()), page: Number(q.get("page")), pageSize: Number(q.get("pageSize")) });
    expect(app.page).toEqual({ sql: SEARCH_SQL.page, params: ["customer-01234", 20, 0] });
    expect(app.count).toEqual({ sql: SEARCH_SQL.count, params: ["customer-01234"] });
    expect(app.summary).toEqual({ sql: SEARCH_SQL.summary, params: ["customer-01234"] });
  });

  it("the unfiltered list counts nothing per row and sorts by number without a tie-breaker (number is unique)", () => {
    expect(listQueries({}).summary).toBeNull();
    expect(listQueries({ sort: "number", order: "asc" }).page.sql).toMatch(/ORDER BY number ASC LIMIT/);
    expect(listQueries({ sort: "amount_cents" }).page.sql).toMatch(/ORDER BY amount_cents DESC, id DESC LIMIT/);
  });
});

/** A level whose API answers with the given Access-Control-Allow-Origin rule, every section loading. */
function corsContext(allow: (origin: string | undefined) => string | undefined): CheckContext {
  const plan = { appUrl: "http://127.0.0.1:41000/", apiUrl: "http://127.0.0.1:41001/", engine: "postgres" } as unknown as LevelPlan;
  const loaded: BrowserResult = { sections: { users: "loaded", invoices: "loaded", uploads: "loaded" }, messages: [] };
  return {
    plan,
    exec: async () => ({ code: 0, stdout: "0", stderr: "" }),
    sql: async () => [],
    browser: async () => loaded,
    restart: async () => undefined,
    http: async (_url: string, init?: HttpInit): Promise<HttpResult> => {
      const acao = allow(init?.headers?.Origin);
      return { status: 200, ms: 1, text: "{}", headers: acao === undefined ? {} : { "access-control-allow-origin": acao } };
    },
  };
}

describe("bad-cors accepts only the app's exact origin", () => {
  const app = "http://127.0.0.1:41000";
  it("passes when the API allows exactly the app's origin", async () => {
    const r = await badCors().check(corsContext((o) => (o === app ? app : undefined)));
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
  });
  it("refuses * (any site could read the API)", async () => {
    const r = await badCors().check(corsContext(() => "*"));
    expect(r.ok).toBe(false);
    expect(r.reasons.join(" ")).toMatch(/every origin \(\*\)/);
  });
  it("refuses echoing whatever Origin arrives", async () => {
    const r = await badCors().check(corsContext((o) => o));
    expect(r.ok).toBe(false);
    expect(r.reasons.join(" ")).toContain(`also allows ${FOREIGN_ORIGIN}`);
  });
  it("refuses the stale origin and the localhost spelling", async () => {
    expect((await badCors().check(corsContext(() => "https://app.staging.drills.internal"))).ok).toBe(false);
    expect((await badCors().check(corsContext(() => "http://localhost:41000"))).ok).toBe(false);
  });
  it("opens the app on both spellings of the loopback address, once elsewhere", () => {
    expect(appSpellings("http://127.0.0.1:41000/")).toEqual(["http://127.0.0.1:41000/", "http://localhost:41000/"]);
    expect(appSpellings("http://198.51.100.10/")).toEqual(["http://198.51.100.10/"]);
  });
});

describe("number-as-string and deep-pagination patch and EXPLAIN the app's real code", () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require("fs") as typeof import("fs");
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { HEALTHY_PARSE, RELEASE_PARSE, seedSequence } = require("../../faults/numberAsString") as typeof import("../../faults/numberAsString");
  const route = fs.readFileSync(path.join(__dirname, "../../app/backend/routes/invoices.js"), "utf8");

  it("the release's patch finds the healthy parsing in the route, once", () => {
    expect(route.split(HEALTHY_PARSE).length).toBe(2);
    expect(route).not.toContain(RELEASE_PARSE);
  });

  it("the healthy app binds the sequence number as text", () => {
    const q = listQueries({ sequence: "0004827100" } as Record<string, unknown>);
    expect(q.page.sql).toContain("WHERE sequence_number = ?");
    expect(q.page.params[0]).toBe("0004827100");
  });

  it("a cursor seeks past the last row (a one-column index can serve it); without one the page is an OFFSET", () => {
    const q = listQueries({ sort: "amount_cents", order: "desc", page: 2, pageSize: 20, after: { value: 500, id: 7 } } as Record<string, unknown>);
    expect(q.page.sql).toBe(
      "SELECT id, number, customer, amount_cents, status, issued_at FROM invoices WHERE amount_cents <= ? AND (amount_cents, id) < (?, ?) ORDER BY amount_cents DESC, id DESC LIMIT ?",
    );
    expect(q.page.params).toEqual([500, 500, 7, 20]);
    expect(listQueries({ sort: "amount_cents", order: "asc", after: { value: 5, id: 1 } } as Record<string, unknown>).page.sql).toContain("amount_cents >= ? AND (amount_cents, id) > (?, ?)");
    expect(listQueries({ sort: "amount_cents", page: 3 } as Record<string, unknown>).page.sql).toMatch(/LIMIT \? OFFSET \?$/);
  });

  it("the seed's sequence numbers are zero-padded to 10 digits", () => {
    expect(seedSequence(1)).toBe("0000048271");
    expect(seedSequence(1234567)).toHaveLength(10);
  });
});
