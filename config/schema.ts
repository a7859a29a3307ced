/**
 * The typed stack configuration: what each setting means, its default, and what values are allowed.
 *
 * Pure: no Pulumi here. `config/index.ts` feeds it what `pulumi.Config` holds; tests feed it plain objects.
 * zod does the structural work (types, unknown keys, defaults); `parseStackConfig` turns its findings into one
 * message a person can act on: the setting's path, the bad value, and what is allowed.
 */
import { z } from "zod";

/** The Pulumi project name: the namespace of every setting (`ai-hyperscaler:slurm`). */
export const PROJECT = "ai-hyperscaler";

/** Kind node image: Kubernetes 1.33.1 as published with kind v0.29.0, pinned by digest. */
export const DEFAULT_KIND_NODE_IMAGE =
    "kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f";

/** The project's multi-role Slurm image, built from `containers/images/slurm-base/Docker`. */
export const DEFAULT_SLURM_IMAGE = "ai-hyperscaler/slurm:24.11";

/** A host port published by the Kind control-plane node (kind's `extraPortMappings`). */
export interface PortMapping {
    /** Port inside the Kind node container (a NodePort, for example). Required. */
    readonly containerPort: number;
    /** Port on the host. Required. */
    readonly hostPort: number;
    /** Default `TCP`. */
    readonly protocol: "TCP" | "UDP" | "SCTP";
    /** Host address to bind. Default `127.0.0.1`, so nothing is exposed beyond the workstation. */
    readonly listenAddress: string;
}

/** Bring up a local Kind cluster (Kubernetes in Docker). */
export interface KindClusterSettings {
    readonly type: "kind";
    /** Kind cluster name; also the kubeconfig context `kind-<name>`. Default `ai-hyperscaler`. */
    readonly name: string;
    /** Worker nodes besides the control plane. Default 2. */
    readonly workers: number;
    /** How many of the workers get the NVIDIA device mounts (the nvkind way). Default 0. */
    readonly gpuWorkers: number;
    /** Node image, pinned by digest. Default {@link DEFAULT_KIND_NODE_IMAGE}. */
    readonly nodeImage: string;
    /** Host port mappings on the control-plane node. Default none. */
    readonly portMappings: readonly PortMapping[];
}

/** Use a cluster that already exists (for users who outgrow one machine). */
export interface ExistingClusterSettings {
    readonly type: "existing";
    /** kubeconfig file. Default: the Kubernetes provider's own lookup (`$KUBECONFIG`, then `~/.kube/config`). */
    readonly kubeconfigPath?: string;
    /** Context in that kubeconfig. Default: its current context. */
    readonly context?: string;
}

/** Where the lab runs. */
export type ClusterSettings = KindClusterSettings | ExistingClusterSettings;

/** A Slurm partition over the compute nodes. */
export interface PartitionSettings {
    /** Partition name. Required. */
    readonly name: string;
    /** Jobs that name no partition go here. Default: true for the first partition only. */
    readonly default: boolean;
    /** Longest run time a job may ask for, in minutes; absent means unlimited. */
    readonly maxTimeMinutes?: number;
}

/** The shape and number of slurmd compute nodes. */
export interface ComputeSettings {
    /** slurmd pods. Default 2. Changing it touches only the slurmd StatefulSet. */
    readonly replicas: number;
    /** Upper bound on compute nodes (slurm.conf `MaxNodeCount`); replicas may grow to it without a controller restart. Default 1024. */
    readonly maxNodes: number;
    /** CPUs each node offers to Slurm. Default 1. */
    readonly cpus: number;
    /** Memory each node offers to Slurm, in MiB. Default 1024. */
    readonly memoryMiB: number;
    /** GPUs each node offers (GRES `gpu`); needs `gpuOperator.enabled`. Default 0. */
    readonly gpus: number;
}

/** Persistent volumes of the static Slurm stack. */
export interface SlurmStorageSettings {
    /** StorageClass of every claim. Default: the cluster's default class. */
    readonly storageClassName?: string;
    /** slurmctld's StateSaveLocation, in GiB. Default 1. */
    readonly stateSizeGiB: number;
    /** MariaDB's data directory, in GiB. Default 2. */
    readonly databaseSizeGiB: number;
}

