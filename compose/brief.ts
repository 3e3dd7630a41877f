import { LevelDefinition } from "../levels/types";
import { Deployer, stackFlag } from "../plan/names";
import { LevelPlan } from "../plan/types";
import { savePulumiKey } from "./access";


/**
 * The player brief as markdown: how to boot the level, reach the app and
 * each node, and what users see. Symptoms only, never the cause. The boot
 * and teardown commands are those of whoever deploys it.
 */
export function renderBrief(level: LevelDefinition, plan: LevelPlan, deployer: Deployer): string {
  const flag = stackFlag(plan);
  const boot =
    plan.target === "aws"
      ? [
          `- Start: \`pulumi up --stack ${plan.stack}\` (EC2 instances; they terminate themselves when the level's time-to-live ends)`,
          `- SSH key (the node commands below use it; run it again after each \`pulumi up\`): \`${savePulumiKey(plan.stack)}\``,
          `- Stop and remove everything: \`pulumi destroy --stack ${plan.stack}\``,
        ]
      : deployer === "pulumi"
        ? [
            `- Start: \`pulumi up --stack ${plan.stack}\` (containers on the local Docker engine)`,
            `- SSH key (the node commands below use it; run it again after each \`pulumi up\`): \`${savePulumiKey(plan.stack)}\``,
            `- Stop and remove everything: \`pulumi destroy --stack ${plan.stack}\``,
          ]
        : [
            `- Start: \`npx drills up ${level.id}${flag}\``,
            `- Stop and remove everything: \`npx drills down ${level.id}${flag}\``,
          ];
  const lines: string[] = [
    `# ${level.title}`,
    "",
    level.brief.situation,
    "",
    ...(level.brief.alert ? [`> **Alert:** ${level.brief.alert}`, ""] : []),
    "## Boot it",
    "",
    ...boot,
    "",
    "## Reach the app",
    "",
    `- Front end: ${plan.appUrl}`,
  ];
  if (plan.apiUrl) lines.push(`- API: ${plan.apiUrl}`);
  const where = plan.target === "aws" ? "ports" : "published on this machine";
  lines.push("", "## Reach each node", "", `| node | shell | ${where} |`, "| --- | --- | --- |");
  for (const n of plan.nodes) {
    const ports = n.ports
      .map((p) => (plan.target === "aws" ? `${p.internal} (${p.name})` : `127.0.0.1:${p.host} -> ${p.internal} (${p.name})`))
      .join(", ");
    lines.push(`| ${n.role} | \`${n.accessCommand}\` | ${ports} |`);
  }
  const limits = plan.nodes.map((n) => `${n.role} ${n.memoryMiB} MiB / ${n.cpus} CPU`).join(", ");
  lines.push(
    "",
    `Each node is a small server with its own limits (${limits}): \`free\`, \`top\` and \`uptime\` report the node itself, ` +
      "and its cgroup holds its limits (`/sys/fs/cgroup/memory.max` and `cpu.max` on cgroup v2; " +
      "`/sys/fs/cgroup/memory/memory.limit_in_bytes` and the `cpu.cfs_*` files in `/sys/fs/cgroup/cpu/` on v1). The root filesystem (`df /`) is shared with the machine that runs the nodes.",
  );
  lines.push("", "## What users see", "", ...level.brief.symptoms.map((s) => `- ${s}`));
  lines.push("", "## Objectives", "", ...level.objectives.map((o, i) => `${i + 1}. ${o}`));
  // On AWS the CLI checks over SSH from the stack's outputs (--pulumi).
  if (level.faults.length > 0) {
    const check = plan.target === "docker" ? `npx drills check ${level.id}${flag}` : `npx drills check ${level.id} --stack ${plan.stack} --pulumi`;
    lines.push(
      "",
      "## Is it fixed?",
      "",
      `\`${check}\` says OK, or NO with what still fails. Stuck? \`npx drills hint ${level.id}\`.`,
    );
  }
  lines.push(
    "",
    "When you are done, write an incident report (what users saw, when, impact) and a postmortem (cause, fix, what prevents it next time).",
    "",
  );
  return lines.join("\n");
}

/**
 * The brief of a game (`drills play`): what users see and how to reach the
 * app and each node, under the neutral game id. No level id or title: the
 * player must not be told which incident this is.
 */
export function renderGameBrief(level: LevelDefinition, plan: LevelPlan, game: string, limitMinutes: number): string {
  const lines: string[] = [`# Incident ${game}`, "", level.brief.situation, ""];
  if (level.brief.alert) lines.push(`> **Alert:** ${level.brief.alert}`, "");
  lines.push("## Reach the app", "", `- Front end: ${plan.appUrl}`);
  if (plan.apiUrl) lines.push(`- API: ${plan.apiUrl}`);
  lines.push("", "## Reach each node", "", "| node | shell | published on this machine |", "| --- | --- | --- |");
  for (const n of plan.nodes) {
    const ports = n.ports.map((p) => `127.0.0.1:${p.host} -> ${p.internal} (${p.name})`).join(", ");
    lines.push(`| ${n.role} | \`${n.accessCommand}\` | ${ports} |`);
  }
  const limits = plan.nodes.map((n) => `${n.role} ${n.memoryMiB} MiB / ${n.cpus} CPU`).join(", ");
  lines.push(
    "",
    `Each node is a small server with its own limits (${limits}): \`free\`, \`top\` and \`uptime\` report the node itself. ` +
      "The root filesystem (`df /`) is shared with the machine that runs the nodes.",
    "",
    "## What users see",
    "",
    ...level.brief.symptoms.map((s) => `- ${s}`),
    "",
    "## Objectives",
    "",
    ...level.objectives.map((o, i) => `${i + 1}. ${o}`),
    "",
    "## The game",
    "",
    `- Fixed? \`npx drills check --game ${game}\` says OK, or NO with what still fails. Time runs from now; the limit is ${limitMinutes} minutes.`,
    `- Stuck? \`npx drills hint --game ${game}\` gives the next hint (each one costs score; the last is the solution).`,
    `- Then \`npx drills report --game ${game}\` writes an incident report and a postmortem to fill in; \`npx drills report --game ${game} --check\` grades them.`,
    `- \`npx drills end --game ${game}\` when done (\`npx drills give-up --game ${game}\` to stop and see the solution).`,
    "",
  );
  return lines.join("\n");
}
