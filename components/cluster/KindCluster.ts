import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { check, ContainerEngine, containerEngine } from "../../config/rules";
import { clusterIdentity } from "./identity";
import { KindConfigArgs, kindClusterShape, kindConfigProblems, renderKindConfig } from "./kindConfig";
import { KindProviderInputs, kindProvider } from "./kindProvider";
import { ClusterConnection } from "./types";

/** Settings of a {@link KindCluster}: the kind config's, plus the engine, where the kind CLI is and what it loads. */
export interface KindClusterArgs extends KindConfigArgs {
    /**
     * The container engine kind runs the nodes with (`KIND_EXPERIMENTAL_PROVIDER`); changing it replaces the
     * cluster, which then lives in the other engine. Default `docker`.
     */
    readonly engine?: ContainerEngine;
    /** The kind binary: a name looked up on PATH, or a path. Default `kind`. */
    readonly kindPath?: string;
    /**
     * Images in the engine's local store to load into every node (the Slurm image, a `localhost/` MariaDB image:
     * what no registry serves). Default none.
     */
    readonly images?: readonly string[];
}

/** The kind cluster itself, managed by {@link kindProvider}; its outputs are the provider's outputs. */
class KindClusterResource extends pulumi.dynamic.Resource {
    declare readonly clusterName: pulumi.Output<string>;
    declare readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, inputs: KindProviderInputs, opts: pulumi.CustomResourceOptions) {
        // Outputs the provider adds must be named here (as undefined) for Pulumi to expose them.
        super(kindProvider, name, { ...inputs, kubeconfig: undefined }, opts);
    }
}

/**
 * A local Kubernetes cluster in Docker or Podman (kind): one control-plane node that publishes the port mappings,
 * and worker nodes of which the first `gpuWorkers` see the host's GPUs (Docker only). Needs the kind CLI and a
 * working engine.
 */
export class KindCluster extends pulumi.ComponentResource implements ClusterConnection {
    /** The kind cluster's name. */
    readonly clusterName: pulumi.Output<string>;
    /** kubeconfig for the cluster's API server on the host (secret). */
    readonly kubeconfig: pulumi.Output<string>;
    /**
     * Which cluster this is: a hash of its CA ({@link clusterIdentity}), new whenever the cluster is made anew under
     * the same name. Not secret (the CA certificate is public).
     */
    readonly identity: pulumi.Output<string>;
    /** The provider every Kubernetes resource on this cluster uses. */
    readonly provider: k8s.Provider;

    constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): bad arguments must not leave a half-registered component behind.
        validate(name, args);
        super("hyperscaler:cluster:KindCluster", name, {}, opts);
        const kindPath = args.kindPath ?? "kind";

        const cluster = new KindClusterResource(
            name,
            {
                clusterName: args.clusterName,
                engine: args.engine ?? "docker",
                configYaml: renderKindConfig(args),
                nodeImage: args.nodeImage,
                kindPath,
                images: [...(args.images ?? [])],
                shape: kindClusterShape(args),
            },
            { parent: this, additionalSecretOutputs: ["kubeconfig"] },
        );

        this.clusterName = cluster.clusterName;
        this.kubeconfig = pulumi.secret(cluster.kubeconfig);
        // A hash of the public CA certificate: unsecret, or every input derived from it would be a secret too.
        this.identity = pulumi.unsecret(this.kubeconfig.apply(clusterIdentity));
        this.provider = new k8s.Provider(
            name,
            // No deleteUnreachable here: it would make every refresh during an outage (Docker restarting, the API
            // server still starting) drop live objects from state. `npm run up|destroy` sets
            // PULUMI_K8S_DELETE_UNREACHABLE only when kind says the cluster is gone (scripts/lib/action.ts).
            { kubeconfig: this.kubeconfig },
            { parent: this },
        );

        this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig });
    }
}

function validate(name: string, args: KindClusterArgs): void {
    const problems = kindConfigProblems(args);
    if (args.engine !== undefined) problems.push(...check("engine", args.engine, containerEngine));
    if (args.kindPath !== undefined && (typeof args.kindPath !== "string" || args.kindPath.trim() === "")) {
        problems.push(
            `kindPath = ${JSON.stringify(args.kindPath)}: must be the kind binary's name on PATH or its path`,
        );
    }
    if (problems.length > 0) {
        throw new Error(`KindCluster "${name}" has invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}
