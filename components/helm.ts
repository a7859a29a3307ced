/**
 * What the Helm-based components share: a namespace labelled for Pod Security admission, and a Helm release of a
 * pinned chart version from an explicit repository. Components check their charts with {@link chartProblems}
 * before `super()`, then register with {@link podSecurityNamespace}, {@link pinnedRelease} or both at once with
 * {@link namespacedRelease}.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartVersion, check, dnsLabel, problem } from "../config/rules";
import { PodSecurityLevel, podSecurityLabels } from "./podSecurity";

/** Which chart, at which version, from where. */
export interface ChartRef {
    /** Chart name in {@link ChartRef.repo}, or a full `oci://registry/path/chart` reference. Required. */
    readonly chart: string;
    /** Exact chart version (never a range). Required. */
    readonly version: string;
    /** Classic Helm repository URL (`https://...`). Required for a chart name; absent for an `oci://` reference. */
    readonly repo?: string;
}

/** A release of a pinned chart. */
export interface PinnedReleaseArgs extends ChartRef {
    /** Helm release name (a DNS-1123 label of at most 53 characters, Helm's limit). Required. */
    readonly releaseName: string;
    /** Namespace of the release; it must exist (see {@link podSecurityNamespace}). Required. */
    readonly namespace: pulumi.Input<string>;
    /** Helm values, from a typed pure function of the component. Default none (the chart's defaults). */
    readonly values?: pulumi.Input<Record<string, unknown>>;
    /**
     * Let Helm create the namespace (without Pod Security labels). Default false: the namespace comes from
     * {@link podSecurityNamespace}.
     */
    readonly createNamespace?: boolean;
    /** How long Helm waits for the release's resources to be ready, in seconds. Default Helm's 300. */
    readonly timeoutSeconds?: number;
}

/** A namespace for Pod Security admission. */
export interface PodSecurityNamespaceArgs {
    /** Namespace name (a DNS-1123 label). Required. */
    readonly name: string;
    /** Pod Security level enforced (and warned about). Required. */
    readonly enforce: PodSecurityLevel;
    /** Level audited, to show a stricter target in the audit log. Default: the enforced level. */
    readonly audit?: PodSecurityLevel;
    /** Further labels. Default `app.kubernetes.io/part-of: ai-hyperscaler` only. */
    readonly labels?: Readonly<Record<string, string>>;
}

const OCI_PREFIX = "oci://";
const HTTPS_URL = /^https:\/\/[^\s/]+(\/\S*)?$/;
const HELM_RELEASE_NAME_MAX_LENGTH = 53;

/** Problems of a chart reference and release name, each naming `where` (e.g. `GpuOperator args`). Pure. */
export function chartProblems(where: string, chart: ChartRef & { readonly releaseName?: string }): string[] {
    const problems = check(`${where}.version`, chart.version, chartVersion);
    const oci = typeof chart.chart === "string" && chart.chart.startsWith(OCI_PREFIX);
    if (typeof chart.chart !== "string" || chart.chart.length === 0) {
        problems.push(problem(`${where}.chart`, chart.chart, "must be a chart name or an oci:// reference"));
    } else if (oci && chart.repo !== undefined) {
        problems.push(
            problem(`${where}.repo`, chart.repo, "must be absent for an oci:// chart, which names its registry"),
        );
    } else if (!oci && (typeof chart.repo !== "string" || !HTTPS_URL.test(chart.repo))) {
        problems.push(problem(`${where}.repo`, chart.repo, "must be the chart repository's https:// URL"));
    }
    if (chart.releaseName !== undefined) {
        problems.push(...check(`${where}.releaseName`, chart.releaseName, dnsLabel(HELM_RELEASE_NAME_MAX_LENGTH)));
    }
    return problems;
}

/** Registers a Namespace with Pod Security labels (and `app.kubernetes.io/part-of: ai-hyperscaler`). */
export function podSecurityNamespace(
    resourceName: string,
    args: PodSecurityNamespaceArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    const problems = check("namespace name", args.name, dnsLabel());
    if (problems.length > 0) throw new Error(`podSecurityNamespace ${resourceName}: ${problems.join("; ")}`);
    return new k8s.core.v1.Namespace(
        resourceName,
        {
            metadata: {
                name: args.name,
                labels: {
                    "app.kubernetes.io/part-of": "ai-hyperscaler",
                    ...args.labels,
                    ...podSecurityLabels(args.enforce, args.audit),
                },
            },
        },
        opts,
    );
}

/** Registers a Helm release of a pinned chart. Throws on a bad chart reference (check it before `super()`). */
export function pinnedRelease(
    resourceName: string,
    args: PinnedReleaseArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    const problems = chartProblems(resourceName, args);
    if (problems.length > 0) throw new Error(`pinnedRelease ${resourceName}: ${problems.join("; ")}`);
    return new k8s.helm.v3.Release(
        resourceName,
        {
            name: args.releaseName,
            // An oci:// chart names its registry itself; Pulumi's Release would treat `repositoryOpts.repo` as a
            // classic index repository, which an OCI registry is not.
            chart: args.chart,
            ...(args.repo !== undefined ? { repositoryOpts: { repo: args.repo } } : {}),
            version: args.version,
            namespace: args.namespace,
            values: args.values ?? {},
            ...(args.createNamespace ? { createNamespace: true } : {}),
            ...(args.timeoutSeconds !== undefined ? { timeout: args.timeoutSeconds } : {}),
        },
        opts,
    );
}

/** A namespace with Pod Security labels and a pinned release in it. */
export interface NamespacedRelease {
    /** The namespace, `<prefix>-namespace`. */
    readonly namespace: k8s.core.v1.Namespace;
    /** The release, `<prefix>-release`, created once the namespace exists. */
    readonly release: k8s.helm.v3.Release;
}

/** Registers `<prefix>-namespace` and `<prefix>-release` in it; `opts` apply to both (parent, provider). */
export function namespacedRelease(
    prefix: string,
    args: Omit<PinnedReleaseArgs, "namespace"> & { readonly namespace: PodSecurityNamespaceArgs },
    opts: pulumi.CustomResourceOptions,
): NamespacedRelease {
    const namespace = podSecurityNamespace(`${prefix}-namespace`, args.namespace, opts);
    // Reading the name from the Namespace resource orders the release after it.
    const release = pinnedRelease(`${prefix}-release`, { ...args, namespace: namespace.metadata.name }, opts);
    return { namespace, release };
}
