import { PLAYER_USER } from "../../plan/app";
import { Role } from "../../plan/types";

/** Where an instance gets its role's sources. */
export type SourceLocation =
  | {
      kind: "s3";
      bucket: string;
      key: string;
      region: string;
      /** S3 endpoint for path-style requests (tests: a local stand-in). Default: the bucket's virtual-hosted endpoint. */
      endpoint?: string;
      /** Instance metadata service base URL (tests: a local stand-in). Default: http://169.254.169.254. */
      imdsUrl?: string;
      /** Give up fetching (credentials and object) after this many seconds. Default 600. */
      timeoutSeconds?: number;
    }
  /** A tarball already on the machine (tests: a plain container). */
  | { kind: "file"; path: string };

export const IMDS_URL = "http://169.254.169.254";
export const FETCH_TIMEOUT_SECONDS = 600;

/** The object's URL: virtual-hosted on AWS, path-style on a given endpoint. */
export function s3ObjectUrl(s: { bucket: string; key: string; region: string; endpoint?: string }): string {
  return s.endpoint ? `${s.endpoint.replace(/\/$/, "")}/${s.bucket}/${s.key}` : `https://${s.bucket}.s3.${s.region}.amazonaws.com/${s.key}`;
}

export interface UserDataArgs {
  role: Role;
  /** Run-time settings, endpoints resolved. Secret-looking keys are never written (see SECRET_KEY). */
  env: Record<string, string>;
  /** Build-time parameters of the role's provisioning script (DB_ENGINE, SEED_*). */
  buildArgs: Record<string, string>;
  /** Other nodes' names -> private IPs, written to /etc/hosts. */
  hosts: Record<string, string>;
  /** Small dedicated EBS volumes: volume id -> mount point, and the cap of the filesystem made on it. */
  volumes: Array<{ volumeId: string; target: string; sizeMiB?: number }>;
  /** Stop (and so terminate) the instance this long after first boot. */
  ttlHours: number;
  source: SourceLocation;
  /** The stack's SSH public key: the player's user (oncall, made by provision.sh) logs in with it. */
  playerKey?: string;
}

/**
 * Keys never put in user data: EC2 keeps user data in clear text, readable by
 * anyone with DescribeInstanceAttribute. The roles' env.sh supply defaults.
 */
export const SECRET_KEY = /PASSWORD|SECRET|TOKEN|PRIVATE/i;

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Shell lines that put the role's tarball at /tmp/drills-src.tar.gz (exported
 * so tests run exactly these lines). On S3: the instance role's credentials
 * from IMDSv2, then a SigV4-signed GET, with no extra package (curl >= 7.75
 * signs, python3 comes with cloud-init). Both retry until a deadline: a new
 * instance profile's credentials appear only after a while (IMDS answers 404
 * until then), and a new role policy takes a while to reach S3 (403).
 * S3 refuses a SigV4 request without x-amz-content-sha256 (400), and
 * Debian 12's curl 7.88 does not send it: we send UNSIGNED-PAYLOAD, which
 * curl then signs with the other headers.
 */
export function fetchSource(s: SourceLocation): string {
  // -ef: the tarball may already be where it is unpacked from (tests put it there).
  if (s.kind === "file") return `[ ${q(s.path)} -ef /tmp/drills-src.tar.gz ] || cp ${q(s.path)} /tmp/drills-src.tar.gz`;
  const imds = (s.imdsUrl ?? IMDS_URL).replace(/\/$/, "");
  const timeout = s.timeoutSeconds ?? FETCH_TIMEOUT_SECONDS;
  return [
    `DRILLS_IMDS=${q(imds)}`,
    `DRILLS_DEADLINE=$((SECONDS + ${timeout}))`,
    `imds() { curl -fsS --max-time 10 -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$DRILLS_IMDS/latest/$1"; }`,
    `cred() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$CREDS"; }`,
    `drills_fetch() {`,
    `  IMDS_TOKEN=$(curl -fsS --max-time 10 -X PUT "$DRILLS_IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 600') || return 1`,
    `  local role; role=$(imds meta-data/iam/security-credentials/) && [ -n "$role" ] || { echo "no instance role credentials yet" >&2; return 1; }`,
    `  CREDS=$(imds "meta-data/iam/security-credentials/$role") || return 1`,
    `  curl -fsS --max-time 120 --aws-sigv4 ${q(`aws:amz:${s.region}:s3`)} --user "$(cred AccessKeyId):$(cred SecretAccessKey)" \\`,
    `    -H "x-amz-security-token: $(cred Token)" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \\`,
    `    ${q(s3ObjectUrl(s))} -o /tmp/drills-src.tar.gz`,
    `}`,
    `until drills_fetch; do`,
    `  [ "$SECONDS" -lt "$DRILLS_DEADLINE" ] || { echo "drills: could not fetch the role's sources in ${timeout} s" >&2; exit 1; }`,
    `  sleep 3`,
    `done`,
  ].join("\n");
}

function mountVolume(v: { volumeId: string; target: string; sizeMiB?: number }): string {
  const serial = v.volumeId.replace("-", "");
  return [
    `# ${v.target}: its own small EBS volume, so a fault that fills it never fills the root disk.`,
    `dev=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serial}`,
    `for _ in $(seq 1 300); do [ -e "$dev" ] && break; sleep 1; done`,
    `[ -e "$dev" ] || { echo "volume ${v.volumeId} never attached" >&2; exit 1; }`,
    // The filesystem has the plan's cap (as the Docker target's ext4 volume), however big the EBS volume.
    `blkid "$dev" >/dev/null 2>&1 || mkfs.ext4 -q -m 0 "$dev"${v.sizeMiB ? ` ${v.sizeMiB}M` : ""}`,
    `mkdir -p ${q(v.target)}`,
    `grep -q ${q(v.target)} /etc/fstab || echo "$dev ${v.target} ext4 defaults,nofail 0 2" >>/etc/fstab`,
    `mountpoint -q ${q(v.target)} || mount ${q(v.target)}`,
    `chmod 1777 ${q(v.target)}`,
  ].join("\n");
}

