import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle, bundleKey } from "../../components/aws/bundle";

/** The AWS role bundle is built in Node: the same bytes every time, exactly the files asked for. */
describe("role bundle (reproducible tar.gz)", () => {
  let dir: string;
  const files = ["roles/proxy/provision.sh", "app/frontend/index.html", "roles/common/a b.txt", `deep/${"d".repeat(90)}/${"f".repeat(60)}.txt`];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "drills-bundle-"));
    files.forEach((f, i) => {
      fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), `file ${i}\n`.repeat(i * 100 + 1));
    });
    fs.chmodSync(path.join(dir, files[0]), 0o755);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is byte-identical across builds, whatever the files' times or listing order", () => {
    const a = buildBundle(dir, files);
    fs.utimesSync(path.join(dir, files[1]), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const b = buildBundle(dir, [...files].reverse());
    expect(crypto.createHash("sha256").update(a).digest("hex")).toBe(crypto.createHash("sha256").update(b).digest("hex"));
  });

  it("lists exactly the files, sorted, owner 0, mtime 0, the execute bit kept (read by the system's tar)", () => {
    const out = path.join(dir, "..", `${path.basename(dir)}.tar.gz`);
    fs.writeFileSync(out, buildBundle(dir, files));
    const ls = spawnSync("tar", ["-tvzf", out, "--numeric-owner", "--utc"]);
    expect(ls.status).toBe(0);
    const lines = ls.stdout.toString().trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/).slice(5).join(" "))).toEqual([...files].sort());
    for (const l of lines) expect(l).toMatch(/^-rw[-x]r-[-x]r-[-x] 0\/0 .* 1970-01-01 00:00 /);
    expect(lines.find((l) => l.endsWith(files[0]))).toMatch(/^-rwxr-xr-x/);
    const x = fs.mkdtempSync(path.join(os.tmpdir(), "drills-unbundle-"));
    expect(spawnSync("tar", ["-xzf", out, "-C", x]).status).toBe(0);
    for (const f of files) expect(fs.readFileSync(path.join(x, f)).equals(fs.readFileSync(path.join(dir, f)))).toBe(true);
    fs.rmSync(x, { recursive: true, force: true });
    fs.rmSync(out);
  });

  it("is named by role and content hash", () => {
    expect(bundleKey({ role: "proxy", hash: "0123456789abcdef" })).toBe("roles/proxy-0123456789abcdef.tar.gz");
  });
});
