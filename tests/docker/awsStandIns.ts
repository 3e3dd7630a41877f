import * as http from "http";
import { AddressInfo } from "net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/**
 * Local stand-ins for the two AWS endpoints an instance's user data talks
 * to, listening on 127.0.0.1 only: S3 (GET of one object, SigV4 checked as
 * S3 checks it, the signature recomputed with the AWS SDK for JavaScript's
 * own signer) and the instance metadata service (IMDSv2).
 */

export interface Credentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
}

export interface Served {
  status: number;
  code: string;
  path: string;
  /** S3: the client's SignedHeaders list. */
  signedHeaders?: string;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const xml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

/** "20240101T120000Z" -> Date */
function amzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

export class S3StandIn {
  server!: http.Server;
  port = 0;
  readonly log: Served[] = [];
  /** Answer the first N well-signed requests 503 SlowDown (S3 does, and so does IAM propagation with 403). */
  failFirst = 0;

  constructor(
    readonly region: string,
    readonly bucket: string,
    readonly objects: Record<string, Buffer>,
    readonly credentials: Credentials[],
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.handle(req)
        .then(({ status, code, body }) => {
          const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(req.headers.authorization ?? ""))?.[1];
          this.log.push({ status, code, path: req.url ?? "", signedHeaders });
          res.writeHead(status, { "content-type": status === 200 ? "application/gzip" : "application/xml" });
          res.end(body);
        })
        .catch((e: Error) => {
          this.log.push({ status: 500, code: "InternalError", path: req.url ?? "" });
          res.writeHead(500);
          res.end(xml("InternalError", e.message));
        });
    });
    this.port = await listen(this.server);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage): Promise<{ status: number; code: string; body: Buffer | string }> {
    const deny = (status: number, code: string, message: string) => ({ status, code, body: xml(code, message) });
    if (req.method !== "GET") return deny(405, "MethodNotAllowed", "only GET here");
    const h = req.headers;
    const auth = String(h.authorization ?? "");
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return deny(403, "AccessDenied", "no SigV4 Authorization header");
    const [, keyId, day, region, service, signedHeaders, signature] = m;
    // What S3 checks, in its order: the payload hash header, the date, the scope, the key, the token, the signature.
    if (h["x-amz-content-sha256"] === undefined) {
      return deny(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
    }
    const date = amzDate(String(h["x-amz-date"] ?? ""));
    if (!date || Math.abs(date.getTime() - Date.now()) > 15 * 60_000) return deny(403, "RequestTimeTooSkewed", "bad or skewed x-amz-date");
    if (day !== String(h["x-amz-date"]).slice(0, 8) || region !== this.region || service !== "s3") {
      return deny(400, "AuthorizationHeaderMalformed", `bad credential scope ${day}/${region}/${service}`);
    }
    const cred = this.credentials.find((c) => c.AccessKeyId === keyId);
    if (!cred) return deny(403, "InvalidAccessKeyId", "unknown access key");
    if (h["x-amz-security-token"] !== cred.Token) return deny(403, "InvalidToken", "missing or wrong x-amz-security-token");
    const names = signedHeaders.split(";");
    if (!names.includes("host")) return deny(403, "AccessDenied", "host is not signed");
    // Recompute the signature over exactly the headers the client signed.
    const headers: Record<string, string> = {};
    for (const n of names) {
      const v = h[n];
      if (v === undefined) return deny(403, "SignatureDoesNotMatch", `signed header ${n} missing`);
      headers[n] = Array.isArray(v) ? v.join(",") : v;
    }
    const url = new URL(req.url ?? "/", "http://placeholder");
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const signer = new SignatureV4({
      credentials: { accessKeyId: cred.AccessKeyId, secretAccessKey: cred.SecretAccessKey },
      region: this.region,
      service: "s3",
      sha256: Sha256,
      uriEscapePath: false, // S3 does not double-encode the path
      applyChecksum: false,
    });
    const request = { method: "GET", protocol: "http:", hostname: "127.0.0.1", port: this.port, path: url.pathname, query, headers };
    const signed = (await signer.sign(request as never, { signingDate: date, signableHeaders: new Set(names) })) as unknown as { headers: Record<string, string> };
    const expected = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})/.exec(signed.headers.authorization);
    if (!expected || expected[1] !== signedHeaders || expected[2] !== signature) {
      return deny(403, "SignatureDoesNotMatch", `The request signature we calculated does not match the signature you provided (${expected?.[1]})`);
    }
    if (this.failFirst > 0) {
      this.failFirst--;
      return deny(503, "SlowDown", "Please reduce your request rate.");
    }
    const prefix = `/${this.bucket}/`;
    const key = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : "";
    const body = this.objects[key];
    if (!body) return deny(404, "NoSuchKey", "The specified key does not exist.");
    return { status: 200, code: "OK", body };
  }
}

/** IMDSv2: a token by PUT, then the role name and its credentials by GET with the token. */
export class ImdsStandIn {
  server!: http.Server;
  port = 0;
  readonly log: Served[] = [];
  private readonly token = "imds-token-" + Math.random().toString(36).slice(2);

  /**
   * `notYet`: credential requests answered 404 before the role appears (a
   * new instance profile takes a while to reach the instance).
   */
  constructor(
    readonly roleName: string,
    readonly credentials: Credentials,
    public notYet = 0,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const { status, body } = this.handle(req);
      this.log.push({ status, code: String(status), path: `${req.method} ${req.url}` });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(body);
    });
    this.port = await listen(this.server);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage): { status: number; body: string } {
    if (req.url === "/latest/api/token") {
      if (req.method !== "PUT") return { status: 405, body: "" };
      if (!req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) return { status: 400, body: "" };
      return { status: 200, body: this.token };
    }
    if (req.headers["x-aws-ec2-metadata-token"] !== this.token) return { status: 401, body: "" };
    const base = "/latest/meta-data/iam/security-credentials/";
    if (req.method !== "GET" || !req.url?.startsWith(base)) return { status: 404, body: "" };
    if (this.notYet > 0) {
      this.notYet--;
      return { status: 404, body: "" };
    }
    if (req.url === base) return { status: 200, body: this.roleName };
    if (req.url === base + this.roleName) {
      return {
        status: 200,
        body: JSON.stringify({
          Code: "Success",
          LastUpdated: new Date().toISOString(),
          Type: "AWS-HMAC",
          ...this.credentials,
          Expiration: new Date(Date.now() + 3600_000).toISOString(),
        }),
      };
    }
    return { status: 404, body: "" };
  }
}
