import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import Docker from "dockerode";
import { buildBundle, bundleKey } from "../../components/aws/bundle";
import { stageImage } from "../../images/context";
import { fetchSource, renderUserData, SourceLocation } from "../../components/aws/userData";
import { connect, exec, follow } from "../../driver/engine";
import { getLevel, levelIds } from "../../levels";
import { levelPlan } from "../../compose/plan";
import { DEFAULT_BASE_IMAGE, parseOptions } from "../../plan/options";
import { Credentials, ImdsStandIn, S3StandIn } from "./awsStandIns";

jest.setTimeout(10 * 60_000);

/**
 * The user data's S3 fetch, for real short of AWS: the exact lines
 * renderUserData puts in user data, run by Debian 12's own curl (7.88) and
 * bash in a debian:bookworm-slim container, against local stand-ins of
 * IMDSv2 and S3 (tests/docker/awsStandIns.ts). The S3 stand-in checks what
 * S3 checks, the SigV4 signature recomputed with the AWS SDK's signer. The
 * container shares the host's network namespace (--network host) and the
 * stand-ins listen on 127.0.0.1 only: no traffic leaves the machine.
 */
const IMAGE = "drills-test/debian-curl:bookworm";
const DOCKERFILE = [
  `FROM ${DEFAULT_BASE_IMAGE}`,
  "RUN apt-get update -qq \\",
  " && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl python3 ca-certificates \\",
  " && apt-get clean && rm -rf /var/lib/apt/lists/*",
  "",
].join("\n");
const CONTAINER = "drills-test-s3fetch";
const REGION = "eu-west-1";
const BUCKET = "drills-test-src-0123";
const ROLE_NAME = "drills-test-node";
const CREDS: Credentials = { AccessKeyId: "ASIATESTDRILLS000001", SecretAccessKey: "s3cr3t/Key+0123456789abcdefghijklmnopqrst", Token: "FwoGZXIvYXdzEDrillsSessionToken==" };
const WRONG: Credentials = { ...CREDS, SecretAccessKey: "wrong/Key+0123456789abcdefghijklmnopqrstu" };
const DEST = "/tmp/drills-src.tar.gz";

async function ensureImage(docker: Docker): Promise<void> {
  const recipe = crypto.createHash("sha256").update(DOCKERFILE).digest("hex").slice(0, 16);
  const old = await docker.getImage(IMAGE).inspect().catch(() => undefined);
  if (old?.Config.Labels?.["drills.test.recipe"] === recipe) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drills-s3fetch-"));
  fs.writeFileSync(path.join(dir, "Dockerfile"), DOCKERFILE);
  const stream = await docker.buildImage(Readable.from([buildBundle(dir, ["Dockerfile"])]), {
    t: IMAGE,
    labels: { "drills.test": "true", "drills.test.recipe": recipe },
    rm: true,
    forcerm: true,
  });
  await follow(docker, stream);
  fs.rmSync(dir, { recursive: true, force: true });
}