/**
 * User data for one node: fetch the role's sources, write its settings, run
 * the SAME roles/<role>/provision.sh its Docker image runs, start its
 * services, and arm the time-to-live. Runs as root under cloud-init, or in a
 * plain container (tests), where it starts the services without systemd.
 */
export function renderUserData(a: UserDataArgs): string {
  const envLines = Object.entries(a.env)
    .filter(([k]) => !SECRET_KEY.test(k))
    .map(([k, v]) => `${k}=${q(v)}`);
  const buildEnv = Object.entries(a.buildArgs)
    .filter(([k]) => k !== "BASE_IMAGE")
    .map(([k, v]) => `${k}=${q(v)}`)
    .join(" ");
  const hosts = Object.entries(a.hosts).map(([name, ip]) => `${ip} ${name} # drills-node`);
  const ttlMinutes = Math.round(a.ttlHours * 60);
  return [
    "#!/bin/bash",
    `# drills: user data of the ${a.role} node. Generated by components/aws/userData.ts.`,
    "set -euo pipefail",
    "exec >>/var/log/drills-user-data.log 2>&1",
    'echo "drills user data: start $(date -u +%FT%TZ)"',
    "",
    `# 0. Time-to-live, armed first so even a failed provisioning ends: power off ${a.ttlHours} h`,
    "#    after first boot; the shutdown behaviour is terminate, so a forgotten class stops costing money.",
    "if [ -d /run/systemd/system ] && [ ! -e /etc/drills/expires-at ]; then",
    "  install -d -m 0755 /etc/drills",
    `  date -u -d '+${ttlMinutes} minutes' '+%Y-%m-%d %H:%M:%S UTC' >/etc/drills/expires-at`,
    "  cat >/etc/systemd/system/drills-ttl.timer <<DRILLS_TTL",
    "[Unit]",
    "Description=drills: end of this level's time-to-live",
    "[Timer]",
    "OnCalendar=$(cat /etc/drills/expires-at)",
    "Persistent=true",
    "[Install]",
    "WantedBy=timers.target",
    "DRILLS_TTL",
    "  printf '[Unit]\\nDescription=drills: time-to-live reached\\n[Service]\\nType=oneshot\\nExecStart=/sbin/shutdown -h now\\n' \\",
    "    >/etc/systemd/system/drills-ttl.service",
    "  systemctl daemon-reload",
    "  systemctl enable --now drills-ttl.timer",
    "fi",
    "",
    "# 1. This role's sources (the files its Docker image is built from).",
    fetchSource(a.source),
    "mkdir -p /opt/drills-src",
    "tar -xzf /tmp/drills-src.tar.gz -C /opt/drills-src",
    "",
    "# 2. The other nodes by name, as on the Docker network. /etc/hosts is rewritten",
    "#    in place (not sed -i, which renames): in a container it is a bind mount.",
    "grep -v '# drills-node$' /etc/hosts >/tmp/drills-hosts || true",
    ...(hosts.length ? [`cat >>/tmp/drills-hosts <<'DRILLS_HOSTS'`, ...hosts, "DRILLS_HOSTS"] : []),
    "cat /tmp/drills-hosts >/etc/hosts",
    "rm -f /tmp/drills-hosts",
    "# Keep them across reboots: Debian's cloud images let cloud-init rewrite /etc/hosts at boot.",
    "if [ -d /etc/cloud/cloud.cfg.d ]; then echo 'manage_etc_hosts: false' >/etc/cloud/cloud.cfg.d/99-drills-hosts.cfg; fi",
    "",
    "# 3. Dedicated volumes.",
    ...(a.volumes.length ? a.volumes.map(mountVolume) : ["# (none)"]),
    "",
    `# 4. First-boot settings; drills-start completes /etc/drills/${a.role}.env with the role's defaults.`,
    "install -d -m 0755 /etc/drills",
    `cat >/etc/drills/${a.role}.env <<'DRILLS_ENV'`,
    ...envLines,
    "DRILLS_ENV",
    "",
    "# 5. The role's one provisioning script, as in its Dockerfile.",
    `${buildEnv ? `${buildEnv} ` : ""}bash /opt/drills-src/roles/${a.role}/provision.sh`,
    "",
    "# 5b. The player's way in: the stack's key for the on-call user (never in the sources).",
    ...(a.playerKey
      ? [
          `install -d -o ${PLAYER_USER} -g ${PLAYER_USER} -m 0700 /home/${PLAYER_USER}/.ssh`,
          `printf '%s\\n' ${q(a.playerKey.trim())} >/home/${PLAYER_USER}/.ssh/authorized_keys`,
          `chown ${PLAYER_USER}:${PLAYER_USER} /home/${PLAYER_USER}/.ssh/authorized_keys`,
          `chmod 0600 /home/${PLAYER_USER}/.ssh/authorized_keys`,
        ]
      : ["# (no key given)"]),
    "",
    "# 6. Start the services: supervisor under systemd on EC2, directly elsewhere.",
    "if [ -d /run/systemd/system ]; then",
    "  # provision.sh already (re)started it with the drills drop-in; make sure it also starts at boot.",
    "  systemctl enable --now supervisor",
    "else",
    "  setsid /usr/local/sbin/drills-start </dev/null >>/var/log/drills-start.log 2>&1 &",
    "fi",
    "",
    'echo "drills user data: done $(date -u +%FT%TZ)"',
    "",
  ].join("\n");
}