/** The Slurm cluster. */
export interface SlurmSettings {
    /** `static`: this project's manifests and image; `slinky`: SchedMD's operator; `none`: no Slurm. Default `static`. */
    readonly mode: "static" | "slinky" | "none";
    /** Namespace for every Slurm object. Default `slurm`. */
    readonly namespace: string;
    /** Slurm `ClusterName`, also its accounting name. Default `lab`. */
    readonly clusterName: string;
    /** Image for every Slurm role in `static` mode. Default {@link DEFAULT_SLURM_IMAGE}. */
    readonly image: string;
    /** Compute nodes. */
    readonly compute: ComputeSettings;
    /** Partitions, all over the same compute nodes. Default one partition `batch`, the default one. */
    readonly partitions: readonly PartitionSettings[];
    /** Persistent volumes. */
    readonly storage: SlurmStorageSettings;
}

/** NVIDIA GPU Operator. */
export interface GpuOperatorSettings {
    /** Install it. Default false. */
    readonly enabled: boolean;
    /** Namespace of the release. Default `gpu-operator`. */
    readonly namespace: string;
    /** Let the operator install the NVIDIA driver; on Kind the host's driver is used instead. Default false. */
    readonly driverEnabled: boolean;
}

/** One isolated tenant: a virtual cluster with its own API server and kubeconfig. */
export interface TenantSettings {
    /** Tenant name; its namespace is `vcluster-<name>`. Required. */
    readonly name: string;
}

/** vCluster tenants ("cloud" environments). */
export interface VclusterSettings {
    /** Tenants to create. Default none. */
    readonly tenants: readonly TenantSettings[];
}

/** The whole, validated stack configuration with every default resolved. */
export interface StackConfig {
    readonly cluster: ClusterSettings;
    readonly slurm: SlurmSettings;
    readonly gpuOperator: GpuOperatorSettings;
    readonly vcluster: VclusterSettings;
}

// ---------------------------------------------------------------------------------------------------------------
// Schema. Every `error` text says what is allowed; the formatter adds the path and the bad value.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (maxLength = 63) =>
    z
        .string({ error: "must be a string" })
        .max(maxLength, { error: `must be at most ${maxLength} characters` })
        .regex(DNS_LABEL, {
            error: "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
        });

/** A strict object: unknown keys are refused, and a non-object says which fields are expected. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
    return z.strictObject(shape, { error: `must be an object with the fields ${Object.keys(shape).join(", ")}` });
}

const count = (min: number, max = 1_000_000) =>
    z
        .number({ error: `must be a whole number from ${min} to ${max}` })
        .int({ error: `must be a whole number from ${min} to ${max}` })
        .min(min, { error: `must be a whole number from ${min} to ${max}` })
        .max(max, { error: `must be a whole number from ${min} to ${max}` });

const port = count(1, 65535);

const portMapping = strictObject({
    containerPort: port,
    hostPort: port,
    protocol: z.enum(["TCP", "UDP", "SCTP"], { error: "must be one of TCP, UDP, SCTP" }).default("TCP"),
    listenAddress: z.ipv4({ error: "must be an IPv4 address such as 127.0.0.1" }).default("127.0.0.1"),
});

const kindCluster = strictObject({
    type: z.literal("kind"),
    name: dnsLabel(32).default("ai-hyperscaler"),
    workers: count(0, 100).default(2),
    gpuWorkers: count(0, 100).default(0),
    nodeImage: z
        .string({ error: "must be a string" })
        .regex(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/, {
            error: "must be a kindest/node image pinned by digest, like kindest/node:v1.33.1@sha256:<64 hex digits>",
        })
        .default(DEFAULT_KIND_NODE_IMAGE),
    portMappings: z.array(portMapping, { error: "must be a list of port mappings" }).default([]),
});

const existingCluster = strictObject({
    type: z.literal("existing"),
    kubeconfigPath: z.string({ error: "must be a file path" }).min(1, { error: "must not be empty" }).optional(),
    context: z.string({ error: "must be a kubeconfig context name" }).min(1, { error: "must not be empty" }).optional(),
});

const cluster = z.discriminatedUnion("type", [kindCluster, existingCluster], {
    error: "must be \"kind\" or \"existing\"",
});

const partition = strictObject({
    name: dnsLabel(40),
    default: z.boolean({ error: "must be true or false" }).optional(),
    maxTimeMinutes: count(1, 525_600).optional(),
});

const slurm = strictObject({
    mode: z.enum(["static", "slinky", "none"], { error: "must be one of static, slinky, none" }).default("static"),
    namespace: dnsLabel().default("slurm"),
    clusterName: z
        .string({ error: "must be a string" })
        .regex(/^[a-z][a-z0-9_]{0,39}$/, {
            error: "must be 1-40 lowercase letters, digits or '_', starting with a letter (Slurm stores it as a database table prefix)",
        })
        .default("lab"),
    image: z
        .string({ error: "must be a container image reference" })
        .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/, { error: "must be a container image reference such as repo/name:tag" })
        .default(DEFAULT_SLURM_IMAGE),
    compute: strictObject({
        replicas: count(0, 100_000).default(2),
        maxNodes: count(1, 100_000).default(1024),
        cpus: count(1, 4096).default(1),
        memoryMiB: count(64, 16 * 1024 * 1024).default(1024),
        gpus: count(0, 64).default(0),
    }).prefault({}),
    partitions: z
        .array(partition, { error: "must be a list of partitions" })
        .min(1, { error: "must name at least one partition" })
        .default([{ name: "batch" }]),
    storage: strictObject({
        storageClassName: dnsLabel(253).optional(),
        stateSizeGiB: count(1, 10_000).default(1),
        databaseSizeGiB: count(1, 10_000).default(2),
    }).prefault({}),
});

const gpuOperator = strictObject({
    enabled: z.boolean({ error: "must be true or false" }).default(false),
    namespace: dnsLabel().default("gpu-operator"),
    driverEnabled: z.boolean({ error: "must be true or false" }).default(false),
});

const vcluster = strictObject({
    tenants: z
        .array(strictObject({ name: dnsLabel(40) }), { error: "must be a list of tenants like [{name: team-a}]" })
        .default([]),
});

const stackConfig = strictObject({
    cluster: cluster.prefault({ type: "kind" }),
    slurm: slurm.prefault({}),
    gpuOperator: gpuOperator.prefault({}),
    vcluster: vcluster.prefault({}),
});

// ---------------------------------------------------------------------------------------------------------------

/** A stack setting that is wrong; `message` lists every problem, one line each. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/**
 * Validates the raw settings (top-level keys without the project prefix: `cluster`, `slurm`, ...), resolves
 * defaults and checks the rules that span settings. Throws {@link ConfigError} naming every bad setting.
 */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
    const parsed = stackConfig.safeParse(raw);
    if (!parsed.success) {
        throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, raw)));
    }
    const config = resolvePartitionDefaults(parsed.data);
    const problems = crossChecks(config);
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return config;
}

