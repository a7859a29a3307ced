/**
 * Every stack setting, written once: a zod schema per setting, built from the rules in `config/rules.ts`, with a
 * description that says what it does and what its default is. The exported types are derived from the schemas;
 * the settings table (`config/SETTINGS.md`), the Pulumi.yaml declarations and the error messages all read them.
 *
 * Pure: no Pulumi and no I/O. Defaults that depend on other settings (partition default, tenant ports and servers,
 * the Slurm image) are filled in by `config/resolve.ts`, and checks across settings live in `config/crossChecks.ts`.
 */
import { z } from "zod";
import * as rules from "./rules";
import { flag, list, meta, oneOf, strictObject, text, whole } from "./schemaParts";
import { group, login, restApi, user } from "./userSettings";

/** The Pulumi project name: the namespace of every setting (`ai-hyperscaler:slurm`). */
export const PROJECT = "ai-hyperscaler";

/** Oldest Pulumi CLI that accepts `type: object` in Pulumi.yaml's `config:` declarations (added in 3.187.0). */
export const MINIMUM_PULUMI_CLI_VERSION = "3.187.0";

/** Kind node image: Kubernetes 1.33.1 as published with kind v0.29.0, pinned by digest. */
export const DEFAULT_KIND_NODE_IMAGE =
    "kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f";

/**
 * Image of the Slinky slurm chart's helper containers (the log file sidecars of slurmctld and slurmd, the login
 * pods' init container), which the chart leaves at `docker.io/library/alpine:latest`: pinned by tag, as the MariaDB
 * image is.
 */
export const DEFAULT_SLINKY_HELPER_IMAGE = "docker.io/library/alpine:3.22";

/** MariaDB image of the accounting database (both Slurm modes): the upstream image's 11.8 LTS line. */
export const DEFAULT_MARIADB_IMAGE = "docker.io/library/mariadb:11.8";

/** Where `cluster.engine` comes from when a stack does not set it: the variable kind itself reads. */
export const ENGINE_VARIABLE = "KIND_EXPERIMENTAL_PROVIDER";

const portMapping = strictObject({
    containerPort: whole(1, 65535).describe("Port inside the Kind node container (a NodePort, for example). Required."),
    hostPort: whole(1, 65535).describe("Port on the host. Required."),
    protocol: oneOf(["TCP", "UDP", "SCTP"]).default("TCP").describe("Default `TCP`."),
    listenAddress: text(rules.ipAddress)
        .default("127.0.0.1")
        .describe("Host address to bind. Default `127.0.0.1`, so nothing is exposed beyond the workstation."),
});

const kindCluster = strictObject({
    type: z
        .literal("kind")
        .describe("`kind`: a Kind cluster (Kubernetes in Docker) that the stack brings up (the default);"),
    name: text(rules.dnsLabel(32))
        .default("ai-hyperscaler")
        .describe("Kind cluster name; also the kubeconfig context `kind-<name>`. Default `ai-hyperscaler`."),
    workers: whole(0, 100).default(2).describe("Worker nodes besides the control plane. Default 2."),
    gpuWorkers: whole(0, 100)
        .default(0)
        .describe("How many of the workers get the NVIDIA device mounts (the nvkind way). Default 0."),
    engine: meta(oneOf(rules.CONTAINER_ENGINES), { defaultText: `$${ENGINE_VARIABLE}, else docker` })
        .optional()
        .describe(
            "Container engine kind runs the nodes with; changing it replaces the cluster. The gpu setup (nvkind) " +
                `is Docker-only. Default: ${ENGINE_VARIABLE} in the environment of npm run up when set, else docker.`,
        ),
    nodeImage: text(rules.kindNodeImage)
        .default(DEFAULT_KIND_NODE_IMAGE)
        .describe(
            "Node image: pinned by digest (kindest/node or a mirror's copy), or a local localhost/<name>:<tag>, " +
                "which is loaded from the engine. Default kindest/node v1.33.1 (kind v0.29.0's).",
        ),
    portMappings: list(portMapping, "port mappings")
        .default([])
        .describe("Host ports of the control-plane node, besides the tenant pool (`vcluster`). Default none."),
});

