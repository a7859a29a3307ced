/**
 * Turns one evaluation of the program into files: every Kubernetes object as YAML, every Helm release as its
 * chart, repository, version and values, and the Kind cluster's config. Generated secrets are the evaluator's
 * placeholders, never real values. Output is deterministic: files and keys come out in a stable order.
 */
import { stringify } from "yaml";
import { PLACEHOLDER_MARK, RecordedResource } from "./mocks";

/** The file that marks a folder as a render, so that a re-render may replace it. */
export const RENDER_MARKER = ".ai-hyperscaler-render";

const SECRET_NOTE =
    `# Secret values here are placeholders (they contain "${PLACEHOLDER_MARK}"): \`pulumi up\` generates the real\n` +
    "# ones with @pulumi/random and keeps them only in Pulumi state (encrypted) and in the cluster's Secret.\n";

/** Where each kind of object goes, and in which order a reader should apply them. */
const ORDER = ["Namespace", "ConfigMap", "Secret", "Service", "StatefulSet", "Deployment", "NetworkPolicy"];

/**
 * File name → contents, for one program run. Objects sent to the host cluster (through the provider a
 * `hyperscaler:cluster:` component owns, or the default one) go under `<namespace>/`; objects sent through any
 * other provider (a tenant's, built from its kubeconfig) go under `_provider.<provider name>/<namespace>/`, since
 * each tenant has the same release in the same namespace (`argocd/helm-release.argocd.yaml`).
 */
export function renderResources(resources: readonly RecordedResource[]): Map<string, string> {
    const files = new Map<string, string>();
    for (const r of resources) {
        if (r.readId) continue; // Objects the program reads (a tenant's kubeconfig Secret) are not its to write.
        const file = fileFor(r);
        if (!file) continue;
        const name = providerFolder(r.provider) + file.name;
        if (files.has(name)) throw new Error(`render: two resources map to ${name}`);
        files.set(name, file.text);
    }
    return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Component types whose Kubernetes provider reaches the host cluster. */
const HOST_PROVIDER_OWNER = /^hyperscaler:cluster:/;

/**
 * The folder of the objects a provider sends: "" for the host cluster's provider (or none), else
 * `_provider.<name>/`. A provider reference is `<urn>::<id>`, the URN `urn:pulumi:<stack>::<project>::<types>::<name>`
 * with `<types>` the parents' types and its own, joined by `$`. The leading `_` keeps it apart from namespaces,
 * which are DNS labels.
 */
export function providerFolder(provider: string | undefined): string {
    if (!provider) return "";
    const parts = provider.split("::");
    if (parts.length < 5) throw new Error(`render: cannot read the provider reference ${provider}`);
    const types = parts[2].split("$");
    if (types.slice(0, -1).some((t) => HOST_PROVIDER_OWNER.test(t))) return "";
    return `_provider.${parts.slice(3, -1).join("::")}/`;
}

function fileFor(r: RecordedResource): { name: string; text: string } | undefined {
    const kube = /^kubernetes:([^/]+)\/([^:]+):(\w+)$/.exec(r.type);
    if (r.type === "kubernetes:helm.sh/v3:Release") {
        const v = r.inputs;
        const release = {
            release: v.name ?? r.name,
            namespace: v.namespace,
            chart: v.chart,
            repository: v.repositoryOpts?.repo,
            version: v.version,
            values: v.values ?? {},
        };
        return { name: `${v.namespace ?? "_cluster"}/helm-release.${release.release}.yaml`, text: yaml(release) };
    }
    if (kube) {
        const [, group, version, kind] = kube;
        const object: Record<string, any> = {
            apiVersion: group === "core" ? version : `${group}/${version}`,
            kind,
            ...withoutPulumiFields(r.inputs),
        };
        const namespace = object.metadata?.namespace ?? "_cluster";
        const order = ORDER.includes(kind) ? ORDER.indexOf(kind) : ORDER.length;
        const name = `${namespace}/${String(order).padStart(2, "0")}-${kind.toLowerCase()}.${object.metadata?.name ?? r.name}.yaml`;
        return { name, text: (kind === "Secret" ? SECRET_NOTE : "") + yaml(object) };
    }
    if (r.type === "kubernetes-cert-manager:index:CertManager") {
        return {
            name: `${r.inputs.helmOptions?.namespace ?? "_cluster"}/cert-manager.${r.name}.yaml`,
            text: yaml(r.inputs),
        };
    }
    if (r.type === "pulumi-nodejs:dynamic:Resource" && typeof r.inputs.configYaml === "string") {
        return { name: `_cluster/kind-config.${r.inputs.clusterName ?? r.name}.yaml`, text: r.inputs.configYaml };
    }
    return undefined;
}

function withoutPulumiFields(inputs: Record<string, any>): Record<string, any> {
    const { apiVersion: _a, kind: _k, ...rest } = inputs;
    return rest;
}

function yaml(value: unknown): string {
    // YAML 1.1 quoting: kubectl and kind read `yes`/`on` unquoted as booleans.
    return stringify(value, { version: "1.1", lineWidth: 0, sortMapEntries: false });
}
