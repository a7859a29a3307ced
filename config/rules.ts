/**
 * The validation rules every setting and every component argument is judged by, each written once.
 *
 * Pure and free of zod: the stack schema (`config/schema.ts`) builds its zod types from these rules, and the
 * components check their own arguments with the same rules, so no pattern is copied anywhere. A rule knows how
 * to test a value and how to say, in a few words, what is allowed; {@link problem} adds where and what was given.
 */
import { isIP } from "net";

/** A rule: a test, and the words that say what it allows (`must be ...`). */
export interface Rule<T> {
    /** True when `value` is allowed. */
    readonly test: (value: unknown) => value is T;
    /** What is allowed, as the end of a sentence: `must be a DNS-1123 label ...`. */
    readonly allowed: string;
}

const rule = <T>(test: (value: unknown) => boolean, allowed: string): Rule<T> => ({
    test: test as (value: unknown) => value is T,
    allowed,
});

const isString = (value: unknown): value is string => typeof value === "string";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label (Kubernetes names of namespaces, Services, Helm releases) of at most `maxLength` characters. */
export function dnsLabel(maxLength = 63): Rule<string> {
    return rule(
        (v) => isString(v) && v.length <= maxLength && DNS_LABEL.test(v),
        `must be a DNS-1123 label of at most ${maxLength} characters: lowercase letters, digits and '-', ` +
            "starting and ending with a letter or digit",
    );
}

/** A DNS-1123 subdomain (StorageClass and most other Kubernetes object names): labels joined by dots, <= 253. */
export const dnsSubdomain: Rule<string> = rule(
    (v) => isString(v) && v.length <= 253 && v.split(".").every((label) => DNS_LABEL.test(label)),
    "must be a DNS-1123 subdomain of at most 253 characters: lowercase letters, digits, '-' and '.', " +
        "each dot-separated part starting and ending with a letter or digit",
);

const CHART_VERSION = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** An exact Helm chart version (semantic version, optionally with a leading `v`): never a range. */
export const chartVersion: Rule<string> = rule(
    (v) => isString(v) && CHART_VERSION.test(v),
    "must be an exact chart version such as 1.2.3 or v1.2.3, not a range",
);

