/**
 * The defaults that depend on other settings or on the environment, filled in once the settings and their
 * cross-checks have passed: the Kind cluster's engine, which partition is the default, each tenant's port and
 * server, and the Slurm image.
 */
import { CONTAINER_ENGINES, ContainerEngine, containerEngine, isLocalImage, kubeletNodePort, problem } from "./rules";
import type {
    ParsedSettings,
    PartitionSettings,
    PortMapping,
    StackConfig,
    TenantSettings,
    VclusterSettings,
} from "./settings";
import { ENGINE_VARIABLE } from "./settings";

/** Where the defaults that are not pure come from. */
export interface ResolveOptions {
    /**
     * The static stack's image when `slurm.image` is not set, for the engine that builds it: `defaultSlurmImage` of
     * `config/slurmImage.ts`.
     */
    readonly defaultSlurmImage: (engine: ContainerEngine) => string;
    /** The Kind cluster's engine when `cluster.engine` is not set: {@link defaultEngine}'s. */
    readonly defaultEngine: ContainerEngine;
}

/**
 * `cluster.engine`'s default, as kind itself chooses when told: `KIND_EXPERIMENTAL_PROVIDER` of `env` when set,
 * else docker (not kind's own probing of which engine answers, which would make a Docker that is down turn a stack
 * into a Podman one). A value this project does not run is a problem, said with the setting that overrides it.
 */
export function defaultEngine(env: Readonly<Record<string, string | undefined>>): {
    engine: ContainerEngine;
    problems: string[];
} {
    const value = env[ENGINE_VARIABLE];
    if (value === undefined || value === "") return { engine: "docker", problems: [] };
    if (containerEngine.test(value)) return { engine: value, problems: [] };
    const allowed =
        `must be one of ${CONTAINER_ENGINES.join(", ")} when cluster.engine is not set (it is that ` +
        "setting's default); set cluster.engine, or change or unset the variable";
    return { engine: "docker", problems: [problem(`${ENGINE_VARIABLE} (environment)`, value, allowed)] };
}

/** The engine of a Kind cluster setting: its own, else `fallback` (the environment's, {@link defaultEngine}). */
export function engineOf(cluster: { readonly engine?: ContainerEngine }, fallback: ContainerEngine): ContainerEngine {
    return cluster.engine ?? fallback;
}

/** `parsed` with every default resolved. Call only once {@link crossChecks} found nothing. */
export function resolveStackConfig(parsed: ParsedSettings, options: ResolveOptions): StackConfig {
    const { cluster, slurm, gpuOperator, vcluster } = parsed;
    const anyDefault = slurm.partitions.some((p) => p.default === true);
    const partitions: PartitionSettings[] = slurm.partitions.map((p, i) => ({
        ...p,
        default: p.default ?? (!anyDefault && i === 0),
    }));
    const resolvedCluster =
        cluster.type === "kind" ? { ...cluster, engine: engineOf(cluster, options.defaultEngine) } : cluster;
    // Off Kind nothing builds the image (the cross-checks require slurm.image); the name is Docker's form then.
    const image =
        slurm.image ?? options.defaultSlurmImage(resolvedCluster.type === "kind" ? resolvedCluster.engine : "docker");
    const users = slurm.users.map((u) => ({ ...u, gid: u.gid ?? u.uid }));
    // On Kind a NodePort is reachable from the host through the port Kind maps; elsewhere nothing is assumed.
    const serviceType = cluster.type === "kind" ? ("NodePort" as const) : ("ClusterIP" as const);
    const login = { ...slurm.login, serviceType: slurm.login.serviceType ?? serviceType };
    const restApi = { ...slurm.restApi, serviceType: slurm.restApi.serviceType ?? serviceType };
    const tenants: TenantSettings[] = vcluster.tenants.map((t, i) => {
        const port = t.port ?? vcluster.firstPort + i;
        // The cross-checks made sure a NodePort tenant's default kubelet port exists (falls in the static band).
        const kubeletPort =
            vcluster.serviceType === "NodePort" ? (t.kubeletPort ?? kubeletNodePort(port, vcluster.firstPort)) : {};
        // On an existing cluster the cross-checks made `server` required, so the fallback is Kind's.
        return {
            ...t,
            port,
            ...(typeof kubeletPort === "number" ? { kubeletPort } : {}),
            server: t.server ?? `https://127.0.0.1:${port}`,
        };
    });
    return {
        cluster: resolvedCluster,
        slurm: { ...slurm, image, partitions, users, login, restApi },
        gpuOperator,
        vcluster: { ...vcluster, tenants },
    };
}

/**
 * The host ports Kind maps for the tenants: `firstPort` to `firstPort + maxTenants - 1`, each to the same port of the
 * control-plane node (where the tenants' NodePorts answer), TCP on 127.0.0.1. They depend only on the pool, not on
 * the tenants, so adding or removing a tenant never changes the Kind cluster.
 */
export function tenantPortMappings(vcluster: Pick<VclusterSettings, "firstPort" | "maxTenants">): PortMapping[] {
    return Array.from({ length: vcluster.maxTenants }, (_, i) => ({
        containerPort: vcluster.firstPort + i,
        hostPort: vcluster.firstPort + i,
        protocol: "TCP" as const,
        listenAddress: "127.0.0.1",
    }));
}

/**
 * The host ports Kind maps for the static Slurm stack: the login pod's SSH NodePort and slurmrestd's, each to the
 * same port of the control-plane node, TCP on 127.0.0.1. Mapped whatever the users, so that adding the first user
 * never replaces the Kind cluster; none in the other modes.
 */
export function slurmPortMappings(slurm: Pick<StackConfig["slurm"], "mode" | "login" | "restApi">): PortMapping[] {
    if (slurm.mode !== "static") return [];
    return [slurm.login.port, slurm.restApi.port].map((port) => ({
        containerPort: port,
        hostPort: port,
        protocol: "TCP" as const,
        listenAddress: "127.0.0.1",
    }));
}

/**
 * Every host port a stack's Kind cluster publishes, in the kind config's order: `cluster.portMappings`, the
 * tenant pool ({@link tenantPortMappings}; none with `vcluster.maxTenants` 0), then the static Slurm stack's SSH and
 * REST ports ({@link slurmPortMappings}). Empty off Kind. Two stacks can run side by side only if no binding of one
 * clashes with one of the other (`hostPortsClash` in rules.ts).
 */
export function kindPortMappings(config: Pick<StackConfig, "cluster" | "vcluster" | "slurm">): PortMapping[] {
    if (config.cluster.type !== "kind") return [];
    return [...config.cluster.portMappings, ...tenantPortMappings(config.vcluster), ...slurmPortMappings(config.slurm)];
}

/**
 * The images the Kind provider copies from the engine into every node: the static stack's Slurm image (built here,
 * or set and present in the engine), and the MariaDB image when it is a local one (`localhost/...`), which no
 * registry serves. Empty off Kind, where the nodes pull every image.
 */
export function kindLoadedImages(config: Pick<StackConfig, "cluster" | "slurm">): string[] {
    if (config.cluster.type !== "kind") return [];
    const { mode, image, mariadbImage } = config.slurm;
    const images = mode === "static" ? [image] : [];
    if (mode !== "none" && isLocalImage(mariadbImage) && !images.includes(mariadbImage)) images.push(mariadbImage);
    return images;
}
