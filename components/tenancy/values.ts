/**
 * Pure builders for a tenant: the `vcluster` chart's values, the `argo-cd` chart's values, names, and the
 * ready-to-paste commands of the stack output. No Pulumi resources here.
 *
 * Chart facts relied on (vcluster 0.36.1 and argo-cd 10.1.1, their values.yaml and templates):
 * - vCluster's Service is named after the release, port 443 -> 8443; `controlPlane.service.spec` is copied into
 *   it and `controlPlane.service.httpsNodePort` becomes that port's nodePort. Unless the Service is a LoadBalancer,
 *   the chart adds a second port, `kubelet` (10250, with `networking.advanced.proxyKubelets.byHostname`, on by
 *   default), whose nodePort is `controlPlane.service.kubeletNodePort`, default 0: picked at random
 *   (templates/service.yaml).
 * - The exported kubeconfig (Secret `vc-<release>`, key `config`) points at `exportKubeConfig.server` when set
 *   (else `https://localhost:8443`) and keeps vCluster's CA; the serving certificate holds `localhost`,
 *   `127.0.0.1` and every name of `controlPlane.proxy.extraSANs`.
 * - argo-cd names its objects `<fullname>-<component>` (`argocd-server` with `fullnameOverride: argocd`); the
 *   Argo CD server writes the admin password to `argocd-initial-admin-secret` (key `password`) at its first start.
 */
import { StackCli, pulumiCommand } from "../../config/stackCli";

/** vcluster chart version installed when none is given. */
export const DEFAULT_VCLUSTER_CHART_VERSION = "0.36.1";
/** Loft's Helm repository, the one vCluster's install guide uses. */
export const VCLUSTER_CHART_REPO = "https://charts.loft.sh";
/** Chart name in {@link VCLUSTER_CHART_REPO}. */
export const VCLUSTER_CHART = "vcluster";

/** argo-cd chart version (Argo CD v3.4.4), pinned. */
export const ARGOCD_CHART_VERSION = "10.1.1";
/** The Argo project's Helm repository. */
export const ARGOCD_CHART_REPO = "https://argoproj.github.io/argo-helm";
/** Chart name in {@link ARGOCD_CHART_REPO}. */
export const ARGOCD_CHART = "argo-cd";
/** Namespace (inside the tenant) and release name of Argo CD. */
export const ARGOCD_NAMESPACE = "argocd";
/** Every Argo CD object name starts with this (`argocd-server`, `argocd-repo-server`, ...). */
export const ARGOCD_FULLNAME = "argocd";
/** Deployment and Service of the Argo CD API server and UI. */
export const ARGOCD_SERVER = `${ARGOCD_FULLNAME}-server`;
/** The Secret the Argo CD server writes the initial `admin` password into, and its key. */
export const ARGOCD_ADMIN_SECRET = { name: "argocd-initial-admin-secret", key: "password" } as const;

/** The stack output that holds one entry per tenant; the commands below read from it. */
export const TENANT_OUTPUT = "tenantInfo";

/** How the vCluster API is published on the host cluster. */
export type TenantServiceType = "NodePort" | "LoadBalancer";

/** Namespace of a tenant's vCluster on the host cluster. */
export function tenantNamespace(tenantName: string): string {
    return `vcluster-${tenantName}`;
}

/** The Secret into which vCluster exports the kubeconfig of the vCluster named `releaseName`, and its key. */
export function kubeconfigSecretRef(releaseName: string): { readonly name: string; readonly key: string } {
    return { name: `vc-${releaseName}`, key: "config" };
}

/** Context (and cluster/user) name in a tenant's kubeconfig, distinct per tenant so kubeconfigs merge. */
export function tenantContext(tenantName: string): string {
    return `vcluster-${tenantName}`;
}

