import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Role } from "../../plan/types";
import { BundleSource, bundleKey, roleBundle } from "./bundle";

export interface SourcesArgs {
  /** Each role's build inputs (a staged build context and its hash); one object per distinct (role, hash). */
  bundles: BundleSource[];
  /** Start of the bucket's name (at most 30 characters are used). */
  bucketPrefix: string;
  tags: Record<string, string>;
}

/**
 * The roles' sources where instances can read them and nobody else can: a
 * private encrypted bucket holding one tar.gz per role bundle, and the
 * instance role (with its policy and instance profile) that may only read
 * them.
 */
export class Sources extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** S3 key of each role's bundle. */
  public readonly keys: Partial<Record<Role, string>> = {};
  /** The bundle objects: an instance must not boot before its object exists. */
  public readonly objects: aws.s3.BucketObjectv2[] = [];
  /** The instance role's policy: it must exist before an instance boots, or the fetch is refused. */
  public readonly policy: aws.iam.RolePolicy;
  public readonly profileName: pulumi.Output<string>;

  constructor(name: string, args: SourcesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("drills:aws:Sources", name, {}, opts);
    const { tags } = args;
    const bucket = new aws.s3.Bucket(`${name}-src`, { bucketPrefix: `${args.bucketPrefix.slice(0, 30)}-`, forceDestroy: true, tags }, { parent: this });
    const block = new aws.s3.BucketPublicAccessBlock(
      `${name}-src`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: bucket },
    );
    const seen = new Set<string>();
    for (const b of args.bundles) {
      const key = bundleKey(b);
      this.keys[b.role] = key;
      if (seen.has(key)) continue;
      seen.add(key);
      this.objects.push(
        new aws.s3.BucketObjectv2(
          `${name}-${b.role}-src`,
          { bucket: bucket.id, key, source: new pulumi.asset.FileAsset(roleBundle(b)), serverSideEncryption: "AES256", tags },
          { parent: bucket, dependsOn: [block] },
        ),
      );
    }

    const role = new aws.iam.Role(
      `${name}-node`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags,
      },
      { parent: this },
    );
    this.policy = new aws.iam.RolePolicy(
      `${name}-node-src`,
      {
        role: role.id,
        policy: bucket.arn.apply((arn) =>
          JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `${arn}/roles/*` }] }),
        ),
      },
      { parent: role },
    );
    const profile = new aws.iam.InstanceProfile(`${name}-node`, { role: role.name, tags }, { parent: role });
    this.bucketName = bucket.bucket;
    this.profileName = profile.name;
    this.registerOutputs({ bucketName: this.bucketName, keys: this.keys, profileName: this.profileName });
  }
}
