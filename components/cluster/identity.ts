/**
 * Which cluster a kubeconfig points at, as a short hash that is new whenever the cluster is made anew.
 *
 * Pure: no Pulumi, no I/O. Every `kind create cluster` runs `kubeadm init`, which generates a new cluster CA, so
 * a Kind cluster deleted and created again under the same name (and port) has another CA: resources whose work
 * lives inside the cluster (the GPU node setup) compare this identity to know they must run again.
 */
import { createHash } from "crypto";
import { parse } from "yaml";

/** Length of {@link clusterIdentity}'s hex digest: 64 bits, plenty to tell one cluster's CA from the next. */
const IDENTITY_HEX_DIGITS = 16;

/**
 * The identity of the cluster `kubeconfig` selects (its current context's cluster, else its only cluster): the
 * first 16 hex digits of the SHA-256 of that cluster's `certificate-authority-data`. Throws when there is no such
 * cluster or it has no CA data. The CA certificate is public, so its hash need not be kept secret.
 */
export function clusterIdentity(kubeconfig: string): string {
    const config = (parse(kubeconfig) ?? {}) as {
        "current-context"?: string;
        contexts?: { name?: string; context?: { cluster?: string } }[];
        clusters?: { name?: string; cluster?: { "certificate-authority-data"?: string } }[];
    };
    const clusters = config.clusters ?? [];
    const contextCluster = config.contexts?.find((c) => c.name === config["current-context"])?.context?.cluster;
    const chosen =
        contextCluster !== undefined
            ? clusters.find((c) => c.name === contextCluster)
            : clusters.length === 1
              ? clusters[0]
              : undefined;
    const ca = chosen?.cluster?.["certificate-authority-data"];
    if (typeof ca !== "string" || ca === "") {
        throw new Error(
            "the kubeconfig names no current cluster with certificate-authority-data, so the cluster it points at " +
                "cannot be told apart from one made anew",
        );
    }
    return createHash("sha256").update(ca).digest("hex").slice(0, IDENTITY_HEX_DIGITS);
}
