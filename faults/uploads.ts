import * as crypto from "crypto";
import { CheckContext } from "./types";

/** Where the backend keeps users' files, and where it writes them first (same filesystem). */
export const UPLOADS = { dir: "/var/lib/drills/uploads", tmpDir: "/var/lib/drills/uploads/.partial" } as const;

/** The largest upload the app accepts (MAX_BYTES in app/backend/routes/uploads.js). */
export const APP_MAX_BYTES = 10 * 1024 * 1024;

export interface TestFile {
  name: string;
  content: Buffer;
  sha256: string;
}

const KINDS = ["scan", "invoice", "contract", "receipt", "statement", "photo"];

/** A file with random content and a random, ordinary name; `size` bytes, or random in [min, max]. */
export function randomFile(min: number, max = min): TestFile {
  const size = min + Math.floor(Math.random() * (max - min + 1));
  const content = crypto.randomBytes(size);
  const kind = KINDS[Math.floor(Math.random() * KINDS.length)];
  const name = `${kind}-${crypto.randomBytes(4).toString("hex")}.pdf`;
  return { name, content, sha256: crypto.createHash("sha256").update(content).digest("hex") };
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export interface UploadOutcome {
  status: number;
  /** The API's error, or the raw answer / transport error. */
  message: string;
  ms: number;
  /** The file is in the uploads directory with exactly the bytes sent. */
  intact: boolean;
}

/** sha256 of a stored upload on the backend ("" when absent); the file is then removed (a check leaves nothing behind). */
export async function storedHashAndRemove(ctx: CheckContext, name: string): Promise<string> {
  const f = `${UPLOADS.dir}/${name}`;
  const r = await ctx.exec("backend", `if [ -f ${f} ]; then sha256sum ${f} | cut -d' ' -f1; rm -f ${f}; fi`);
  return r.stdout.trim();
}

/** POST a file to /api/uploads under `base` (the app's address: through the proxy), then look for it on the backend by content. */
export async function uploadFile(ctx: CheckContext, base: string, file: TestFile, timeoutMs = 30_000): Promise<UploadOutcome> {
  const r = await ctx.http(`${base}api/uploads?name=${encodeURIComponent(file.name)}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: file.content,
    timeoutMs,
  });
  // An HTML error page (the proxy's own) is known by its title.
  const title = /<title>([^<]*)<\/title>/i.exec(r.text)?.[1];
  let message = r.error ?? (title ? `HTML page: ${title}` : r.text.replace(/\s+/g, " ").trim().slice(0, 200));
  try {
    message = (JSON.parse(r.text) as { error?: string }).error ?? message;
  } catch {
    // not JSON (nginx's own pages): keep the raw text
  }
  const stored = await storedHashAndRemove(ctx, file.name);
  return { status: r.status, message: message.split(file.name).join("<name>"), ms: Math.round(r.ms), intact: stored === file.sha256 };
}

/** The app's own upload list through the proxy: its status and how many files it lists (0 unless 200). */
export async function listedUploads(ctx: CheckContext): Promise<{ status: number; listed: number }> {
  const list = await ctx.http(`${ctx.plan.appUrl}api/uploads`, { timeoutMs: 10_000 });
  const listed = list.status === 200 ? (JSON.parse(list.text) as { items: unknown[] }).items.length : 0;
  return { status: list.status, listed };
}

export interface PageUpload {
  /** What the page shows after the click: its error or its success message ("" when nothing). */
  error: string;
  message: string;
  /** Status of the page's POST (0: no answer; -1: the page sent none). */
  status: number;
  requestError?: string;
  intact: boolean;
  failedSteps: string[];
}

/** Upload a file through the page's own control in a real browser, as a user does, and look for it on the backend. */
export async function uploadInBrowser(ctx: CheckContext, file: TestFile): Promise<PageUpload> {
  const b = await ctx.browser(undefined, [
    { chooseFile: "#upload-file", name: file.name, content: file.content },
    { click: "#upload-button" },
    { waitFor: "#upload-message, #upload-error", timeoutMs: 30_000 },
    { read: "#upload-error" },
    { read: "#upload-message" },
  ]);
  const post = (b.requests ?? []).find((r) => r.method === "POST" && r.url.includes("/api/uploads"));
  const stored = await storedHashAndRemove(ctx, file.name);
  const clean = (s: string | undefined) => (s ?? "").split(file.name).join("<name>");
  return {
    error: clean(b.texts?.["#upload-error"]),
    message: clean(b.texts?.["#upload-message"]),
    status: post ? post.status : -1,
    requestError: post?.error,
    intact: stored === file.sha256,
    failedSteps: b.failedSteps ?? [],
  };
}
