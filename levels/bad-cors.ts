import { badCors } from "../faults/badCors";
import { LevelDefinition } from "./types";

const level: LevelDefinition = {
  id: "bad-cors",
  title: "The page loads, the data does not",
  summary: "The front end shows errors everywhere in a browser, yet the API answers curl fine.",
  engine: "postgres",
  category: "app",
  seed: { users: 50, invoices: 20000 },
  faults: [badCors()],
  brief: {
    situation:
      "The API was moved to its own origin this week. Since the change went live, users see an empty app. " +
      "The API team says their service is up and answering.",
    symptoms: [
      "In the browser every section says it could not load (users, invoices, uploads).",
      "It fails the same whether the app is opened at http://127.0.0.1:<port>/ or http://localhost:<port>/.",
      "`curl` against the API works and returns data.",
      "No errors in the backend's log for those requests.",
    ],
    contradictions: (probes) => {
      const p = probes["bad-cors"];
      if (!p) return ["no measurement of the browser"];
      const f = p.figures;
      const out: string[] = [];
      if (Number(f.failedSections) < 3) out.push(`"every section says it could not load": only ${f.failedSections} failed`);
      if (f.spellingsBroken !== f.spellings) out.push(`"fails the same whether ... 127.0.0.1 or localhost": ${f.spellingsBroken} of ${f.spellings} spellings fail`);
      if (f.apiStatus !== 200) out.push(`"curl against the API works": it answered ${f.apiStatus}`);
      if (Number(f.backendErrors) > 0) out.push(`"No errors in the backend's log": ${f.backendErrors} error line(s)`);
      return out;
    },
  },
  objectives: [
    "Reproduce the failure in a browser and find the exact error the browser reports.",
    "Fix the configuration so the front end works again; keep the API on its own origin.",
  ],
  hints: [
    "Open the app in a browser with the developer tools' console and network tab open. What does the console say about the API requests?",
    "Compare the request's `Origin` header with the response's `Access-Control-Allow-Origin`: `curl -si -H 'Origin: <app origin>' <api>/api/users | grep -i access-control`.",
    "The backend reads its settings from /etc/drills/backend.env; after editing, `supervisorctl restart backend`. What did the move change there (look for older copies and the deploy log in /var/log/drills/)?",
    "Solution: set CORS_ORIGIN in /etc/drills/backend.env to the app's exact origin (scheme, host and port as the browser shows it, e.g. http://127.0.0.1:PORT), then `supervisorctl restart backend`. Not `*` and not whatever Origin arrives: any site could then read the API in its users' browsers.",
  ],
};

export default level;