const existingCluster = strictObject({
    type: z.literal("existing").describe("`existing`: a cluster that already exists. Default `kind`."),
    kubeconfigPath: meta(
        z
            .string({ error: rules.kubeconfigPath.allowed })
            .min(1, { error: "must not be empty", abort: true })
            .refine(rules.kubeconfigPath.test, { error: rules.kubeconfigPath.allowed }),
        { allowed: "path of a readable kubeconfig file" },
    )
        .optional()
        .describe(
            "kubeconfig file, which must be readable; never its contents. " +
                "Default: the Kubernetes provider's lookup ($KUBECONFIG, then ~/.kube/config).",
        ),
    context: meta(z.string({ error: "must be a kubeconfig context name" }).min(1, { error: "must not be empty" }), {
        allowed: "a context name in that kubeconfig",
    })
        .optional()
        .describe("Context in that kubeconfig. Default: its current context."),
});

/** `cluster` without `type` is a Kind cluster, as documented; anything else is left for the union to judge. */
const withDefaultClusterType = (value: unknown) =>
    value !== null && typeof value === "object" && !Array.isArray(value) ? { type: "kind", ...value } : value;

const clusterSetting = z
    .preprocess(
        withDefaultClusterType,
        z.discriminatedUnion("type", [kindCluster, existingCluster], {
            error: (issue) =>
                (issue as { code: string }).code === "invalid_type"
                    ? "must be an object such as {type: kind} or {type: existing}"
                    : 'must be "kind" or "existing"',
        }),
    )
    .prefault({})
    .describe("Where the lab runs: a Kind cluster brought up by the stack, or an existing cluster. Default Kind.");

const partition = strictObject({
    name: text(rules.partitionName).describe("Partition name. Required."),
    default: flag()
        .optional()
        .describe("Jobs that name no partition go here. Default: true for the first partition only."),
    maxTimeMinutes: whole(1, 525_600)
        .optional()
        .describe("Longest run time a job may ask for, in minutes. Default unlimited."),
});

const compute = strictObject({
    replicas: whole(0, 100_000)
        .default(2)
        .describe("slurmd pods; changing it touches only the slurmd StatefulSet. Default 2."),
    maxNodes: whole(1, 100_000)
        .default(1024)
        .describe("Most compute nodes (slurm.conf MaxNodeCount); replicas grow to it without a restart. Default 1024."),
    cpus: whole(1, 4096).default(1).describe("CPUs each node offers to Slurm. Default 1."),
    memoryMiB: whole(64, 16 * 1024 * 1024)
        .default(1024)
        .describe("Memory each node offers to Slurm, MiB. Default 1024."),
    gpus: whole(0, 64).default(0).describe("GPUs each node offers (GRES gpu); needs gpuOperator.enabled. Default 0."),
});

const storage = strictObject({
    storageClassName: text(rules.dnsSubdomain)
        .optional()
        .describe("StorageClass of every claim. Default: the cluster's default class."),
    stateSizeGiB: whole(1, 10_000).default(1).describe("slurmctld's StateSaveLocation volume, GiB. Default 1."),
    databaseSizeGiB: whole(1, 10_000).default(2).describe("MariaDB's data volume, GiB. Default 2."),
    homeSizeGiB: whole(1, 10_000).default(10).describe("The shared /home volume (slurm.sharedHome), GiB. Default 10."),
});

