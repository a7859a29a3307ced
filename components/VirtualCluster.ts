/**
 * One tenant: a vCluster (its own API server, synced onto the host cluster) in the namespace `vcluster-<tenant>`,
 * and the tenant's kubeconfig.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Chart version installed when {@link VirtualClusterArgs.chartVersion} is not given. */
export const DEFAULT_VCLUSTER_CHART_VERSION = "0.36.1";
/** Loft's Helm repository, the one vCluster's install guide uses. */
export const VCLUSTER_CHART_REPO = "https://charts.loft.sh";
/** Chart name in {@link VCLUSTER_CHART_REPO}. */
export const VCLUSTER_CHART = "vcluster";

/** Inputs of {@link VirtualCluster}. The Kubernetes provider goes in the resource options, not here. */
export interface VirtualClusterArgs {
    /**
     * Tenant name. Required: a DNS-1123 label of at most 53 characters (Helm's limit on release names; the
     * release, and so the vCluster, is named after the tenant).
     */
    readonly tenantName: string;
    /** Chart version, pinned. Default {@link DEFAULT_VCLUSTER_CHART_VERSION}. */
    readonly chartVersion?: string;
}

/** The Helm values this project sets on the `vcluster` chart; every other value keeps the chart's default. */
export type VclusterValues = {
    /** How vCluster writes the tenant kubeconfig into the Secret `vc-<name>`. */
    readonly exportKubeConfig: {
        /**
         * Context (and cluster/user) name in the exported kubeconfig: `vcluster-<tenant>`, so that kubeconfigs of
         * several tenants can be merged without their entries overwriting each other. The server stays vCluster's
         * default `https://localhost:8443`, reached with `kubectl port-forward -n vcluster-<tenant> svc/<tenant> 8443:443`.
         */
        readonly context: string;
    };
};

/** Helm values for one tenant's `vcluster` release. Pure. */
export function vclusterValues(args: Pick<VirtualClusterArgs, "tenantName">): VclusterValues {
    return {
        exportKubeConfig: { context: `vcluster-${args.tenantName}` },
    };
}

/** Namespace of a tenant's vCluster. */
export function tenantNamespace(tenantName: string): string {
    return `vcluster-${tenantName}`;
}

/** The Secret into which vCluster exports the kubeconfig of the vCluster named `releaseName`, and its key. */
export function kubeconfigSecretRef(releaseName: string): { readonly name: string; readonly key: string } {
    return { name: `vc-${releaseName}`, key: "config" };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CHART_VERSION = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/** A vCluster tenant and its kubeconfig. */
export class VirtualCluster extends pulumi.ComponentResource {
    /** The tenant's name, as given. */
    readonly tenantName: string;
    /** Host namespace of the vCluster, `vcluster-<tenant>`. */
    readonly namespace: pulumi.Output<string>;
    /** The tenant's kubeconfig (secret), as exported by vCluster; its server is `https://localhost:8443`. */
    readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: VirtualClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        if (typeof args.tenantName !== "string" || args.tenantName.length > 53 || !DNS_LABEL.test(args.tenantName)) {
            throw new Error(
                `VirtualCluster ${name}: args.tenantName = ${JSON.stringify(args.tenantName)}: must be a DNS-1123 label of at most ` +
                    "53 characters (lowercase letters, digits or '-', starting and ending with a letter or digit)",
            );
        }
        const chartVersion = args.chartVersion ?? DEFAULT_VCLUSTER_CHART_VERSION;
        if (!CHART_VERSION.test(chartVersion)) {
            throw new Error(
                `VirtualCluster ${name}: args.chartVersion = ${JSON.stringify(args.chartVersion)}: must be an exact chart version such as ${DEFAULT_VCLUSTER_CHART_VERSION}`,
            );
        }
        // Validated before registering anything: bad arguments leave no half-made component behind.
        super("hyperscaler:tenancy:VirtualCluster", name, {}, opts);
        const tenantName = args.tenantName;
        const namespaceName = tenantNamespace(tenantName);

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: namespaceName,
                    labels: { "app.kubernetes.io/part-of": "ai-hyperscaler", "hyperscaler/tenant": tenantName },
                },
            },
            { parent: this },
        );

        const release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                // The release name is the vCluster's name, and so the suffix of the kubeconfig Secret `vc-<name>`.
                name: tenantName,
                chart: VCLUSTER_CHART,
                version: chartVersion,
                repositoryOpts: { repo: VCLUSTER_CHART_REPO },
                namespace: namespace.metadata.name,
                values: vclusterValues(args),
                // The first install pulls the vCluster and Kubernetes distro images before the StatefulSet is
                // ready, which on a laptop can exceed Helm's 300 s default.
                timeout: 600,
            },
            { parent: this },
        );

        // The id comes from the release's status, which is unknown until Helm has really installed the chart: in a
        // preview of a new stack the read is skipped instead of failing on a Secret that cannot exist yet.
        const secretId = release.status.apply((status) => {
            const secret = kubeconfigSecretRef(status?.name ?? tenantName);
            return `${status?.namespace ?? namespaceName}/${secret.name}`;
        });
        const secret = k8s.core.v1.Secret.get(`${name}-kubeconfig`, secretId, {
            parent: this,
            // vCluster writes this Secret itself once its control plane runs; read it only after the release (which
            // waits for the vCluster StatefulSet to be ready) has been installed.
            dependsOn: [release],
        });

        const key = kubeconfigSecretRef(tenantName).key;
        this.tenantName = tenantName;
        this.namespace = namespace.metadata.name;
        this.kubeconfig = pulumi.secret(
            pulumi.all([secret.data, secretId]).apply(([data, id]) => {
                const encoded = data?.[key];
                if (!encoded) {
                    throw new Error(`VirtualCluster ${name}: Secret ${id} has no "${key}" key; is vCluster ${tenantName} running?`);
                }
                return Buffer.from(encoded, "base64").toString("utf8");
            }),
        );
        this.registerOutputs({ tenantName: this.tenantName, namespace: this.namespace, kubeconfig: this.kubeconfig });
    }
}
