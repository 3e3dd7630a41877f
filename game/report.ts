import { GameEvent } from "./record";

/** The two documents a player writes after a game. */
export const INCIDENT_FILE = "incident-report.md";
export const POSTMORTEM_FILE = "postmortem.md";

const INCIDENT_SECTIONS = ["Summary", "Timeline", "Impact", "Detection", "Mitigation"] as const;
const POSTMORTEM_SECTIONS = ["Root cause", "Contributing factors", "What went well", "What went badly", "Action items"] as const;

/** Events the timeline must hold, in order (the record's, with their real times). */
const TIMELINE_KINDS = new Set(["play", "hint", "check-no", "check-ok", "give-up"]);

function label(e: GameEvent): string {
  switch (e.kind) {
    case "play":
      return "paged: the game started (what users saw: see the brief)";
    case "hint":
      return `asked for hint ${e.detail}`;
    case "check-no":
      return "check: NO (still broken)";
    case "check-ok":
      return "check: OK (users served again)";
    case "give-up":
      return "gave up";
    default:
      return e.kind;
  }
}

export const timelineEvents = (events: readonly GameEvent[]): GameEvent[] => events.filter((e) => TIMELINE_KINDS.has(e.kind));

const prompt = (s: string): string => `<!-- ${s} -->`;

/** The incident report, its timeline prefilled from the record. Names nothing of the level. */
export function incidentTemplate(game: string, player: string, events: readonly GameEvent[]): string {
  return [
    `# Incident report: ${game}`,
    "",
    `On call: ${player}`,
    "",
    "## Summary",
    "",
    prompt("Two or three sentences: what users saw, for how long, and how it ended."),
    "",
    "## Timeline",
    "",
    prompt("Times are UTC, from the record. Keep these lines; add your own (what you looked at, what you tried) in between."),
    ...timelineEvents(events).map((e) => `- ${e.at} ${label(e)}`),
    "",
    "## Impact",
    "",
    prompt("Who was affected and how: which pages or requests failed or were slow, how badly, for how long."),
    "",
    "## Detection",
    "",
    prompt("How the incident was detected (the alert, a user report), and how long it took to notice."),
    "",
    "## Mitigation",
    "",
    prompt("What you did to restore service, and how you verified it."),
    "",
  ].join("\n");
}

/** The blameless postmortem template. */
export function postmortemTemplate(game: string): string {
  return [
    `# Postmortem: ${game}`,
    "",
    prompt("Blameless: describe systems and decisions, not people's failings."),
    "",
    "## Root cause",
    "",
    prompt("What was really wrong, technically, and why it produced what users saw."),
    "",
    "## Contributing factors",
    "",
    prompt("What made it possible, worse, or slower to find."),
    "",
    "## What went well",
    "",
    prompt("One item per line."),
    "",
    "## What went badly",
    "",
    prompt("One item per line."),
    "",
    "## Action items",
    "",
    prompt("One per line: `- what to do (owner: NAME)`. At least one must prevent a repeat."),
    "",
  ].join("\n");
}

/** Markdown sections by `## ` heading, without HTML comments. */
export function sections(text: string): Map<string, string> {
  const clean = text.replace(/<!--[\s\S]*?-->/g, "");
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of clean.split(/\r?\n/)) {
    const h = /^##\s+(.+?)\s*$/.exec(line);
    if (h) {
      current = h[1].toLowerCase();
      out.set(current, "");
    } else if (current !== undefined) {
      out.set(current, `${out.get(current)}${line}\n`);
    }
  }
  return out;
}