const slurmSetting = strictObject({
    mode: oneOf(["static", "slinky", "none"])
        .default("static")
        .describe(
            "`static`: this project's manifests and image; `slinky`: SchedMD's operator; `none`. Default `static`.",
        ),
    namespace: text(rules.namespaceOutside(rules.RESERVED_NAMESPACES))
        .default("slurm")
        .describe("Namespace of every Slurm object (not a system namespace). Default `slurm`."),
    clusterName: text(rules.slurmClusterName)
        .default("lab")
        .describe("Slurm ClusterName and accounting name. Default `lab`."),
    image: meta(text(rules.imageReference), { defaultText: "ai-hyperscaler/slurm:24.11-<content hash>" })
        .optional()
        .describe(
            "Image of every Slurm role in static mode. Default: this repository's image, tagged by the hash of its " +
                "build context (built by npm run up); required with cluster.type existing.",
        ),
    helperImage: text(rules.pinnedImageReference)
        .default(DEFAULT_SLINKY_HELPER_IMAGE)
        .describe(
            "Slinky mode: image of the chart's helper containers (slurmctld's and slurmd's log file sidecars, the " +
                "login pods' init container); set it to a mirror's copy. Default docker.io/library/alpine:3.22.",
        ),
    mariadbImage: text(rules.pinnedImageReference)
        .default(DEFAULT_MARIADB_IMAGE)
        .describe(
            "Image of the accounting database (MariaDB), in both modes; set it to a mirror's copy, or to a local " +
                "localhost/<name>:<tag>, which the Kind cluster loads into its nodes. Default " +
                "docker.io/library/mariadb:11.8.",
        ),
    compute: compute.prefault({}),
    partitions: list(partition, "partitions")
        .min(1, { error: "must name at least one partition" })
        .default([{ name: "batch" }])
        .describe("Partitions over the compute nodes. Default one partition `batch`, the default one."),
    storage: storage.prefault({}),
    users: list(user, "users like [{name: alice, uid: 1001}]")
        .default([])
        .describe(
            "Static mode: the lab's users, in every Slurm pod's /etc/passwd (a ConfigMap read at start, no image " +
                "rebuild), each with a Slurm account association; keys let them in over SSH. Default none.",
        ),
    groups: list(group, "groups like [{name: physics, gid: 2000}]")
        .default([])
        .describe("Static mode: groups the users may name besides their own. Default none."),
    sharedHome: text(rules.dnsSubdomain)
        .optional()
        .describe(
            "Static mode: a ReadWriteMany StorageClass; one volume of it (storage.homeSizeGiB) is /home on the " +
                "login and compute pods. Default: none, each pod has its own /home, made at start.",
        ),
    login: login.prefault({}),
    restApi: restApi.prefault({}),
});

const gpuOperatorSetting = strictObject({
    enabled: flag().default(false).describe("Install the NVIDIA GPU Operator. Default false."),
    namespace: text(rules.namespaceOutside(rules.RESERVED_NAMESPACES))
        .default("gpu-operator")
        .describe("Namespace of its release (not a system namespace). Default `gpu-operator`."),
    driverEnabled: flag()
        .default(false)
        .describe("Let the operator install the driver; on Kind the host's driver is used. Default false."),
});

const tenant = strictObject({
    name: text(rules.tenantName).describe("Tenant name; its namespace is `vcluster-<name>`. Required."),
    argocd: flag().default(true).describe("Install Argo CD inside the tenant. Default true."),
    port: meta(whole(rules.NODE_PORT_RANGE.min, rules.NODE_PORT_RANGE.max), { defaultText: "firstPort + index" })
        .optional()
        .describe("NodePort of the tenant's API server. Default firstPort + index (its place in the list, from 0)."),
    kubeletPort: meta(whole(rules.NODE_PORT_RANGE.min, rules.NODE_PORT_RANGE.max), {
        defaultText: "30000 + (port - firstPort)",
    })
        .optional()
        .describe(
            "NodePort of the kubelet port vCluster adds to a NodePort Service; pinned, as Kubernetes would pick it " +
                "at random, maybe another tenant's port. Default 30000 + (port - firstPort), in 30000-30085, " +
                "the ports random allocation avoids.",
        ),
    server: meta(text(rules.httpsUrl), { defaultText: "https://127.0.0.1:<port> (Kind)" })
        .optional()
        .describe(
            "Address the tenant's kubeconfig points at. Default on Kind https://127.0.0.1:<port>; " +
                "required with cluster.type existing.",
        ),
});

const vclusterSetting = strictObject({
    firstPort: whole(rules.NODE_PORT_RANGE.min, rules.NODE_PORT_RANGE.max)
        .default(31443)
        .describe("NodePort of tenant slot 0, and on Kind its host port too. Default 31443."),
    maxTenants: whole(0, 50)
        .default(5)
        .describe(
            "Tenant slots: on Kind, host ports firstPort.. are mapped when the cluster is created, so adding a " +
                "tenant never replaces it; 0 maps none (a stack without tenants, which then runs beside another " +
                "stack), and changing it later replaces the Kind cluster. Default 5.",
        ),
    serviceType: oneOf(["NodePort", "LoadBalancer"])
        .default("NodePort")
        .describe("Type of each tenant's API Service. Default `NodePort`."),
    tenants: list(tenant, "tenants like [{name: team-a}]").default([]).describe("vCluster tenants. Default none."),
});

/** The four settings, each the value of `ai-hyperscaler:<name>` in a stack file. */
export const SETTINGS = {
    cluster: clusterSetting,
    slurm: slurmSetting
        .prefault({})
        .describe("The Slurm cluster: mode, namespace, image, compute nodes, partitions and volumes."),
    gpuOperator: gpuOperatorSetting.prefault({}).describe("The NVIDIA GPU Operator. Default not installed."),
    vcluster: vclusterSetting
        .prefault({})
        .describe("vCluster tenants and the ports they are reached on. Default none."),
} as const;

