import { Engine, HealthcheckSpec, ImageSpec, Role, SeedSize } from "./types";

/**
 * What each role's image build reads, relative to the repository root. The
 * one list: the Docker build context, the Pulumi image and the AWS role
 * bundle are all made of exactly these (images/context.ts stages them).
 */
export const ROLE_INPUTS: Record<Role, readonly string[]> = {
  proxy: ["roles/Dockerfile", "roles/common", "roles/proxy", "app/frontend"],
  backend: ["roles/Dockerfile", "roles/common", "roles/backend", "app/backend", "app/db"],
  datastore: ["roles/Dockerfile", "roles/common", "roles/datastore", "app/db"],
};

/** One Dockerfile for every role: copy the role's inputs, run its provision.sh. */
export const DOCKERFILE = "roles/Dockerfile";

/** Generated at `npm run build` (esbuild bundle of pg + mysql2 for the backend). */
export const BACKEND_VENDOR = "app/backend/vendor.js";

export interface ImageParams {
  baseImage: string;
  engine: Engine;
  seed: SeedSize;
}

/** The image recipe of a role; the backend image is the same for both engines. */
export function roleImage(role: Role, params: ImageParams): ImageSpec {
  const buildArgs: Record<string, string> = { BASE_IMAGE: params.baseImage, ROLE: role };
  if (role === "datastore") {
    buildArgs.DB_ENGINE = params.engine;
    buildArgs.SEED_USERS = String(params.seed.users);
    buildArgs.SEED_INVOICES = String(params.seed.invoices);
  }
  return { role, inputs: [...ROLE_INPUTS[role]], dockerfile: DOCKERFILE, buildArgs };
}

/** How long a node may take to become healthy after it starts (the datastore replays its WAL, the backend migrates). */
const START_PERIOD_SECONDS: Record<Role, number> = { datastore: 30, backend: 60, proxy: 20 };

/** Every node's healthcheck: the role's own drills-health script (roles/<role>/drills-health). */
export function roleHealthcheck(role: Role): HealthcheckSpec {
  return {
    command: ["CMD", "/usr/local/bin/drills-health"],
    intervalSeconds: 2,
    // Seen healthy within half a second of being so; then every 2 s.
    startIntervalSeconds: 0.5,
    timeoutSeconds: 5,
    retries: 30,
    startPeriodSeconds: START_PERIOD_SECONDS[role],
  };
}

/**
 * The readiness budget: how long every renderer waits for a node to become
 * healthy before giving up (Docker's wait timeout, the driver's deadline,
 * the AWS readiness command after cloud-init). One formula for all.
 */
export function readinessSeconds(hc: HealthcheckSpec): number {
  return hc.startPeriodSeconds + hc.retries * hc.intervalSeconds;
}