const words = (s: string): number => (s.match(/[A-Za-z0-9][\w'-]*/g) ?? []).length;
const ISO = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\b/g;

/** Words a postmortem must not use about people (blameless). */
const BLAME = [/\bcareless(ly|ness)?\b/i, /\bstupid(ity)?\b/i, /\bincompeten(t|ce)\b/i, /\bshould have known\b/i, /\b(his|her|their) fault\b/i, /\blazy\b/i];

/** What makes an action item preventive: a mechanism, not a one-off. */
const PREVENTIVE =
  /\b(alert\w*|monitor\w*|test\w*|check\w*|guard\w*|limit\w*|timeout\w*|review\w*|runbook\w*|automat\w*|lint\w*|validat\w*|ci|canary|dashboard\w*|quota\w*|cap\w*|rotat\w*|prevent\w*|enforc\w*|block\w*|reject\w*|fail(s|ing)? fast|rehears\w*|drill\w*|policy|policies|pipeline\w*|probe\w*|budget\w*|retention|cleanup|clean up)\b/i;

export interface ReportInput {
  incident: string;
  postmortem: string;
  /** The game's recorded events. */
  events: readonly GameEvent[];
  /** Per fault of the level, the terms a correct diagnosis uses (any one per fault). Never printed. */
  diagnosis: ReadonlyArray<readonly string[]>;
}

const mentions = (text: string, terms: readonly string[]): boolean => {
  const t = text.toLowerCase();
  return terms.some((w) => t.includes(w.toLowerCase()));
};

/**
 * What keeps the two documents from being accepted (empty: accepted). The
 * reasons never name the answer: a wrong root cause is told it does not
 * match what broke, nothing more.
 */
export function validateReport(r: ReportInput): string[] {
  const problems: string[] = [];
  const inc = sections(r.incident);
  const pm = sections(r.postmortem);
  const prefilled = new Set(timelineEvents(r.events).map((e) => `- ${e.at} ${label(e)}`));

  for (const name of INCIDENT_SECTIONS) {
    const body = inc.get(name.toLowerCase());
    if (body === undefined) problems.push(`incident report: the "${name}" section is missing`);
    else {
      const own = body.split("\n").filter((l) => !prefilled.has(l.trim())).join("\n");
      if (name !== "Timeline" && words(own) < 5) problems.push(`incident report: "${name}" is empty or still the template`);
    }
  }
  for (const name of POSTMORTEM_SECTIONS) {
    const body = pm.get(name.toLowerCase());
    if (body === undefined) problems.push(`postmortem: the "${name}" section is missing`);
    else if (words(body) < (name === "What went well" || name === "What went badly" ? 3 : 5)) problems.push(`postmortem: "${name}" is empty or still the template`);
  }

  const timeline = inc.get("timeline");
  if (timeline !== undefined) {
    const times = timeline.match(ISO) ?? [];
    const want = timelineEvents(r.events);
    let i = 0;
    for (const t of times) if (i < want.length && t === want[i].at) i++;
    if (i < want.length) {
      const gone = want.slice(i).map((e) => `${e.kind} at ${e.at}`);
      problems.push(`incident report: the timeline must hold the recorded events in order; missing or out of order from: ${gone.join(", ")}`);
    }
    const own = timeline.split("\n").filter((l) => l.trim() && !prefilled.has(l.trim()));
    if (own.length === 0) problems.push("incident report: the timeline holds only the prefilled events; add what you looked at and what you did, with times");
  }

  const cause = pm.get("root cause");
  if (cause !== undefined && words(cause) >= 5 && !r.diagnosis.every((terms) => terms.length === 0 || mentions(cause, terms))) {
    problems.push("postmortem: the root cause does not match what broke");
  }

  const items = (pm.get("action items") ?? "").split("\n").filter((l) => /^\s*[-*]\s+\S/.test(l));
  const owned = items.filter((l) => /\bowner:\s*(?!NAME\b)[A-Za-z][\w .'-]*/i.test(l));
  if (items.length > 0 && owned.length < items.length) problems.push("postmortem: every action item needs an owner (`(owner: NAME)`)");
  const allTerms = r.diagnosis.flat();
  if (items.length > 0 && !items.some((l) => PREVENTIVE.test(l) && (allTerms.length === 0 || mentions(l, allTerms)))) {
    problems.push("postmortem: no action item names something that would prevent a repeat of what broke");
  }

  const all = `${r.incident}\n${r.postmortem}`;
  if (BLAME.some((re) => re.test(all))) problems.push("postmortem: keep it blameless: describe systems and decisions, not people's failings");
  return problems;
}