/** The host name (or IP, IPv6 without brackets) of an https URL; throws on anything else. */
export function serverHost(server: string): string {
    const url = new URL(server);
    if (url.protocol !== "https:" || url.hostname === "") throw new Error(`${server} is not an https URL with a host`);
    return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** What {@link vclusterValues} needs. */
export interface VclusterValuesArgs {
    /** Tenant (and release) name. */
    readonly tenantName: string;
    /** Service type. */
    readonly serviceType: TenantServiceType;
    /** NodePort of the API (NodePort services only). */
    readonly port: number;
    /**
     * NodePort of the Service's `kubelet` port (see `kubeletNodePort` in config/rules.ts). Required for NodePort
     * services, unused by LoadBalancer ones.
     */
    readonly kubeletPort?: number;
    /** https URL the exported kubeconfig points at. */
    readonly server: string;
}

/** The Helm values this project sets on the `vcluster` chart; every other value keeps the chart's default. */
export type VclusterValues = {
    /** The vCluster control plane. */
    readonly controlPlane: {
        /** The Service in front of the API. */
        readonly service: {
            /** Copied into the Service's spec: its `type`. Chart default `ClusterIP`, unreachable from the host. */
            readonly spec: { readonly type: TenantServiceType };
            /** The https port's fixed nodePort (NodePort only): the port the Kind cluster maps to the host. */
            readonly httpsNodePort?: number;
            /**
             * The `kubelet` port's fixed nodePort (NodePort only). Chart default 0, a random pick that favours the
             * upper part of the range, where the tenants' API ports are: pinned in the band random allocation avoids.
             */
            readonly kubeletNodePort?: number;
        };
        /** The API proxy. */
        readonly proxy: {
            /** Extra names in the serving certificate: the host of `exportKubeConfig.server`, so TLS verifies. */
            readonly extraSANs: readonly string[];
        };
    };
    /** How vCluster writes the tenant kubeconfig into the Secret `vc-<name>`. */
    readonly exportKubeConfig: {
        /** Context (and cluster/user) name: `vcluster-<tenant>`, so several tenants' kubeconfigs merge. */
        readonly context: string;
        /** The API address written into the kubeconfig, reachable from the host (chart default localhost:8443). */
        readonly server: string;
    };
};

/** Helm values for one tenant's `vcluster` release. Pure; throws when a NodePort Service has no `kubeletPort`. */
export function vclusterValues(args: VclusterValuesArgs): VclusterValues {
    if (args.serviceType === "NodePort" && args.kubeletPort === undefined) {
        // Left out, the chart would let Kubernetes pick it at random, possibly another tenant's port.
        throw new Error(`vCluster ${args.tenantName}: a NodePort Service needs kubeletPort`);
    }
    return {
        controlPlane: {
            service: {
                spec: { type: args.serviceType },
                // A load balancer is reached on its own address and port 443; its node port may be any, and the
                // chart gives it no kubelet port.
                ...(args.serviceType === "NodePort"
                    ? { httpsNodePort: args.port, kubeletNodePort: args.kubeletPort }
                    : {}),
            },
            proxy: { extraSANs: [serverHost(args.server)] },
        },
        exportKubeConfig: { context: tenantContext(args.tenantName), server: args.server },
    };
}

/** The Helm values this project sets on the `argo-cd` chart; every other value keeps the chart's default. */
export type ArgocdValues = {
    /** Object name prefix: `argocd`, so the server is `argocd-server` whatever the release is called. */
    readonly fullnameOverride: string;
    /** Dex, Argo CD's SSO broker. */
    readonly dex: {
        /** False: a lab tenant logs in as `admin`; no identity provider is configured, and Dex would idle. */
        readonly enabled: boolean;
    };
};

/** Helm values for the `argo-cd` release inside a tenant. Pure. */
export function argocdValues(): ArgocdValues {
    return { fullnameOverride: ARGOCD_FULLNAME, dex: { enabled: false } };
}

/**
 * Ready-to-paste commands for a tenant (they read the stack output {@link TENANT_OUTPUT} of the stack `cli` names,
 * with its backend variables; they need `jq`).
 */
export function tenantCommands(tenantName: string, argocd: boolean, cli: StackCli): Readonly<Record<string, string>> {
    const file = `${tenantName}.kubeconfig`;
    const entry = `.${JSON.stringify(tenantName)}`;
    const stackOutput = pulumiCommand(cli, `stack output ${TENANT_OUTPUT} --show-secrets --json`);
    const commands: Record<string, string> = {
        kubeconfig: `${stackOutput} | jq -r '${entry}.kubeconfig' > ${file} && chmod 600 ${file}`,
        namespaces: `kubectl --kubeconfig ${file} get namespaces`,
    };
    if (argocd) {
        commands.argocdUi =
            `kubectl --kubeconfig ${file} --namespace ${ARGOCD_NAMESPACE} port-forward svc/${ARGOCD_SERVER} 8080:443` +
            "   # then open https://localhost:8080 and log in as admin";
        commands.argocdPassword = `${stackOutput} | jq -r '${entry}.argocd.adminPassword'`;
    }
    return commands;
}
