import { localCalendar } from "../faults/localCalendar";
import { ProbeResult } from "../faults/types";
import { LevelDefinition } from "./types";

const fault = localCalendar();

const symptoms = {
  today: 'A user created a moment ago is not under "Created today" on the users page: that list says "No users created today."',
  rest: "The user is stored: it is at the top of the full user list at once, and creating it answered 201. Everything else works.",
};

const level: LevelDefinition = {
  id: "todays-signups",
  title: "Nobody signed up today",
  summary: 'New users never show under "Created today", though they are stored and listed.',
  engine: "postgres",
  category: "app",
  seed: { users: 50, invoices: 20000 },
  faults: [fault],
  brief: {
    situation:
      'Since yesterday evening, the sales team\'s "Created today" list on the users page stays empty, ' +
      "although they signed up several customers today and can see them in the full list. Yesterday's release went out without errors.",
    alert: 'Ticket from sales, 09:10: "The new-customers dashboard shows zero sign-ups today; we made eleven."',
    symptoms: [symptoms.today, symptoms.rest],
    contradictions: (probes: Record<string, ProbeResult>) => {
      const f = probes[fault.id]?.figures ?? {};
      const out: string[] = [];
      if (f.listedToday !== "false" || f.todayStatus !== 200 || f.todayCount !== 0) {
        out.push(`${symptoms.today} (measured: listed ${f.listedToday}, view ${f.todayStatus} with ${f.todayCount} users)`);
      }
      if (f.createStatus !== 201 || f.inAllUsers !== "true") out.push(`${symptoms.rest} (measured: create ${f.createStatus}, in the full list ${f.inAllUsers})`);
      return out;
    },
  },
  objectives: [
    'Reproduce it: create a user and look at "Created today" in the page and in the API it calls.',
    "Find which day the app thinks it is, which day the stored times belong to, and what changed.",
    'Make "Created today" list exactly the users created today, at any hour of the day, not only now.',
  ],
  hints: [
    "Which request does the page make for that list? `curl -s http://127.0.0.1:<port>/api/users/today`: which `day` does it answer? Compare with the `created_at` of a user you just made.",
    "What day and time is it on the backend node (`date`), and on the datastore (`SELECT now()`)? What changed on the backend recently (/var/log/drills/, ls -lt /etc)?",
    "Read how the backend computes the day in /opt/drills/backend/routes/users.js (dayOf, today). What did yesterday's release change (/opt/drills/backend/RELEASE, the deploy log)? Which calendar does each line use?",
    "A running Node process keeps the zone it read at start: changing the node's zone (or TZ in your shell) changes nothing for it until the program restarts. And a fix that is right only for part of the day is not a fix.",
    "Solution: in /opt/drills/backend/routes/users.js take the day from UTC, as created_at holds UTC: `const dayOf = (d) => d.toISOString().slice(0, 10);`, then `supervisorctl restart backend`. (Running the backend with TZ=UTC, in /etc/drills/backend.env, then restarting it, works too; the partner job's schedule may keep the node's zone.)",
  ],
};

export default level;
