import * as pulumi from "@pulumi/pulumi";
import type Docker from "dockerode";
import * as path from "path";
import { repoRoot } from "../../images/repo";

/**
 * The Docker target's resources as Pulumi dynamic resources, run by the same
 * code as the CLI's deployer (driver/), so both renderers create identical
 * containers. Dynamic providers run in a Node process of their own without
 * ts-node, so they load the compiled driver from dist/ (`npm run build`, which
 * `npm ci` runs). They need no provider plugin: Pulumi runs them itself.
 *
 * Each provider is self-contained (only DIST and require are captured), as
 * Pulumi serializes it into the stack's state.
 */
const DIST = path.join(repoRoot(), "dist");

type Engine = typeof import("../../driver/engine");
type Deployer = typeof import("../../driver/deployer");
type Images = typeof import("../../driver/images");

/** Replace on any change of these inputs, deleting first: names are fixed, two cannot coexist. */
function replaceOnChange(keys: string[]): pulumi.dynamic.ResourceProvider["diff"] {
  return async (_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) => {
    const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: true };
  };
}

// ---------------------------------------------------------------- network

export interface NetworkInputs {
  name: string;
  labels: Record<string, string>;
  stack: string;
}

const networkProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: NetworkInputs) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const deployer = require(`${DIST}/driver/deployer.js`) as Deployer;
    const docker = await engine.connect();
    // The first resource of a stack: refuse a stack `drills up` started.
    await deployer.requireDeployer(docker, inputs.stack, "pulumi");
    const n = await docker.createNetwork({ Name: inputs.name, Driver: "bridge", Labels: inputs.labels, CheckDuplicate: true });
    return { id: n.id, outs: inputs };
  },
  async delete(id: string) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const docker = await engine.connect();
    await docker.getNetwork(id).remove().catch(engine.ignoreGone);
  },
  diff: replaceOnChange(["name", "labels"]),
};

/** The level's bridge network. */
export class Network extends pulumi.dynamic.Resource {
  constructor(name: string, args: pulumi.Inputs & { [K in keyof NetworkInputs]: pulumi.Input<NetworkInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(networkProvider, name, args, { deleteBeforeReplace: true, ...opts }, "drills-network");
  }
}

// ----------------------------------------------------------------- volume

export interface VolumeInputs {
  name: string;
  labels: Record<string, string>;
  /** The plan's volume (name, cap, filesystem); the host decides ext4 or its tmpfs fallback at create. */
  volume: import("../../plan/types").VolumeSpec;
}

/** Exported for the real-engine teardown test (tests/docker/ext4Volume.test.ts). */
export const volumeProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: VolumeInputs) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const deployer = require(`${DIST}/driver/deployer.js`) as Deployer;
    const docker = await engine.connect();
    // Docker's create returns an existing volume of that name as if new: never adopt someone else's.
    const existing = await docker.getVolume(inputs.name).inspect().catch(() => undefined);
    if (existing) throw new Error(`a volume named ${inputs.name} already exists on this engine (left by another deployment?); remove it, then run again`);
    // The CLI's very code: an ext4 volume gets its image and loop device on the host first.
    const made = await deployer.createVolume(docker, { ...inputs.volume, name: inputs.name }, inputs.labels);
    return { id: inputs.name, outs: { ...inputs, filesystem: made.filesystem ?? "", driverOpts: made.driverOpts ?? {} } };
  },
  async delete(id: string) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const deployer = require(`${DIST}/driver/deployer.js`) as Deployer;
    // The volume, then (ext4) its loop device and image file: nothing left on the host.
    await deployer.removeVolume(await engine.connect(), id);
  },
  diff: replaceOnChange(["name", "labels", "volume"]),
};

/** A volume owned by the level (a capped one is its own ext4 filesystem, or a size-limited tmpfs). */
export class Volume extends pulumi.dynamic.Resource {
  /** What the host made: "ext4", "tmpfs", or "" for a plain volume. */
  declare public readonly filesystem: pulumi.Output<string>;
  constructor(name: string, args: { [K in keyof VolumeInputs]: pulumi.Input<VolumeInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(volumeProvider, name, { ...args, filesystem: undefined, driverOpts: undefined }, { deleteBeforeReplace: true, ...opts }, "drills-volume");
  }
}

// ------------------------------------------------------------------ image

export interface ImageInputs {
  /** The staged build context (images/context.ts); its tag is a content hash. */
  staged: import("../../images/context").StagedImage;
}

const imageProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ImageInputs) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const images = require(`${DIST}/driver/images.js`) as Images;
    const docker = await engine.connect();
    const base = inputs.staged.buildArgs.BASE_IMAGE;
    // Build output stays in the provider; a failure throws with its last lines.
    const log = (): void => undefined;
    if (base) await images.ensureBaseImage(docker, base, log);
    await images.buildImage(docker, inputs.staged, log);
    return { id: inputs.staged.tag, outs: inputs };
  },
  // Images are shared by every level that uses the same inputs: kept locally, as docker.Image's keepLocally.
  async delete() {},
  // A new tag is a new image; the old one stays for whoever else uses it.
  async diff(_id: string, olds: ImageInputs, news: ImageInputs) {
    const changed = olds.staged.tag !== news.staged.tag;
    return { changes: changed, replaces: changed ? ["staged"] : [] };
  },
};