// The Docker reference grammar (github.com/distribution/reference, reference.go), anchored:
//   [domain[:port]/]path-component[/path-component...][:tag][@algorithm:hex]
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(
    `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
);
/** The name part (before tag and digest) may be at most this long, as in the reference grammar. */
const MAX_IMAGE_NAME_LENGTH = 255;

/** A container image reference as Docker and containerd parse it: `[registry[:port]/]name[:tag][@digest]`. */
export const imageReference: Rule<string> = rule(
    (v) =>
        isString(v) &&
        IMAGE_REFERENCE.test(v) &&
        v.replace(/@.*$/, "").replace(/:[\w][\w.-]*$/, "").length <= MAX_IMAGE_NAME_LENGTH,
    "must be a container image reference such as registry.example.com:5000/team/slurm:24.11 " +
        "([registry[:port]/]name[:tag][@sha256:digest]; the name in lowercase)",
);

/** The tag of an image reference (after the last `:` that follows the last `/`, before any digest), if any. */
export function imageTag(reference: string): string | undefined {
    const name = reference.replace(/@.*$/, "");
    const colon = name.lastIndexOf(":");
    return colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
}

/**
 * An image reference pinned the way this project pins images: by a tag other than `latest` (a tag that names a
 * release, such as mariadb:11.8), or by a digest. Without either, or with `latest`, every node could run another image.
 */
export const pinnedImageReference: Rule<string> = rule(
    (v) => imageReference.test(v) && (/@/.test(v) || (imageTag(v) ?? "latest") !== "latest"),
    "must be a container image reference pinned by a tag other than latest or by a digest, such as " +
        "registry.example.com/mirror/alpine:3.22 ([registry[:port]/]name:tag or name@sha256:digest)",
);

/** A whole number from `min` to `max`, both included. */
export function wholeNumber(min: number, max: number): Rule<number> {
    return rule(
        (v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max,
        `must be a whole number from ${min} to ${max}`,
    );
}

/** A TCP/UDP port number. */
export const port: Rule<number> = wholeNumber(1, 65535);

/** Lowest and highest port of Kubernetes' default NodePort range (`--service-node-port-range`). */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** A port in Kubernetes' default NodePort range. */
export const nodePort: Rule<number> = wholeNumber(NODE_PORT_RANGE.min, NODE_PORT_RANGE.max);

/**
 * The lower band of the NodePort range that Kubernetes' random allocation uses only once the rest is full (KEP-3668,
 * GA since 1.29): min(max(16, size / 32), 128) ports, as `calculateRangeOffset` of the API server's port allocator
 * computes it; 30000-30085 for the default range. A port pinned here is never what a Service asking for any port
 * is handed, while the rest of the range is free.
 */
export const STATIC_NODE_PORT_BAND = (() => {
    const size = NODE_PORT_RANGE.max - NODE_PORT_RANGE.min + 1;
    const offset = Math.min(Math.max(16, Math.floor(size / 32)), 128);
    return { min: NODE_PORT_RANGE.min, max: NODE_PORT_RANGE.min + offset - 1 } as const;
})();

/**
 * The NodePort of vCluster's `kubelet` Service port for the tenant whose API NodePort is `port`: slot
 * `port - firstPort` of {@link STATIC_NODE_PORT_BAND}. The chart adds that port to every non-LoadBalancer Service
 * with nodePort 0 (random) unless pinned; pinned this way, no tenant's install can take another tenant's API or
 * kubelet port. Undefined when the slot falls outside the band.
 */
export function kubeletNodePort(port: number, firstPort: number): number | undefined {
    const kubelet = STATIC_NODE_PORT_BAND.min + (port - firstPort);
    return kubelet >= STATIC_NODE_PORT_BAND.min && kubelet <= STATIC_NODE_PORT_BAND.max ? kubelet : undefined;
}

/** A DNS-1123 label that starts with a letter (vCluster names a Service after the release, and Services must). */
export function dnsLabelStartingWithLetter(maxLength: number): Rule<string> {
    const label = dnsLabel(maxLength);
    return rule(
        (v) => label.test(v) && /^[a-z]/.test(v),
        label.allowed.replace("starting and ending", "starting with a letter and ending"),
    );
}

/** A vCluster tenant name: its release, its namespace `vcluster-<name>` and its Service are named after it. */
export const tenantName: Rule<string> = dnsLabelStartingWithLetter(40);

/**
 * A Slurm partition name. `DEFAULT` in any case is not a partition to Slurm: a `PartitionName=DEFAULT` line sets
 * the defaults of the partition lines after it.
 */
export const partitionName: Rule<string> = rule(
    (v) => dnsLabel(40).test(v) && v.toLowerCase() !== "default",
    `${dnsLabel(40).allowed}, and not "default" ` +
        "(Slurm reads PartitionName=DEFAULT as the defaults of later partitions)",
);

const SLURM_CLUSTER_NAME = /^[a-z][a-z0-9_]{0,39}$/;

/** Slurm's `ClusterName`; slurmdbd uses it as a database table prefix. */
export const slurmClusterName: Rule<string> = rule(
    (v) => isString(v) && SLURM_CLUSTER_NAME.test(v),
    "must be 1-40 lowercase letters, digits or '_', starting with a letter " +
        "(Slurm stores it as a database table prefix)",
);

/** True for a reference to an image that exists only on this machine: `localhost/<name>[:tag]`. */
export function isLocalImage(reference: string): boolean {
    return reference.startsWith("localhost/");
}

const SHA256_DIGEST = /@sha256:[0-9a-f]{64}$/;

/**
 * A Kind node image that cannot change under the cluster: pinned by a sha256 digest (kindest/node or a mirror's
 * copy), or a local image (`localhost/<name>:<tag>`, a tag other than latest), which nothing outside this machine
 * can move under its tag. A tag alone on a registry's image could be pushed over.
 */
export const kindNodeImage: Rule<string> = rule(
    (v) =>
        imageReference.test(v) &&
        (SHA256_DIGEST.test(v) || (isLocalImage(v) && (imageTag(v) ?? "latest") !== "latest")),
    "must be an image pinned by digest, like kindest/node:v1.33.1@sha256:<64 hex digits> (or a mirror's " +
        "registry.example/kindest/node:v1.33.1@sha256:<64 hex digits>), or a local image localhost/<name>:<tag> " +
        "with a tag other than latest",
);

/** The container engines kind can run its nodes with here (kind's `KIND_EXPERIMENTAL_PROVIDER` values). */
export const CONTAINER_ENGINES = ["docker", "podman"] as const;

/** One of {@link CONTAINER_ENGINES}. */
export type ContainerEngine = (typeof CONTAINER_ENGINES)[number];

/** How messages name each engine. */
export const ENGINE_NAMES: Readonly<Record<ContainerEngine, string>> = { docker: "Docker", podman: "Podman" };

/** A container engine kind runs the nodes with. */
export const containerEngine: Rule<ContainerEngine> = rule(
    (v) => (CONTAINER_ENGINES as readonly unknown[]).includes(v),
    `must be one of ${CONTAINER_ENGINES.join(", ")}`,
);

/**
 * An image reference that starts with its registry (a first part with a `.` or `:`, or `localhost`). Podman
 * names a local image `localhost/<name>` and the Kind nodes see it under that name, while Kubernetes reads a
 * reference without a registry as Docker Hub's: only a full reference means the same image to both.
 */
export const fullImageReference: Rule<string> = rule((v) => {
    if (!imageReference.test(v)) return false;
    const first = v.split("/")[0];
    return v.includes("/") && (first === "localhost" || /[.:]/.test(first));
}, "must name its registry, such as localhost/slurm:1 (an image built with podman) or docker.io/team/slurm:1");

/** An IPv4 or IPv6 address, written as an address (no host name, no brackets, no port). */
export const ipAddress: Rule<string> = rule(
    (v) => isString(v) && isIP(v) !== 0,
    "must be an IPv4 or IPv6 address such as 127.0.0.1 or ::1",
);

/** True for the addresses that listen on every interface. */
export function isWildcardAddress(address: string): boolean {
    return address === "0.0.0.0" || address === "::" || /^(0{1,4}:){7}0{1,4}$/.test(address);
}

/** A host port binding, as Docker publishes a Kind node's port mapping. */
export interface HostPortBinding {
    /** Port on the host. */
    readonly hostPort: number;
    /** `TCP`, `UDP` or `SCTP`. */
    readonly protocol: string;
    /** Host address bound; a wildcard (`0.0.0.0`, `::`) binds every address. */
    readonly listenAddress: string;
}

/**
 * Whether Docker can bind both: not when they take the same port and protocol on the same address, or when either
 * listens on every address (which includes the other's); Docker refuses the second ("port is already allocated").
 */
export function hostPortsClash(a: HostPortBinding, b: HostPortBinding): boolean {
    return (
        a.hostPort === b.hostPort &&
        a.protocol === b.protocol &&
        (a.listenAddress === b.listenAddress ||
            isWildcardAddress(a.listenAddress) ||
            isWildcardAddress(b.listenAddress))
    );
}

/** An `https://host[:port][/path]` URL with no credentials in it. */
export const httpsUrl: Rule<string> = rule((v) => {
    if (!isString(v)) return false;
    try {
        const url = new URL(v);
        return url.protocol === "https:" && url.hostname !== "" && url.username === "" && url.password === "";
    } catch {
        return false;
    }
}, "must be an https URL such as https://tenant-a.example.com:443 (no user or password in it)");

/** YAML or JSON keys of a kubeconfig (`clusters:`, `"users":`, ...): the mark of its contents. */
const KUBECONFIG_KEYS = /\b(apiVersion|clusters|users|contexts|current-context)"?\s*:/;

/**
 * True when `value` looks like the contents of a kubeconfig rather than a path to one: more than one line, a JSON
 * object or list, or YAML/JSON keys of a kubeconfig. A path is one line, so the kubeconfig path rule refuses all
 * of these; only the keys make a value look like credentials worth hiding (see {@link credentialsIn}).
 */
export function looksLikeKubeconfigContents(value: string): boolean {
    return /[\r\n]/.test(value) || /^\s*[{[]/.test(value) || KUBECONFIG_KEYS.test(value);
}

/** Kinds of credentials {@link credentialsIn} recognises, each with what a message says it looks like. */
export const CREDENTIAL_KINDS = {
    kubeconfig: "kubeconfig contents, which hold credentials",
    pem: "a PEM block (a private key or certificate)",
    token: "a token, key or password",
} as const;

/** Which kind of credential a message may not repeat. */
export type CredentialKind = keyof typeof CREDENTIAL_KINDS;

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;
// A JWT (header.payload.signature, the header always base64 of `{"`), bearer tokens, the token formats of Pulumi
// (`pul-` + 40 hex) and GitHub (`ghp_`, `gho_`, ...), and a key/value whose key names a secret.
const TOKENS = [
    /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/,
    /\bBearer\s+\S{8,}/i,
    /\bpul-[0-9a-f]{40}\b/,
    /\bgh[opsur]_[A-Za-z0-9]{30,}/,
    /\b(token|password|passwd|secret|client-key-data|client-certificate-data|private[-_]?key)"?\s*[:=]/i,
];

/**
 * The kind of credential `value` (a string, or a JSON-able value whose text is searched) looks like it holds, or
 * undefined. Only credentials: a value that merely has a newline or an odd character is not one, and messages show
 * it JSON-escaped.
 */
export function credentialsIn(value: unknown): CredentialKind | undefined {
    const text = typeof value === "string" ? value : value === undefined ? "" : (JSON.stringify(value) ?? "");
    if (PEM_BLOCK.test(text)) return "pem";
    if (KUBECONFIG_KEYS.test(text)) return "kubeconfig";
    if (TOKENS.some((pattern) => pattern.test(text))) return "token";
    return undefined;
}

/** A path to a kubeconfig file (never the file's contents). Whether the file is readable is checked apart. */
export const kubeconfigPath: Rule<string> = rule(
    (v) => isString(v) && v.trim() !== "" && !looksLikeKubeconfigContents(v),
    "must be the path of a kubeconfig file, not its contents (a kubeconfig holds credentials: keep it in a file)",
);

/** Namespaces a setting may never take: Kubernetes' own, and Kind's local-path provisioner's. */
export const RESERVED_NAMESPACES: readonly string[] = [
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

/** Namespace of the Slinky operator, as in Slinky's install guide. */
export const SLINKY_OPERATOR_NAMESPACE = "slinky";

/** Namespace of cert-manager, as in cert-manager's and Slinky's install guides; slinky mode installs it. */
export const CERT_MANAGER_NAMESPACE = "cert-manager";

/** A DNS-1123 label that is none of `reserved`. */
export function namespaceOutside(reserved: readonly string[]): Rule<string> {
    return rule(
        (v) => dnsLabel().test(v) && !reserved.includes(v),
        `${dnsLabel().allowed}, and none of ${reserved.join(", ")}`,
    );
}

/** How a value is quoted in a message: JSON, and `(missing)` for undefined. */
export function show(value: unknown): string {
    return value === undefined ? "(missing)" : JSON.stringify(value);
}

/** One line of an error: `where = value: what is allowed`. */
export function problem(where: string, value: unknown, allowed: string): string {
    return `${where} = ${show(value)}: ${allowed}`;
}

/** `problem(where, value, rule.allowed)` when `rule` refuses `value`; nothing otherwise. */
export function check<T>(where: string, value: unknown, r: Rule<T>): string[] {
    return r.test(value) ? [] : [problem(where, value, r.allowed)];
}

/**
 * Throws one error listing every problem, naming the component and its resource name, when there are any.
 * Components call it before `super()`, so bad arguments leave nothing half-registered.
 */
export function refuse(component: string, name: string, problems: readonly string[]): void {
    if (problems.length > 0) {
        throw new Error(`${component} "${name}" has invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}
