/**
 * Bash that runs, once, every scheduled entry of the node whose command
 * mentions `pattern`, as cron would (its user, /bin/sh, cron's bare
 * environment), bounded by a file size and a time limit. Prints one line per
 * run, `RAN<TAB>exit code<TAB>command<TAB>last output`, then `ENTRIES <n>`.
 */
export function runScheduled(pattern: string, limits: { fileKiB: number; seconds: number }): string {
  const fields = "[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+";
  return [
    "set -uo pipefail",
    "entries() {",
    "  local f",
    "  for f in /etc/crontab /etc/cron.d/*; do",
    '    [ -f "$f" ] || continue',
    "    # cron skips /etc/cron.d files whose names hold a dot (job.disabled, *.dpkg-old).",
    '    [ "$f" = /etc/crontab ] || [[ "${f##*/}" =~ ^[A-Za-z0-9_-]+$ ]] || continue',
    "    grep -Ev '^[[:space:]]*(#|$|[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=)' \"$f\" |",
    `      sed -nE 's/^[[:space:]]*(@[a-z]+|${fields})[[:space:]]+([^[:space:]]+)[[:space:]]+(.*)$/\\2\\t\\3/p'`,
    "  done",
    "  for f in /var/spool/cron/crontabs/*; do",
    '    [ -f "$f" ] || continue',
    "    grep -Ev '^[[:space:]]*(#|$|[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=)' \"$f\" |",
    `      sed -nE 's/^[[:space:]]*(@[a-z]+|${fields})[[:space:]]+(.*)$/'"\${f##*/}"'\\t\\2/p'`,
    "  done",
    "  for f in /etc/cron.hourly/* /etc/cron.daily/* /etc/cron.weekly/* /etc/cron.monthly/*; do",
    '    [ -x "$f" ] && [[ "${f##*/}" =~ ^[A-Za-z0-9_-]+$ ]] && printf \'root\\t%s\\n\' "$f"',
    "  done",
    "}",
    "n=0",
    "while IFS=$'\\t' read -r user cmd; do",
    `  case "$cmd" in *${pattern}*) ;; *) continue ;; esac`,
    "  n=$((n + 1))",
    '  home=$(getent passwd "$user" | cut -d: -f6)',
    `  out=$(cd "\${home:-/}" 2>/dev/null || cd /; ulimit -f ${limits.fileKiB}; timeout ${limits.seconds} runuser -u "$user" -- env -i PATH=/usr/bin:/bin SHELL=/bin/sh HOME="\${home:-/}" LOGNAME="$user" /bin/sh -c "$cmd" 2>&1 </dev/null)`,
    "  code=$?",
    "  printf 'RAN\\t%s\\t%s\\t%s\\n' \"$code\" \"$cmd\" \"$(printf '%s' \"$out\" | tail -n 2 | tr '\\n\\t' '  ')\"",
    "done < <(entries)",
    'echo "ENTRIES $n"',
  ].join("\n");
}

export interface ScheduledRun {
  code: string;
  command: string;
  tail: string;
}

/** The runs `runScheduled` printed. */
export function scheduledRuns(stdout: string): ScheduledRun[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("RAN\t"))
    .map((l) => {
      const [, code, command, tail] = l.split("\t");
      return { code, command, tail: (tail ?? "").trim() };
    });
}