/** A role image built locally from its staged context, never pushed. */
export class Image extends pulumi.dynamic.Resource {
  declare public readonly tag: pulumi.Output<string>;
  constructor(name: string, args: ImageInputs, opts?: pulumi.CustomResourceOptions) {
    // The tag is a content hash, known before the build.
    super(imageProvider, name, { ...args, tag: args.staged.tag }, opts, "drills-image");
  }
}

// -------------------------------------------------------------- container

export interface ContainerInputs {
  /** Exactly what the CLI's deployer sends to Docker (driver/deployer.ts createOptions). */
  options: Docker.ContainerCreateOptions;
  /** Name, role and healthcheck: what waiting until healthy needs. */
  node: import("../../driver/deployer").NodeRef;
}

const containerProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ContainerInputs) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const deployer = require(`${DIST}/driver/deployer.js`) as Deployer;
    const docker = await engine.connect();
    // Healthy within the plan's readiness budget, or an error with the node's last log lines.
    const id = await deployer.startNode(docker, inputs.options, inputs.node);
    return { id, outs: inputs };
  },
  async delete(id: string) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const docker = await engine.connect();
    await docker.getContainer(id).remove({ force: true, v: true }).catch(engine.ignoreGone);
  },
  diff: replaceOnChange(["options", "node"]),
};

/** A node's container, created, started and waited on until healthy. */
export class Container extends pulumi.dynamic.Resource {
  constructor(name: string, args: ContainerInputs, opts?: pulumi.CustomResourceOptions) {
    super(containerProvider, name, args, { deleteBeforeReplace: true, ...opts }, "drills-container");
  }
}

// ----------------------------------------------------------------- action

export interface ActionInputs {
  /** The container the script runs in, and its id: a replaced container gets its actions again. */
  container: string;
  containerId: string;
  script: string;
}

const actionProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ActionInputs) {
    const engine = require(`${DIST}/driver/engine.js`) as Engine;
    const docker = await engine.connect();
    const r = await engine.exec(docker, inputs.container, ["bash", "-s"], inputs.script);
    if (r.code !== 0) throw new Error(`a setup step on ${inputs.container} failed (exit ${r.code}):\n${r.stderr || r.stdout}`);
    return { id: `${inputs.containerId.slice(0, 12)}-${Date.now()}`, outs: inputs };
  },
  // What an action did lives in its container, which goes with it.
  async delete() {},
  diff: replaceOnChange(["container", "containerId", "script"]),
};

/** A script run once in a node (a fault action), again whenever the node is replaced. */
export class Action extends pulumi.dynamic.Resource {
  constructor(name: string, args: { [K in keyof ActionInputs]: pulumi.Input<ActionInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(actionProvider, name, args, opts, "drills-action");
  }
}

// ---------------------------------------------------------------- key pair

type SshKeys = typeof import("../../runtime/sshKeys");

export interface KeyPairInputs {
  /** The key's comment (the stack's name); a new comment makes a new key. */
  comment: string;
}

const keyPairProvider: pulumi.dynamic.ResourceProvider = {
  // Made by our own code (ssh2's generator), not @pulumi/tls: the Docker target needs no provider plugin.
  async create(inputs: KeyPairInputs) {
    const keys = require(`${DIST}/runtime/sshKeys.js`) as SshKeys;
    const pair = keys.generatePlayerKey(inputs.comment);
    const crypto = require("crypto") as typeof import("crypto");
    return { id: `key-${crypto.randomBytes(6).toString("hex")}`, outs: { ...inputs, ...pair } };
  },
  async delete() {},
  diff: replaceOnChange(["comment"]),
};

/** The stack's SSH key pair for the player (state holds the private half as a secret). */
export class KeyPair extends pulumi.dynamic.Resource {
  declare public readonly privateKey: pulumi.Output<string>;
  declare public readonly publicKey: pulumi.Output<string>;
  constructor(name: string, args: { [K in keyof KeyPairInputs]: pulumi.Input<KeyPairInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(keyPairProvider, name, { ...args, privateKey: undefined, publicKey: undefined }, { ...opts, additionalSecretOutputs: ["privateKey"] }, "drills-key-pair");
  }
}

/** The stack's SSH key for the player's user on a node (driver/playerKey.ts), again whenever the node is replaced. */
export class PlayerKey extends pulumi.dynamic.Resource {
  constructor(name: string, args: { [K in keyof ActionInputs]: pulumi.Input<ActionInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(actionProvider, name, args, opts, "drills-player-key");
  }
}
