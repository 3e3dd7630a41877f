import { connect } from "../../driver/engine";
import { ensureBaseImage } from "../../driver/images";
import { DEFAULT_BASE_IMAGE } from "../../plan/options";

/**
 * The real-Docker tests need an engine and the base image. `.ci/run` starts
 * dockerd; here we only check and, where no registry answers, build the base
 * image with debootstrap (scripts/base-image.sh).
 */
export default async function globalSetup(): Promise<void> {
  const docker = await connect();
  await ensureBaseImage(docker, DEFAULT_BASE_IMAGE, (l) => process.stderr.write(`[setup] ${l}\n`));
}
