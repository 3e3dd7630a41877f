/**
 * Run the drills CLI in-process, capturing what it prints and its exit code.
 * The CLI module is loaded on first use, so a test can add a level file
 * before the registry reads the levels folder.
 */
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import("../cli/main");
  let stdout = "";
  let stderr = "";
  const o = jest.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  process.exitCode = 0;
  try {
    await main(["node", "drills", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}
