/**
 * One tenant: a vCluster (its own API server, synced onto the host cluster) in the namespace `vcluster-<tenant>`,
 * published so that its kubeconfig works from the host with TLS verified, and Argo CD installed inside it.
 *
 * Argo CD goes in through a Kubernetes provider built from the tenant's kubeconfig, not through vCluster's
 * `experimental.deploy.vcluster.helm`: Pulumi then tracks the release (diff, upgrade, delete before the vCluster
 * goes), waits for it to be ready, and reads the admin password through the same connection.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    STATIC_NODE_PORT_BAND,
    chartVersion,
    check,
    dnsLabel,
    kubeletNodePort,
    nodePort,
    problem,
    refuse,
} from "../../config/rules";
import { StackCli, stackCli } from "../../config/stackCli";
import { namespacedRelease, pinnedRelease } from "../helm";
import { SecretWait } from "./SecretWait";
import {
    ARGOCD_ADMIN_SECRET,
    ARGOCD_CHART,
    ARGOCD_CHART_REPO,
    ARGOCD_CHART_VERSION,
    ARGOCD_NAMESPACE,
    DEFAULT_VCLUSTER_CHART_VERSION,
    TenantServiceType,
    VCLUSTER_CHART,
    VCLUSTER_CHART_REPO,
    argocdValues,
    kubeconfigSecretRef,
    serverHost,
    tenantCommands,
    tenantNamespace,
    vclusterValues,
} from "./values";

export * from "./values";

/** NodePort of a tenant when none is given (the first port of the Kind cluster's tenant port pool). */
export const DEFAULT_TENANT_PORT = 31443;

/** How to reach the host cluster from the machine running Pulumi (for the bounded wait on vCluster's Secret). */
export interface HostClusterAccess {
    /** kubeconfig contents (the Kind cluster's; pass a secret). Default: see `kubeconfigPath`. */
    readonly kubeconfig?: pulumi.Input<string>;
    /** kubeconfig file (an existing cluster's). Default: kubectl's own lookup (`$KUBECONFIG`, `~/.kube/config`). */
    readonly kubeconfigPath?: string;
    /** Context in that kubeconfig. Default: its current context. */
    readonly context?: string;
}

/** How long and how often the Secret waits poll, and with which kubectl. */
export interface SecretWaitSettings {
    /** Longest wait for each Secret, in seconds. Default 300. */
    readonly timeoutSeconds?: number;
    /** Pause between polls, in milliseconds. Default 2000. */
    readonly pollIntervalMs?: number;
    /** The kubectl binary, a name on PATH or a path. Default `kubectl`. */
    readonly kubectlPath?: string;
}

/** Inputs of {@link VirtualCluster}. The host cluster's Kubernetes provider goes in the resource options. */
export interface VirtualClusterArgs {
    /** Tenant name. Required: a DNS-1123 label of at most 53 characters (Helm's limit on release names). */
    readonly tenantName: string;
    /** vcluster chart version, pinned. Default {@link DEFAULT_VCLUSTER_CHART_VERSION}. */
    readonly chartVersion?: string;
    /** How the tenant API is published on the host cluster. Default `NodePort`. */
    readonly serviceType?: TenantServiceType;
    /**
     * The API's NodePort, 30000-32767 (NodePort only; on Kind also the host port).
     * Default {@link DEFAULT_TENANT_PORT}.
     */
    readonly port?: number;
    /**
     * NodePort of the Service's `kubelet` port, which the chart adds to a NodePort Service and would otherwise pick
     * at random (possibly another tenant's port). Default {@link defaultKubeletPort} of `port`: 30000 for 31443.
     */
    readonly kubeletPort?: number;
    /**
     * https URL the tenant kubeconfig points at; its host goes into the certificate.
     * Default `https://127.0.0.1:<port>`.
     */
    readonly server?: string;
    /** Install Argo CD inside the tenant. Default true. */
    readonly argocd?: boolean;
    /** Access to the host cluster for the Secret wait. Default: kubectl's own lookup. */
    readonly host?: HostClusterAccess;
    /** Tuning of the Secret waits. Defaults as in {@link SecretWaitSettings}. */
    readonly wait?: SecretWaitSettings;
    /**
     * How the ready-to-paste commands reach this stack with `pulumi` (`loadStackCli()` of config/index.ts). Default:
     * this stack's name and no backend variables (right for a backend the user is logged in to).
     */
    readonly stackCli?: StackCli;
}

/** What a tenant's user needs, without any secret: the API address and ready-to-paste commands. */
export interface TenantAccess {
    /** The address the tenant kubeconfig points at. */
    readonly server: string;
    /** Host namespace of the vCluster. */
    readonly namespace: string;
    /** Ready-to-paste commands: `kubeconfig` (save it), `namespaces`, and with Argo CD `argocdUi`, `argocdPassword`. */
    readonly commands: Readonly<Record<string, string>>;
}

