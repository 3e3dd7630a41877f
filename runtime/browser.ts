import * as fs from "fs";
import { DrillsError } from "../plan/errors";
import { BrowserResult } from "../faults/types";

/** Debian's Chromium by default; DRILLS_CHROMIUM points elsewhere. */
export function chromiumPath(): string {
  const p = process.env.DRILLS_CHROMIUM ?? "/usr/bin/chromium";
  if (!fs.existsSync(p)) {
    throw new DrillsError(
      `This check needs a headless Chromium and none is at ${p}. Install it (\`sudo apt-get install chromium\`) ` +
        "or set DRILLS_CHROMIUM to a Chromium or Chrome binary.",
    );
  }
  return p;
}

/**
 * Load the front end in headless Chromium, as a user would, and report the
 * state of every section (`data-state` = loaded | error) and the console.
 */
export async function loadApp(appUrl: string, timeoutMs = 15_000): Promise<BrowserResult> {
  // Loaded lazily: only browser checks need it.
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    const messages: string[] = [];
    page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
    await page.goto(appUrl, { timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    let sections: Record<string, string> = {};
    for (;;) {
      sections = await page.$$eval("section[id]", (els) =>
        Object.fromEntries(els.map((e) => [e.id, e.getAttribute("data-state") ?? "pending"])),
      );
      // Sections start as "loading"; only loaded or error is an outcome.
      const pending = Object.values(sections).some((s) => s !== "loaded" && s !== "error");
      if (!pending || Date.now() > deadline) break;
      await page.waitForTimeout(100);
    }
    for (const k of Object.keys(sections)) if (sections[k] !== "loaded" && sections[k] !== "error") sections[k] = "timeout";
    return { sections, messages };
  } finally {
    await browser.close();
  }
}
