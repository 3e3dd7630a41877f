import * as fs from "fs";
import { DrillsError } from "../plan/errors";
import { BrowserRequest, BrowserResult, BrowserStep } from "../faults/types";

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

/** A step for messages and reasons (file contents left out). */
function describeStep(s: BrowserStep): string {
  if ("click" in s) return `click ${s.click}`;
  if ("fill" in s) return `fill ${s.fill}`;
  if ("chooseFile" in s) return `choose ${s.name} (${s.content.length} bytes) in ${s.chooseFile}`;
  if ("waitFor" in s) return `wait for ${s.waitFor}`;
  return `read ${s.read}`;
}

/**
 * Load the front end in headless Chromium, as a user would, and report the
 * state of every section (`data-state` = loaded | error) and the console;
 * then do `steps` on the page, recording what they read and every request.
 */
export async function loadApp(appUrl: string, timeoutMs = 15_000, steps: BrowserStep[] = []): Promise<BrowserResult> {
  // Loaded lazily: only browser checks need it.
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    const messages: string[] = [];
    const requests: BrowserRequest[] = [];
    page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
    page.on("requestfinished", (r) => {
      void r.response().then((res) => requests.push({ method: r.method(), url: r.url(), status: res?.status() ?? 0 }));
    });
    page.on("requestfailed", (r) => requests.push({ method: r.method(), url: r.url(), status: 0, error: r.failure()?.errorText ?? "failed" }));
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
    const texts: Record<string, string> = {};
    const failedSteps: string[] = [];
    for (const s of steps) {
      try {
        if ("click" in s) await page.click(s.click, { timeout: 5000 });
        else if ("fill" in s) await page.fill(s.fill, s.value, { timeout: 5000 });
        else if ("chooseFile" in s) {
          await page.setInputFiles(s.chooseFile, { name: s.name, mimeType: s.mimeType ?? "application/octet-stream", buffer: s.content }, { timeout: 5000 });
        } else if ("waitFor" in s) await page.waitForSelector(s.waitFor, { state: "visible", timeout: s.timeoutMs ?? timeoutMs });
        else {
          const el = await page.$(s.read);
          texts[s.read] = el && (await el.isVisible()) ? ((await el.textContent()) ?? "").trim() : "";
        }
      } catch (e) {
        failedSteps.push(`${describeStep(s)}: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    // Let responses that finished just now land in `requests`.
    await page.waitForTimeout(50);
    return { sections, messages, texts, requests, failedSteps };
  } finally {
    await browser.close();
  }
}