function resolvePartitionDefaults(data: z.output<typeof stackConfig>): StackConfig {
    const anyDefault = data.slurm.partitions.some((p) => p.default === true);
    const partitions: PartitionSettings[] = data.slurm.partitions.map((p, i) => ({
        ...p,
        default: p.default ?? (!anyDefault && i === 0),
    }));
    return { ...data, slurm: { ...data.slurm, partitions } };
}

function crossChecks(config: StackConfig): string[] {
    const problems: string[] = [];
    const { cluster, slurm, gpuOperator, vcluster } = config;
    const say = (path: string, value: unknown, rule: string) => problems.push(`${path} = ${show(value)}: ${rule}`);

    if (cluster.type === "kind" && cluster.gpuWorkers > cluster.workers) {
        say("cluster.gpuWorkers", cluster.gpuWorkers, `must not exceed cluster.workers (${cluster.workers})`);
    }
    if (cluster.type === "kind") {
        const seen = new Set<string>();
        cluster.portMappings.forEach((m, i) => {
            const key = `${m.listenAddress}:${m.hostPort}/${m.protocol}`;
            if (seen.has(key)) {
                say(`cluster.portMappings[${i}].hostPort`, m.hostPort, `is mapped twice on ${m.listenAddress}/${m.protocol}; each host port may be used once`);
            }
            seen.add(key);
        });
    }
    if (slurm.compute.gpus > 0 && !gpuOperator.enabled) {
        say("slurm.compute.gpus", slurm.compute.gpus, "needs gpuOperator.enabled = true (nothing else exposes GPUs to pods); set it, or set gpus to 0");
    }
    if (gpuOperator.enabled && cluster.type === "kind" && cluster.gpuWorkers === 0) {
        say("gpuOperator.enabled", true, "on Kind needs cluster.gpuWorkers >= 1, the workers that see the host's GPUs");
    }
    if (slurm.compute.replicas > slurm.compute.maxNodes) {
        say("slurm.compute.replicas", slurm.compute.replicas, `must not exceed slurm.compute.maxNodes (${slurm.compute.maxNodes}); raise maxNodes first`);
    }
    const defaults = slurm.partitions.filter((p) => p.default);
    if (defaults.length > 1) {
        say("slurm.partitions", defaults.map((p) => p.name), "at most one partition may be the default");
    }
    duplicates(slurm.partitions.map((p) => p.name)).forEach((name) =>
        say("slurm.partitions[].name", name, "partition names must be unique"),
    );
    duplicates(vcluster.tenants.map((t) => t.name)).forEach((name) =>
        say("vcluster.tenants[].name", name, "tenant names must be unique"),
    );
    const taken = new Map<string, string>();
    if (slurm.mode !== "none") taken.set(slurm.namespace, "slurm.namespace");
    if (gpuOperator.enabled) {
        const other = taken.get(gpuOperator.namespace);
        if (other) say("gpuOperator.namespace", gpuOperator.namespace, `is already used by ${other}; give each its own namespace`);
        taken.set(gpuOperator.namespace, "gpuOperator.namespace");
    }
    vcluster.tenants.forEach((t, i) => {
        const other = taken.get(`vcluster-${t.name}`);
        if (other) say(`vcluster.tenants[${i}].name`, t.name, `its namespace vcluster-${t.name} is already used by ${other}`);
    });
    return problems;
}