describe("user data fetches its role's sources from S3 with Debian 12's curl (local S3 and IMDSv2 stand-ins)", () => {
  let docker: Docker;
  let s3: S3StandIn;
  let imds: ImdsStandIn;
  let bundle: Buffer;
  let key: string;
  let curlVersion = "";

  const source = (over: Partial<Extract<SourceLocation, { kind: "s3" }>> = {}): Extract<SourceLocation, { kind: "s3" }> => ({
    kind: "s3",
    bucket: BUCKET,
    key,
    region: REGION,
    endpoint: s3.endpoint,
    imdsUrl: imds.url,
    ...over,
  });

  /** Run the fetch lines as user data runs them (bash, set -euo pipefail), then hash what arrived. */
  async function runFetch(lines: string): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
    const t = Date.now();
    const r = await exec(docker, CONTAINER, ["bash", "-c", `rm -f ${DEST}\nset -euo pipefail\n${lines}\nsha256sum ${DEST}`]);
    return { ...r, seconds: (Date.now() - t) / 1000 };
  }

  beforeAll(async () => {
    docker = await connect();
    await ensureImage(docker);
    const plan = levelPlan(getLevel("baseline"), parseOptions({ level: "baseline", stack: "test-s3fetch", target: "aws", allowedCidr: "203.0.113.0/24" }, levelIds()));
    const proxy = stageImage(plan.nodes.find((n) => n.role === "proxy")!.image);
    bundle = buildBundle(proxy.dir, proxy.files);
    key = bundleKey(proxy);
    s3 = new S3StandIn(REGION, BUCKET, { [key]: bundle }, [CREDS]);
    await s3.start();
    imds = new ImdsStandIn(ROLE_NAME, CREDS);
    await imds.start();
    await docker.getContainer(CONTAINER).remove({ force: true }).catch(() => undefined);
    const c = await docker.createContainer({
      name: CONTAINER,
      Image: IMAGE,
      Cmd: ["sleep", "infinity"],
      Labels: { "drills.test": "true" },
      HostConfig: { NetworkMode: "host", AutoRemove: false },
    });
    await c.start();
    curlVersion = (await exec(docker, CONTAINER, ["curl", "--version"])).stdout.split("\n")[0];
    process.stderr.write(`s3Fetch: ${curlVersion}\n`);
  });

  afterAll(async () => {
    await docker?.getContainer(CONTAINER).remove({ force: true }).catch(() => undefined);
    await s3?.stop();
    await imds?.stop();
  });

  it("uses Debian 12's curl 7.88", () => {
    expect(curlVersion).toMatch(/^curl 7\.88\./);
  });

  it("the S3 stand-in accepts a request signed by the AWS SDK's signer, refuses a wrong key or a missing payload hash", async () => {
    const get = async (c: Credentials, payloadHeader: boolean) => {
      const signer = new SignatureV4({
        credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token },
        region: REGION,
        service: "s3",
        sha256: Sha256,
        uriEscapePath: false,
        applyChecksum: false,
      });
      const headers: Record<string, string> = { host: `127.0.0.1:${s3.port}` };
      if (payloadHeader) headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      const signed = (await signer.sign({ method: "GET", protocol: "http:", hostname: "127.0.0.1", port: s3.port, path: `/${BUCKET}/${key}`, query: {}, headers } as never)) as unknown as {
        headers: Record<string, string>;
      };
      return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: s3.port, path: `/${BUCKET}/${key}`, headers: signed.headers }, (res) => {
            const parts: Buffer[] = [];
            res.on("data", (b: Buffer) => parts.push(b));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
          })
          .on("error", reject);
      });
    };
    const ok = await get(CREDS, true);
    expect(ok.status).toBe(200);
    expect(ok.body.equals(bundle)).toBe(true);
    const wrong = await get(WRONG, true);
    expect(wrong.status).toBe(403);
    expect(wrong.body.toString()).toContain("<Code>SignatureDoesNotMatch</Code>");
    const noHash = await get(CREDS, false);
    expect(noHash.status).toBe(400);
    expect(noHash.body.toString()).toContain("x-amz-content-sha256");
  });

  it("is the fetch renderUserData writes into user data", () => {
    const ud = renderUserData({ role: "proxy", env: {}, buildArgs: {}, hosts: {}, volumes: [], ttlHours: 4, source: source() });
    expect(ud).toContain(fetchSource(source()));
    // And by default it talks to the real endpoints.
    const real = fetchSource({ kind: "s3", bucket: BUCKET, key, region: REGION });
    expect(real).toContain("DRILLS_IMDS='http://169.254.169.254'");
    expect(real).toContain(`'https://${BUCKET}.s3.${REGION}.amazonaws.com/${key}'`);
  });

  it("fetches the bundle: waits out IMDS 404s (new instance profile) and an S3 error, then gets the exact bytes", async () => {
    imds.notYet = 3;
    s3.failFirst = 1;
    const s3Before = s3.log.length;
    const imdsBefore = imds.log.length;
    const r = await runFetch(fetchSource(source({ timeoutSeconds: 120 })));
    const imdsLog = imds.log.slice(imdsBefore).map((l) => `${l.code} ${l.path}`);
    const s3Log = s3.log.slice(s3Before).map((l) => `${l.status} ${l.code}`);
    process.stderr.write(`s3Fetch: exit ${r.code} in ${r.seconds.toFixed(1)} s\n  imds: ${imdsLog.join("\n        ")}\n  s3: ${s3Log.join(", ")}\n${r.stderr}`);
    expect(r.code).toBe(0);
    expect(r.stdout.split(" ")[0]).toBe(crypto.createHash("sha256").update(bundle).digest("hex"));
    // Three 404s while the role is not there yet, then the role and its credentials.
    expect(imdsLog.filter((l) => l.startsWith("404 GET /latest/meta-data/iam/security-credentials/"))).toHaveLength(3);
    expect(imdsLog.slice(-2)).toEqual([
      "200 GET /latest/meta-data/iam/security-credentials/",
      `200 GET /latest/meta-data/iam/security-credentials/${ROLE_NAME}`,
    ]);
    expect(s3Log).toEqual(["503 SlowDown", "200 OK"]);
    // curl signed the payload hash and the session token along with host and date.
    const signed = s3.log[s3.log.length - 1].signedHeaders;
    process.stderr.write(`s3Fetch: curl's SignedHeaders=${signed}\n`);
    expect(signed?.split(";")).toEqual(expect.arrayContaining(["host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"]));
    const ls = await exec(docker, CONTAINER, ["tar", "-tzf", DEST]);
    expect(ls.stdout).toContain("roles/proxy/provision.sh");
  });

  it("without the x-amz-content-sha256 header (the old user data), S3 refuses it: 400", async () => {
    const old = fetchSource(source({ timeoutSeconds: 4 }));
    const withoutHeader = old.replace(" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD'", "");
    expect(withoutHeader).not.toBe(old);
    const before = s3.log.length;
    const r = await runFetch(withoutHeader);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("could not fetch the role's sources in 4 s");
    const codes = new Set(s3.log.slice(before).map((l) => `${l.status} ${l.code}`));
    expect([...codes]).toEqual(["400 InvalidRequest"]);
  });

  it("signed with a wrong secret key, S3 refuses it: 403 SignatureDoesNotMatch", async () => {
    const wrongImds = new ImdsStandIn(ROLE_NAME, WRONG);
    await wrongImds.start();
    try {
      const before = s3.log.length;
      const r = await runFetch(fetchSource(source({ imdsUrl: wrongImds.url, timeoutSeconds: 4 })));
      expect(r.code).not.toBe(0);
      const codes = new Set(s3.log.slice(before).map((l) => `${l.status} ${l.code}`));
      expect([...codes]).toEqual(["403 SignatureDoesNotMatch"]);
    } finally {
      await wrongImds.stop();
    }
  });

  it("gives up after its deadline when no credentials ever come", async () => {
    imds.notYet = 1_000_000;
    try {
      const r = await runFetch(fetchSource(source({ timeoutSeconds: 6 })));
      process.stderr.write(`s3Fetch: no credentials: exit ${r.code} after ${r.seconds.toFixed(1)} s\n`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("could not fetch the role's sources in 6 s");
      expect(r.seconds).toBeLessThan(6 + 30);
    } finally {
      imds.notYet = 0;
    }
  });
});