/** The whole stack configuration as one zod object (for the settings table and "allowed here" messages). */
export const stackConfigSchema = z.strictObject(SETTINGS);

/** Names of the four settings. */
export type SettingName = keyof typeof SETTINGS;

/** The four settings' names, in the order of {@link SETTINGS}. */
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** Deeply read-only, so resolved settings cannot be changed by the code that receives them. */
type Frozen<T> = T extends readonly (infer U)[]
    ? readonly Frozen<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Frozen<T[K]> }
      : T;

/** What the schemas produce, before the defaults that depend on other settings are filled in. */
export type ParsedSettings = { [K in SettingName]: z.output<(typeof SETTINGS)[K]> };

/** A host port published by the Kind control-plane node (kind's `extraPortMappings`); default address 127.0.0.1. */
export type PortMapping = Frozen<z.output<typeof portMapping>>;
/**
 * A local Kind cluster (Kubernetes in Docker or Podman): name, engine (resolved: set, or from the environment),
 * workers, GPU workers, node image, port mappings.
 */
export type KindClusterSettings = Frozen<
    Omit<z.output<typeof kindCluster>, "engine"> & { engine: rules.ContainerEngine }
>;
/** A cluster that already exists: kubeconfig path (a readable file) and context, both optional. */
export type ExistingClusterSettings = Frozen<z.output<typeof existingCluster>>;
/** Where the lab runs; `type` tells which. */
export type ClusterSettings = KindClusterSettings | ExistingClusterSettings;
/** A Slurm partition over the compute nodes; `default` resolved (true for exactly one partition at most). */
export type PartitionSettings = Frozen<Omit<z.output<typeof partition>, "default"> & { default: boolean }>;
/** The shape and number of slurmd compute nodes. */
export type ComputeSettings = Frozen<z.output<typeof compute>>;
/** Persistent volumes of the static Slurm stack. */
export type SlurmStorageSettings = Frozen<z.output<typeof storage>>;
/** A user of the lab, with `gid` resolved (the uid unless set). */
export type UserSettings = Frozen<Omit<z.output<typeof user>, "gid"> & { gid: number }>;
/** A group the users may name. */
export type GroupSettings = Frozen<z.output<typeof group>>;
/** How a Slurm Service is reached: its type resolved (NodePort on Kind, ClusterIP elsewhere, unless set). */
export type SlurmServiceSettings = Frozen<{
    serviceType: NonNullable<z.output<typeof login>["serviceType"]>;
    port: number;
}>;
/**
 * The Slurm cluster, with `image` resolved (the content-derived default unless set), partitions, users and the
 * Services' types resolved.
 */
export type SlurmSettings = Frozen<
    Omit<z.output<typeof slurmSetting>, "image" | "partitions" | "users" | "login" | "restApi"> & {
        image: string;
        partitions: PartitionSettings[];
        users: UserSettings[];
        login: SlurmServiceSettings;
        restApi: SlurmServiceSettings;
    }
>;
/** The NVIDIA GPU Operator. */
export type GpuOperatorSettings = Frozen<z.output<typeof gpuOperatorSetting>>;
/**
 * One tenant with its port and server resolved, and with `vcluster.serviceType` NodePort its kubelet port too (a
 * LoadBalancer Service has no kubelet port: it stays as set, normally unset).
 */
export type TenantSettings = Frozen<
    Required<Omit<z.output<typeof tenant>, "kubeletPort">> & Pick<z.output<typeof tenant>, "kubeletPort">
>;
/** vCluster tenants and their port pool, every tenant resolved. */
export type VclusterSettings = Frozen<
    Omit<z.output<typeof vclusterSetting>, "tenants"> & { tenants: TenantSettings[] }
>;

/** The whole, validated stack configuration with every default resolved. */
export interface StackConfig {
    /** Where the lab runs. Default a Kind cluster. */
    readonly cluster: ClusterSettings;
    /** The Slurm cluster. Default the static stack. */
    readonly slurm: SlurmSettings;
    /** The NVIDIA GPU Operator. Default not installed. */
    readonly gpuOperator: GpuOperatorSettings;
    /** vCluster tenants. Default none. */
    readonly vcluster: VclusterSettings;
}
