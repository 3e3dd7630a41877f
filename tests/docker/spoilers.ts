import { connect } from "../../driver/engine";
import { demuxLogs } from "../../driver/deployer";
import { LABEL_GAME } from "../../plan/names";

/**
 * What a player could read that might name their level: everything a game
 * put on the engine, and text, file names, processes and environments
 * inside its nodes. Tests hold both to the level's names (game/levels.ts namesOf).
 */

/** Every name and label a game put on the engine, as text. */
export async function engineText(game: string): Promise<string> {
  const docker = await connect();
  const filter = { filters: { label: [`${LABEL_GAME}=${game}`] } };
  const containers = await docker.listContainers({ all: true, ...filter });
  const inspected = await Promise.all(containers.map((c) => docker.getContainer(c.Id).inspect()));
  const networks = await docker.listNetworks(filter);
  const volumes = (await docker.listVolumes(filter)).Volumes ?? [];
  return JSON.stringify({
    containers: inspected.map((c) => ({ name: c.Name, labels: c.Config.Labels, hostname: c.Config.Hostname, env: c.Config.Env, mounts: c.Mounts.map((m) => m.Name ?? m.Source) })),
    networks: networks.map((n) => ({ name: n.Name, labels: n.Labels })),
    volumes: volumes.map((v) => ({ name: v.Name, labels: v.Labels })),
  });
}

/** What a player sees inside each node: text files under the app, config and log folders, their names, ps, the app's environment. */
export async function nodeFindings(game: string, names: string[]): Promise<string[]> {
  const docker = await connect();
  const patterns = names.map((n) => n.toLowerCase()).join("\n");
  const script = [
    "set -u",
    `cat > /tmp/.p <<'EOF'\n${patterns}\nEOF`,
    "for d in /opt /etc /var/log /var/lib/drills /srv /home /root; do [ -d $d ] || continue;",
    // vendor.js is the bundled pg/mysql2 drivers: their error-code tables (disk_full...) are not the level's.
    "  grep -rIil -F -f /tmp/.p --exclude=vendor.js $d 2>/dev/null | sed 's/^/content: /';",
    "  find $d -xdev 2>/dev/null | grep -i -F -f /tmp/.p | sed 's/^/name: /'; done",
    "ps -eo args | grep -v 'grep\\|/tmp/.p' | grep -i -F -f /tmp/.p | sed 's/^/ps: /'",
    "for p in $(ls /proc | grep -E '^[0-9]+$'); do { tr '\\0' '\\n' < /proc/$p/environ | grep -i -F -f /tmp/.p | sed \"s/^/env $p: /\"; } 2>/dev/null; done",
    "rm -f /tmp/.p",
  ].join("\n");
  const found: string[] = [];
  for (const role of ["proxy", "backend", "datastore"]) {
    const exec = await docker.getContainer(`drills-${game}-${role}`).exec({ Cmd: ["bash", "-c", script], User: "root", AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const text = await new Promise<string>((resolve) => {
      const bufs: Buffer[] = [];
      stream.on("data", (b: Buffer) => bufs.push(b));
      stream.on("end", () => resolve(demuxLogs(Buffer.concat(bufs))));
    });
    for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) found.push(`${role}: ${line}`);
  }
  return found;
}