function duplicates(names: readonly string[]): string[] {
    return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
    const path = issue.path.map(String);
    const where = formatPath(path);
    if (issue.code === "unrecognized_keys") {
        const known = knownKeys(path, valueAt(raw, path));
        return issue.keys
            .map((key) => {
                const at = formatPath([...path, key]);
                return `${at}: unknown setting${known ? `; allowed here: ${known.join(", ")}` : ""}`;
            })
            .join("\n  - ");
    }
    const value = valueAt(raw, path);
    if (issue.code === "invalid_union" && path[path.length - 1] !== "type" && value !== undefined) {
        // A discriminated union reports the discriminator's problem at the object's path.
        const type = (value as Record<string, unknown> | null)?.type;
        return `${formatPath([...path, "type"])} = ${show(type)}: ${issue.message}`;
    }
    return `${where} = ${show(value)}: ${issue.message}`;
}

/** The keys an object at `path` accepts, for "unknown setting" messages. */
function knownKeys(path: string[], value: unknown): string[] | undefined {
    let schema: z.ZodType = stackConfig;
    for (const segment of path) {
        schema = unwrap(schema);
        if (schema instanceof z.ZodObject) {
            schema = schema.shape[segment] as z.ZodType;
        } else if (schema instanceof z.ZodArray) {
            schema = schema.element as z.ZodType;
        } else {
            return undefined;
        }
        if (!schema) return undefined;
    }
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
    if (schema instanceof z.ZodDiscriminatedUnion) {
        // Name the keys of the variant the user chose (its `type`), not of every variant.
        const type = (value as Record<string, unknown> | null)?.type;
        const options = schema.options as z.ZodObject[];
        const chosen = options.filter((o) => (o.shape.type as z.ZodLiteral).value === type);
        return [...new Set((chosen.length ? chosen : options).flatMap((o) => Object.keys(o.shape)))];
    }
    return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
    let s: z.ZodType = schema;
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault) {
        s = s.unwrap() as z.ZodType;
    }
    return s;
}

function valueAt(raw: unknown, path: readonly string[]): unknown {
    return path.reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), raw);
}

function formatPath(path: readonly string[]): string {
    return path.reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "") || "(stack config)";
}

function show(value: unknown): string {
    return value === undefined ? "(missing)" : JSON.stringify(value);
}

// Compile-time proof that the schema's output is the documented StackConfig (modulo partition defaults).
type SchemaOutput = z.output<typeof stackConfig>;
const _schemaMatchesInterfaces: (s: SchemaOutput) => Omit<StackConfig, "slurm"> = (s) => s;
void _schemaMatchesInterfaces;

/** Every setting's dotted path (`slurm.compute.replicas`); lists and scalars are leaves. For docs and tests. */
export function settingPaths(): string[] {
    const paths: string[] = [];
    const walk = (schema: z.ZodType, prefix: string): void => {
        const s = unwrap(schema);
        const shapes =
            s instanceof z.ZodObject ? [s.shape] : s instanceof z.ZodDiscriminatedUnion ? (s.options as z.ZodObject[]).map((o) => o.shape) : undefined;
        if (!shapes) {
            paths.push(prefix);
            return;
        }
        for (const shape of shapes) {
            for (const [key, child] of Object.entries(shape)) {
                const path = prefix ? `${prefix}.${key}` : key;
                if (!paths.includes(path)) walk(child as z.ZodType, path);
            }
        }
    };
    walk(stackConfig, "");
    return paths;
}