const SERVICE_TYPES: readonly TenantServiceType[] = ["NodePort", "LoadBalancer"];

/**
 * The kubelet NodePort of a tenant whose API port is `port` when nothing else says: slot `port - 31443` of the
 * static band (`kubeletNodePort` with the default pool's first port). Undefined outside 31443-31528.
 */
export function defaultKubeletPort(port: number): number | undefined {
    return kubeletNodePort(port, DEFAULT_TENANT_PORT);
}

/** Problems of `args`, each naming the argument, the value and what is allowed. Pure. */
export function virtualClusterProblems(args: VirtualClusterArgs): string[] {
    const problems = [
        ...check("tenantName", args.tenantName, dnsLabel(53)),
        ...(args.chartVersion === undefined ? [] : check("chartVersion", args.chartVersion, chartVersion)),
        ...(args.port === undefined ? [] : check("port", args.port, nodePort)),
    ];
    if ((args.serviceType ?? "NodePort") === "NodePort") {
        const port = args.port ?? DEFAULT_TENANT_PORT;
        if (args.kubeletPort !== undefined) {
            problems.push(...check("kubeletPort", args.kubeletPort, nodePort));
            if (args.kubeletPort === port)
                problems.push(problem("kubeletPort", args.kubeletPort, "must differ from port, the API's NodePort"));
        } else if (typeof port === "number" && defaultKubeletPort(port) === undefined) {
            problems.push(
                problem(
                    "kubeletPort",
                    undefined,
                    `must be set for port ${port}: the default, ${STATIC_NODE_PORT_BAND.min} + (port - ` +
                        `${DEFAULT_TENANT_PORT}), is outside ${STATIC_NODE_PORT_BAND.min}-${STATIC_NODE_PORT_BAND.max}`,
                ),
            );
        }
    }
    if (args.serviceType !== undefined && !SERVICE_TYPES.includes(args.serviceType)) {
        problems.push(problem("serviceType", args.serviceType, `must be one of ${SERVICE_TYPES.join(", ")}`));
    }
    if (args.server !== undefined) {
        let host: string | undefined;
        try {
            host = serverHost(args.server);
        } catch {
            host = undefined;
        }
        if (!host)
            problems.push(
                problem("server", args.server, "must be an https URL with a host, such as https://vc.example.com:443"),
            );
    }
    if (args.argocd !== undefined && typeof args.argocd !== "boolean")
        problems.push(problem("argocd", args.argocd, "must be true or false"));
    return problems;
}

/** A vCluster tenant, its kubeconfig, and Argo CD inside it. */
export class VirtualCluster extends pulumi.ComponentResource {
    /** The tenant's name, as given. */
    readonly tenantName: string;
    /** Host namespace of the vCluster, `vcluster-<tenant>`. */
    readonly namespace: pulumi.Output<string>;
    /** The tenant's kubeconfig (secret), pointing at `server` with vCluster's CA: usable from the host as it is. */
    readonly kubeconfig: pulumi.Output<string>;
    /** Address and ready-to-paste commands; never a secret. */
    readonly access: pulumi.Output<TenantAccess>;
    /** Argo CD inside the tenant, when `argocd` is true: its namespace and the initial `admin` password (secret). */
    readonly argocd?: { readonly namespace: string; readonly adminPassword: pulumi.Output<string> };

