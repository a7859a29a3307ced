/**
 * The defaults that depend on other settings, filled in once the settings and their cross-checks have passed:
 * which partition is the default, each tenant's port and server, and the Slurm image.
 */
import { kubeletNodePort } from "./rules";
import type {
    ParsedSettings,
    PartitionSettings,
    PortMapping,
    StackConfig,
    TenantSettings,
    VclusterSettings,
} from "./settings";

/** Where the defaults that are not pure come from. */
export interface ResolveOptions {
    /** The static stack's image when `slurm.image` is not set: `defaultSlurmImage()` of `config/slurmImage.ts`. */
    readonly defaultSlurmImage: () => string;
}

/** `parsed` with every default resolved. Call only once {@link crossChecks} found nothing. */
export function resolveStackConfig(parsed: ParsedSettings, options: ResolveOptions): StackConfig {
    const { cluster, slurm, gpuOperator, vcluster } = parsed;
    const anyDefault = slurm.partitions.some((p) => p.default === true);
    const partitions: PartitionSettings[] = slurm.partitions.map((p, i) => ({
        ...p,
        default: p.default ?? (!anyDefault && i === 0),
    }));
    const image = slurm.image ?? options.defaultSlurmImage();
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
        cluster,
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
