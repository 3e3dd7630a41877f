import { updateNode } from "../plan/patch";
import { LevelPlan } from "../plan/types";
import { intParam } from "./params";
import { CheckContext, Fault } from "./types";

export interface DiskFullParams {
  /** Size of the backend's capped uploads volume (the only thing filled). */
  sizeMiB?: number;
  /** Free space needed to count as fixed. */
  minFreeMiB?: number;
  /** Users' files put there first; they must survive the fix. */
  userFiles?: number;
}

export const UPLOAD_DIR = "/var/lib/drills/uploads";
const RUNAWAY = `${UPLOAD_DIR}/.exports/nightly-export.csv.tmp`;

async function freeMiB(ctx: CheckContext): Promise<number> {
  const r = await ctx.exec("backend", `df -k --output=avail ${UPLOAD_DIR} | tail -1`);
  return Math.floor(Number(r.stdout.trim()) / 1024);
}

async function tryUpload(ctx: CheckContext): Promise<{ status: number; detail: string }> {
  const name = `drills-check-${Date.now()}.bin`;
  const r = await ctx.http(`${ctx.plan.appUrl}api/uploads?name=${name}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: Buffer.alloc(256 * 1024, 7),
    timeoutMs: 10_000,
  });
  // The probe's file is not the player's business: remove it.
  if (r.status === 201) await ctx.exec("backend", `rm -f ${UPLOAD_DIR}/${name}`);
  return { status: r.status, detail: r.error ?? r.text.slice(0, 200) };
}

/**
 * A runaway export fills the backend's uploads volume. The volume is a
 * capped tmpfs that belongs to the level, so the host's disk is never touched.
 */
export function diskFull(params: DiskFullParams = {}): Fault {
  const id = "disk-full";
  const sizeMiB = intParam(id, "sizeMiB", params.sizeMiB, 64, 16, 1024);
  const minFreeMiB = intParam(id, "minFreeMiB", params.minFreeMiB, Math.floor(sizeMiB / 4), 1, sizeMiB - 1);
  const userFiles = intParam(id, "userFiles", params.userFiles, 20, 1, 500);
  const capVolume = (plan: LevelPlan) =>
    updateNode(plan, "backend", (n) => ({
      ...n,
      volumes: n.volumes.map((v) => (v.target === UPLOAD_DIR ? { ...v, sizeMiB } : v)),
    }));
  return {
    id,
    description: `A runaway export fills the backend's ${sizeMiB} MiB uploads volume.`,
    spoilers: ["disk", "space", "full", "runaway", "export", "enospc", "quota"],
    bounds: [`Fills only the backend's uploads volume, a ${sizeMiB} MiB tmpfs owned by the level (never the host disk).`],
    patch: capVolume,
    actions: () => [
      {
        id: `${id}-fill`,
        node: "backend",
        description: `fill ${UPLOAD_DIR}`,
        script: [
          "set -euo pipefail",
          `cd ${UPLOAD_DIR}`,
          "# What users uploaded before the incident.",
          `for i in $(seq -w 1 ${userFiles}); do head -c 40000 /dev/urandom > "scan-$i.pdf"; done`,
          "chown app:app scan-*.pdf",
          "# The runaway nightly export, writing until the volume is full.",
          "mkdir -p .exports",
          `dd if=/dev/zero of=${RUNAWAY} bs=1M 2>/dev/null || true`,
          "sync",
          `avail=$(df -k --output=avail ${UPLOAD_DIR} | tail -1)`,
          '[ "$avail" -lt 1024 ] || { echo "volume not full: ${avail} KiB free" >&2; exit 1; }',
        ].join("\n"),
      },
    ],
    probe: async (ctx) => {
      const free = await freeMiB(ctx);
      const up = await tryUpload(ctx);
      return {
        present: up.status !== 201,
        summary: `upload answered ${up.status} (${up.detail}); ${free} MiB free on the uploads volume`,
        figures: { uploadStatus: up.status, freeMiB: free },
      };
    },
    check: async (ctx) => {
      const reasons: string[] = [];
      const free = await freeMiB(ctx);
      if (free < minFreeMiB) reasons.push(`Only ${free} MiB free on the uploads volume; at least ${minFreeMiB} MiB must be free.`);
      const up = await tryUpload(ctx);
      if (up.status !== 201) reasons.push(`Uploading a file still fails (${up.status || up.detail}).`);
      const kept = Number((await ctx.exec("backend", `ls ${UPLOAD_DIR}/scan-*.pdf 2>/dev/null | wc -l`)).stdout.trim());
      if (kept < userFiles) reasons.push(`Users' uploaded files were lost: ${kept} of ${userFiles} remain.`);
      return { ok: reasons.length === 0, reasons, figures: { freeMiB: free, uploadStatus: up.status, userFilesKept: kept } };
    },
    solution: () => [
      { id: `${id}-clean`, node: "backend", description: "remove the runaway export", script: `set -euo pipefail\nrm -f ${RUNAWAY}\n` },
    ],
  };
}
