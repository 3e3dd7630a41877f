import * as pulumi from "@pulumi/pulumi";

/** A resource the program registered, with the inputs it gave. */
export interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface MockOptions {
  /** Extra output state a resource type has (ids, IPs) that inputs do not give. */
  state?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;
  /** Results of provider functions (getAmi, getVpc, ...), by token; a function gets the call's inputs. */
  calls?: Record<string, Record<string, unknown> | ((inputs: Record<string, unknown>) => Record<string, unknown>)>;
}

/**
 * Install Pulumi mocks that record every resource. Call before importing any
 * component, so its resources register against the mocks.
 */
export function recordResources(stack: string, opts: MockOptions = {}): Created[] {
  const created: Created[] = [];
  pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => {
        created.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        // A generated key's halves, which the provider would compute.
        const key =
          args.type === "tls:index/privateKey:PrivateKey"
            ? { privateKeyOpenssh: "PRIVATE", publicKeyOpenssh: "ssh-ed25519 AAAA" }
            : args.type.includes("drills-key-pair")
              ? { privateKey: "PRIVATE", publicKey: "ssh-ed25519 AAAA" }
              : {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...key, ...(opts.state?.(args.type, args.name, args.inputs as Record<string, unknown>) ?? {}) } };
      },
      call: (args: pulumi.runtime.MockCallArgs) => {
        const c = opts.calls?.[args.token];
        return typeof c === "function" ? c(args.inputs as Record<string, unknown>) : (c ?? args.inputs);
      },
    },
    "drills",
    stack,
    false,
  );
  return created;
}

/** The value of an output, once resolved. */
export const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

/** Types of the Docker target's resources (dynamic resources: components/docker/resources.ts). */
export const T = {
  network: "pulumi-nodejs:dynamic/drills-network:Resource",
  volume: "pulumi-nodejs:dynamic/drills-volume:Resource",
  image: "pulumi-nodejs:dynamic/drills-image:Resource",
  container: "pulumi-nodejs:dynamic/drills-container:Resource",
  action: "pulumi-nodejs:dynamic/drills-action:Resource",
  playerKey: "pulumi-nodejs:dynamic/drills-player-key:Resource",
} as const;
