import { describeRule, Passed, Rule } from "./score";

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export interface CertificateInput {
  player: string;
  rule: Rule;
  /** The levels that met the rule, from the record. */
  counted: Passed[];
  titles: Record<string, string>;
  issuedAt: string;
}

/** A one-page printable certificate (HTML, A4 portrait). */
export function certificateHtml(c: CertificateInput): string {
  const rows = c.counted
    .map(
      (p) =>
        `<tr><td>${esc(c.titles[p.level] ?? p.level)}</td><td>${esc(p.category)}</td><td>${p.minutes.toFixed(0)} min</td>` +
        `<td>${p.hints}</td><td>${p.report ? "accepted" : "-"}</td><td>${p.score}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>On-call certificate: ${esc(c.player)}</title>
<style>
@page { size: A4 portrait; margin: 18mm; }
body { font-family: Georgia, serif; color: #222; max-width: 170mm; margin: 0 auto; }
h1 { text-align: center; font-size: 28pt; margin: 10mm 0 4mm; }
.sub { text-align: center; font-size: 13pt; margin-bottom: 10mm; }
.name { text-align: center; font-size: 22pt; font-weight: bold; margin: 6mm 0; }
table { width: 100%; border-collapse: collapse; font-size: 10pt; margin-top: 8mm; }
th, td { border-bottom: 1px solid #999; padding: 2mm; text-align: left; }
.foot { margin-top: 12mm; font-size: 9pt; color: #555; }
@media print { body { margin: 0; } }
</style></head>
<body>
<h1>On-call certificate</h1>
<div class="sub">drills: production-incident training</div>
<p style="text-align:center">This certifies that</p>
<div class="name">${esc(c.player)}</div>
<p style="text-align:center">troubleshot and fixed the incidents below, and wrote an accepted incident report and blameless postmortem for each, meeting the rule: ${esc(describeRule(c.rule))}.</p>
<table>
<thead><tr><th>incident</th><th>category</th><th>time to fix</th><th>hints</th><th>report</th><th>score</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="foot">Issued ${esc(c.issuedAt)} from the drills record.</p>
</body></html>
`;
}