    constructor(name: string, args: VirtualClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validated before registering anything: bad arguments leave no half-made component behind.
        refuse("VirtualCluster", name, virtualClusterProblems(args));
        super("hyperscaler:tenancy:VirtualCluster", name, {}, opts);
        const tenantName = args.tenantName;
        const namespaceName = tenantNamespace(tenantName);
        const port = args.port ?? DEFAULT_TENANT_PORT;
        const server = args.server ?? `https://127.0.0.1:${port}`;
        const withArgocd = args.argocd ?? true;
        const wait = args.wait ?? {};

        // `<name>-namespace` and `<name>-release`, the names (and so the URNs) this component has always given them.
        const { namespace, release } = namespacedRelease(
            name,
            {
                namespace: {
                    name: namespaceName,
                    // The tenant's pods run here (vCluster syncs them to the host): baseline keeps them off the host's
                    // namespaces, devices and privileged mode, which would let a tenant reach the node. vCluster's
                    // own pod passes baseline (root, no host access); restricted is audited as the target.
                    enforce: "baseline",
                    audit: "restricted",
                    labels: { "hyperscaler/tenant": tenantName },
                },
                // The release name is the vCluster's name, and so the suffix of the kubeconfig Secret `vc-<name>`.
                releaseName: tenantName,
                chart: VCLUSTER_CHART,
                repo: VCLUSTER_CHART_REPO,
                version: args.chartVersion ?? DEFAULT_VCLUSTER_CHART_VERSION,
                values: vclusterValues({
                    tenantName,
                    serviceType: args.serviceType ?? "NodePort",
                    port,
                    // Checked above: defined for a NodePort Service; a LoadBalancer has no kubelet port.
                    kubeletPort: args.kubeletPort ?? defaultKubeletPort(port),
                    server,
                }),
                // The first install pulls the vCluster and Kubernetes distro images before the StatefulSet is
                // ready, which on a laptop can exceed Helm's 300 s default.
                timeoutSeconds: 600,
            },
            { parent: this },
        );

        const kubeconfigRef = kubeconfigSecretRef(tenantName);
        const kubeconfigWait = new SecretWait(
            `${name}-kubeconfig-wait`,
            {
                namespace: namespaceName,
                secretName: kubeconfigRef.name,
                kubeconfig: args.host?.kubeconfig === undefined ? undefined : pulumi.secret(args.host.kubeconfig),
                kubeconfigPath: args.host?.kubeconfigPath,
                context: args.host?.context,
                ...wait,
                // The namespace is made anew with the cluster (and the release in it): then the wait runs again.
                source: namespace.metadata.uid,
                hint:
                    `vCluster ${tenantName} writes it once its control plane runs; look at ` +
                    `\`kubectl --namespace ${namespaceName} get pods\` and ` +
                    `\`kubectl --namespace ${namespaceName} logs statefulset/${tenantName}\`.`,
            },
            // vCluster writes the Secret only after the release's StatefulSet runs: start waiting then.
            { parent: this, dependsOn: [release] },
        );
        // The id follows the wait's: unknown in a preview of a new stack, so the read is skipped there instead of
        // failing on a Secret that cannot exist yet.
        const secret = k8s.core.v1.Secret.get(
            `${name}-kubeconfig`,
            kubeconfigWait.id.apply(() => `${namespaceName}/${kubeconfigRef.name}`),
            // Read only once the bounded wait has seen the Secret.
            { parent: this, dependsOn: [kubeconfigWait] },
        );

        this.tenantName = tenantName;
        this.namespace = namespace.metadata.name;
        this.kubeconfig = pulumi.secret(
            secret.data.apply((data) => {
                const encoded = data?.[kubeconfigRef.key];
                if (!encoded) {
                    throw new Error(
                        `VirtualCluster ${name}: Secret ${namespaceName}/${kubeconfigRef.name} ` +
                            `has no "${kubeconfigRef.key}" key`,
                    );
                }
                return Buffer.from(encoded, "base64").toString("utf8");
            }),
        );

        if (withArgocd) {
            const tenantProvider = new k8s.Provider(
                `${name}-tenant`,
                // No deleteUnreachable: a tenant API still starting (after a restart) must not make a refresh
                // drop Argo CD from state. When the Kind cluster is gone, `npm run up|destroy` sets
                // PULUMI_K8S_DELETE_UNREACHABLE for every provider (scripts/lib/action.ts).
                { kubeconfig: this.kubeconfig },
                { parent: this },
            );
            const argocd = pinnedRelease(
                `${name}-argocd`,
                {
                    releaseName: ARGOCD_NAMESPACE,
                    chart: ARGOCD_CHART,
                    version: ARGOCD_CHART_VERSION,
                    repo: ARGOCD_CHART_REPO,
                    namespace: ARGOCD_NAMESPACE,
                    // Inside the tenant, where no Pod Security labels are this project's to set.
                    createNamespace: true,
                    values: argocdValues(),
                    // Inside a fresh vCluster every Argo CD image is pulled on first install: more than Helm's
                    // 300 s default.
                    timeoutSeconds: 600,
                },
                { parent: this, provider: tenantProvider },
            );
            const passwordWait = new SecretWait(
                `${name}-argocd-password`,
                {
                    namespace: ARGOCD_NAMESPACE,
                    secretName: ARGOCD_ADMIN_SECRET.name,
                    readKey: ARGOCD_ADMIN_SECRET.key,
                    kubeconfig: this.kubeconfig,
                    ...wait,
                    // A new vCluster install writes a new kubeconfig Secret (new uid) and runs a new Argo CD, whose
                    // password this wait must read again.
                    source: kubeconfigWait.secretUid,
                    hint:
                        "The Argo CD server writes it at its first start; look at " +
                        `\`kubectl --namespace ${ARGOCD_NAMESPACE} get pods\` inside the tenant.`,
                },
                // The server that writes the Secret exists only once the release is installed.
                { parent: this, dependsOn: [argocd] },
            );
            this.argocd = {
                namespace: ARGOCD_NAMESPACE,
                adminPassword: pulumi.secret(passwordWait.value.apply((value) => value ?? "")),
            };
        }

        this.access = pulumi.output({
            server,
            namespace: namespaceName,
            commands: tenantCommands(tenantName, withArgocd, args.stackCli ?? stackCli(pulumi.getStack(), {})),
        });
        this.registerOutputs({
            tenantName: this.tenantName,
            namespace: this.namespace,
            kubeconfig: this.kubeconfig,
            access: this.access,
            argocdAdminPassword: this.argocd?.adminPassword,
        });
    }
}
