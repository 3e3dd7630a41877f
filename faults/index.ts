export { applyFaults, changes, settings } from "./compose";
export * from "./types";
