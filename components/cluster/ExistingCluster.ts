import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConnection } from "./types";

/** Which existing cluster to use. */
export interface ExistingClusterArgs {
    /**
     * kubeconfig file, passed to the provider as is. Default: the provider's own lookup (`$KUBECONFIG`, then
     * `~/.kube/config`).
     */
    readonly kubeconfigPath?: string;
    /** Context in that kubeconfig. Default: its current context. */
    readonly context?: string;
}

/** A cluster that already exists: only a Kubernetes provider pointing at it; nothing is created or deleted. */
export class ExistingCluster extends pulumi.ComponentResource implements ClusterConnection {
    /** The context's name, or `current` when the kubeconfig's current context is used. */
    readonly clusterName: pulumi.Output<string>;
    /** Always undefined: the user already has this cluster's kubeconfig; the stack must not copy its credentials. */
    readonly kubeconfig: undefined = undefined;
    /** The provider every Kubernetes resource on this cluster uses. */
    readonly provider: k8s.Provider;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): bad arguments must not leave a half-registered component behind.
        validate(name, args);
        super("hyperscaler:cluster:ExistingCluster", name, {}, opts);

        this.clusterName = pulumi.output(args.context ?? "current");
        this.provider = new k8s.Provider(
            name,
            { kubeconfig: args.kubeconfigPath, context: args.context },
            { parent: this },
        );

        this.registerOutputs({ clusterName: this.clusterName });
    }
}

function validate(name: string, args: ExistingClusterArgs): void {
    const problems: string[] = [];
    for (const field of ["kubeconfigPath", "context"] as const) {
        const value = args[field];
        if (value !== undefined && (typeof value !== "string" || value.trim() === "")) {
            problems.push(
                `${field} = ${JSON.stringify(value)}: must be a non-empty string, or left out for the default`,
            );
        }
    }
    if (problems.length > 0) {
        throw new Error(
            `ExistingCluster "${name}" has invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
}
