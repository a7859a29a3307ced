import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** What every cluster component (Kind or existing) gives the rest of the program. */
export interface ClusterConnection {
    /** Cluster name: the Kind cluster's, or the existing cluster's context (`current` when none is named). */
    readonly clusterName: pulumi.Output<string>;
    /** kubeconfig contents (secret); undefined for an existing cluster, whose kubeconfig the user already has. */
    readonly kubeconfig: pulumi.Output<string> | undefined;
    /** The provider every Kubernetes resource of the stack uses. */
    readonly provider: k8s.Provider;
}
