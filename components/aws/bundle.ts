import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { repoRoot } from "../../images/repo";
import { Role } from "../../plan/types";

/**
 * What a role bundle is made of: a directory, the files under it (relative,
 * at their repository paths) and a content hash naming the result. This is
 * the shape of a staged build context (images/context.ts StagedImage), so a
 * bundle and the Docker image are built from the same files.
 */
export interface BundleSource {
  role: Role;
  /** Content hash of the files and build args; names the bundle (and the S3 key). */
  hash: string;
  /** Absolute directory the files are relative to. */
  dir: string;
  /** Relative paths (POSIX separators), at their repository-relative paths. */
  files: string[];
}

/** S3 key of a role bundle. */
export const bundleKey = (s: { role: Role; hash: string }): string => `roles/${s.role}-${s.hash}.tar.gz`;

const BLOCK = 512;

/** One ustar header: owner 0:0, mtime 0, mode 0644 or 0755 (any execute bit). */
function header(name: string, size: number, mode: number): Buffer {
  let prefix = "";
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits a long path at a slash: prefix (155) / name (100).
    const cut = name.lastIndexOf("/", 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`bundle: path too long for ustar: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  const octal = (n: number, width: number): string => n.toString(8).padStart(width - 1, "0") + "\0";
  const h = Buffer.alloc(BLOCK);
  h.write(base, 0, 100, "utf8");
  h.write(octal(mode, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(0, 12), 136, "ascii"); // mtime: the epoch, so the bytes depend on content only
  h.write("        ", 148, "ascii");
  h.write("0", 156, "ascii"); // regular file
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return h;
}

/**
 * A reproducible tar.gz of `files` under `dir`, built in Node (no system tar:
 * the same bytes on Linux and macOS): ustar, sorted paths, regular files
 * only, owner 0:0, mtime 0, mode 0644 or 0755; gzip with no name or time and
 * the OS byte fixed to Unix.
 */
export function buildBundle(dir: string, files: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const rel of [...new Set(files)].sort()) {
    if (path.isAbsolute(rel) || rel.split("/").includes("..")) throw new Error(`bundle: ${rel} is not a relative path inside ${dir}`);
    const abs = path.join(dir, rel);
    const st = fs.statSync(abs);
    if (!st.isFile()) throw new Error(`bundle: ${rel} is not a regular file`);
    const data = fs.readFileSync(abs);
    parts.push(header(rel, data.length, st.mode & 0o111 ? 0o755 : 0o644), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const gz = zlib.gzipSync(Buffer.concat(parts), { level: 9 });
  gz[9] = 3; // OS: Unix, whatever zlib was built for
  return gz;
}

/**
 * The role's sources as a reproducible tar.gz: exactly the files its Docker
 * build reads, at the same repository paths, so an EC2 instance runs the
 * same provisioning script on the same files. Written once under
 * .drills/bundles, named by the content hash; returns its path.
 */
export function roleBundle(src: BundleSource): string {
  const out = path.join(repoRoot(), ".drills", "bundles");
  const file = path.join(out, `${src.role}-${src.hash}.tar.gz`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(out, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, buildBundle(src.dir, src.files));
  fs.renameSync(tmp, file);
  return file;
}
