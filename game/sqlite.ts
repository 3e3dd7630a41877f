import { DrillsError } from "../plan/errors";

/** The part of better-sqlite3's API the record uses (typed here: the package ships no types). */
export interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): Record<string, unknown> | undefined;
  all(...params: unknown[]): Array<Record<string, unknown>>;
}
export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string, opts?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { immediate: (...args: A) => R } & ((...args: A) => R);
  close(): void;
}
type DatabaseCtor = new (file: string, opts?: { timeout?: number; fileMustExist?: boolean }) => Database;

/** Load the native binding, or say how to get it. */
export function sqlite(): DatabaseCtor {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("better-sqlite3") as DatabaseCtor;
  } catch (e) {
    throw new DrillsError(
      `The game's record needs the better-sqlite3 package (a native SQLite binding), which did not load: ${(e as Error).message.split("\n")[0]}. ` +
        "Run `npm ci` in the drills folder (it builds the binding for this Node).",
    );
  }
}
