import { DrillsError } from "../plan/errors";

/** Validate one numeric fault parameter; clear error naming fault, param and range. */
export function intParam(fault: string, name: string, value: number | undefined, def: number, min: number, max: number): number {
  const v = value ?? def;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new DrillsError(`Fault ${fault}: parameter ${name} is ${String(value)}; it must be a whole number from ${min} to ${max} (default ${def}).`);
  }
  return v;
}

/** Validate a string parameter against a pattern. */
export function stringParam(fault: string, name: string, value: string | undefined, def: string, re: RegExp, what: string): string {
  const v = value ?? def;
  if (!re.test(v)) throw new DrillsError(`Fault ${fault}: parameter ${name} is "${v}"; it must be ${what} (default "${def}").`);
  return v;
}
