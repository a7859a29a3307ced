/**
 * Checks that span settings: each needs two or more values that are fine on their own. They run on the settings
 * that passed their own schema, so a config with several mistakes is reported in one go; a check whose settings
 * did not all pass is skipped (their own problems are already reported).
 */
import { engineOf } from "./resolve";
import {
    CERT_MANAGER_NAMESPACE,
    ContainerEngine,
    fullImageReference,
    hostPortsClash,
    kubeletNodePort,
    problem,
    SLINKY_OPERATOR_NAMESPACE,
    STATIC_NODE_PORT_BAND,
} from "./rules";
import { ENGINE_VARIABLE } from "./settings";
import type { ParsedSettings, PortMapping } from "./settings";
import { slurmPortChecks, userChecks } from "./userChecks";

type Parsed = Partial<ParsedSettings>;

/** What the cross-checks need besides the settings. */
export interface CrossCheckOptions {
    /** The Kind cluster's engine when `cluster.engine` is not set (from the environment). Default docker. */
    readonly defaultEngine?: ContainerEngine;
}

/** Every cross-setting problem of `parsed`, one line each. */
export function crossChecks(parsed: Parsed, options: CrossCheckOptions = {}): string[] {
    return [
        ...clusterChecks(parsed),
        ...engineChecks(parsed, options.defaultEngine ?? "docker"),
        ...slurmChecks(parsed),
        ...(parsed.slurm ? userChecks(parsed.slurm) : []),
        ...slurmPortChecks(parsed),
        ...namespaceChecks(parsed),
        ...tenantChecks(parsed),
    ];
}

/**
 * What a Kind cluster on Podman cannot do: GPUs (nvkind's way needs Docker's NVIDIA runtime and `docker exec` into
 * the nodes), and a Slurm image named without its registry (Podman stores a local image as `localhost/<name>`, and
 * the nodes would look for `docker.io/<name>`).
 */
function engineChecks({ cluster, slurm }: Parsed, defaultEngine: ContainerEngine): string[] {
    if (cluster?.type !== "kind" || engineOf(cluster, defaultEngine) !== "podman") return [];
    const problems: string[] = [];
    const from = cluster.engine === undefined ? ` (podman is ${ENGINE_VARIABLE}'s, as cluster.engine is not set)` : "";
    if (cluster.gpuWorkers > 0) {
        problems.push(
            problem(
                "cluster.engine",
                "podman",
                `must be docker with cluster.gpuWorkers = ${cluster.gpuWorkers}${from}: the GPU setup is nvkind's, ` +
                    "which is Docker-only (Docker's NVIDIA runtime hands the nodes the GPUs); set cluster.engine to " +
                    "docker, or cluster.gpuWorkers to 0",
            ),
        );
    }
    if (slurm?.mode === "static" && slurm.image !== undefined && !fullImageReference.test(slurm.image)) {
        problems.push(
            problem("slurm.image", slurm.image, `with cluster.engine podman${from} ${fullImageReference.allowed}`),
        );
    }
    return problems;
}

function clusterChecks({ cluster, slurm, gpuOperator }: Parsed): string[] {
    const problems: string[] = [];
    if (cluster?.type === "kind") {
        if (cluster.gpuWorkers > cluster.workers) {
            problems.push(
                problem(
                    "cluster.gpuWorkers",
                    cluster.gpuWorkers,
                    `must not exceed cluster.workers (${cluster.workers})`,
                ),
            );
        }
        problems.push(...hostPortClashes(cluster.portMappings));
        if (gpuOperator?.enabled && cluster.gpuWorkers === 0) {
            problems.push(
                problem(
                    "gpuOperator.enabled",
                    true,
                    "on Kind needs cluster.gpuWorkers >= 1, the workers that see the host's GPUs",
                ),
            );
        }
    }
    if (cluster?.type === "existing" && slurm?.mode === "static" && slurm.image === undefined) {
        problems.push(
            problem(
                "slurm.image",
                undefined,
                "is required with cluster.type existing and slurm.mode static: the nodes pull the image, so push " +
                    "it to a registry they can reach and set slurm.image to its reference",
            ),
        );
    }
    return problems;
}

/**
 * Two mappings clash when they bind the same host port and protocol on the same address, or when either listens on
 * every address (`0.0.0.0`, `::`), which includes the other's.
 */
function hostPortClashes(mappings: readonly PortMapping[]): string[] {
    const problems: string[] = [];
    mappings.forEach((m, i) => {
        const earlier = mappings.slice(0, i).findIndex((other) => hostPortsClash(other, m));
        if (earlier >= 0) {
            problems.push(
                problem(
                    `cluster.portMappings[${i}].hostPort`,
                    m.hostPort,
                    `is mapped twice: cluster.portMappings[${earlier}] binds ${m.protocol} port ${m.hostPort} on ` +
                        `${mappings[earlier].listenAddress}, and ${m.listenAddress} overlaps it; ` +
                        "each host port may be used once",
                ),
            );
        }
    });
    return problems;
}

function slurmChecks({ slurm, gpuOperator }: Parsed): string[] {
    const problems: string[] = [];
    if (!slurm) return problems;
    if (slurm.compute.gpus > 0 && gpuOperator?.enabled === false) {
        problems.push(
            problem(
                "slurm.compute.gpus",
                slurm.compute.gpus,
                "needs gpuOperator.enabled = true (nothing else exposes GPUs to pods); set it, or set gpus to 0",
            ),
        );
    }
    if (slurm.compute.replicas > slurm.compute.maxNodes) {
        problems.push(
            problem(
                "slurm.compute.replicas",
                slurm.compute.replicas,
                `must not exceed slurm.compute.maxNodes (${slurm.compute.maxNodes}); raise maxNodes first`,
            ),
        );
    }
    const defaults = slurm.partitions.filter((p) => p.default === true);
    if (defaults.length > 1) {
        problems.push(
            problem(
                "slurm.partitions",
                defaults.map((p) => p.name),
                "at most one partition may be the default",
            ),
        );
    }
    for (const name of duplicates(slurm.partitions.map((p) => p.name))) {
        problems.push(problem("slurm.partitions[].name", name, "partition names must be unique"));
    }
    return problems;
}

/** Namespaces: never one of the operators' that slinky mode installs, and never one shared by two settings. */
function namespaceChecks({ slurm, gpuOperator, vcluster }: Parsed): string[] {
    const problems: string[] = [];
    const taken = new Map<string, string>();
    const claim = (setting: string, namespace: string, value: string) => {
        const other = taken.get(namespace);
        if (other) {
            const what = value === namespace ? "is" : `its namespace ${namespace} is`;
            problems.push(problem(setting, value, `${what} already used by ${other}; give each its own namespace`));
        } else {
            taken.set(namespace, setting);
        }
    };
    if (slurm?.mode === "slinky") {
        taken.set(SLINKY_OPERATOR_NAMESPACE, "the Slinky operator (slurm.mode slinky)");
        taken.set(CERT_MANAGER_NAMESPACE, "cert-manager (slurm.mode slinky)");
    }
    if (slurm && slurm.mode !== "none") claim("slurm.namespace", slurm.namespace, slurm.namespace);
    if (gpuOperator?.enabled) claim("gpuOperator.namespace", gpuOperator.namespace, gpuOperator.namespace);
    // A repeated tenant name is reported as such by the tenant checks, not as a namespace clash.
    vcluster?.tenants.forEach((t, i, tenants) => {
        if (tenants.findIndex((o) => o.name === t.name) === i)
            claim(`vcluster.tenants[${i}].name`, `vcluster-${t.name}`, t.name);
    });
    return problems;
}

/** Tenants: ports unique and in the pool reserved on Kind, a server for each on an existing cluster. */
function tenantChecks({ cluster, vcluster }: Parsed): string[] {
    const problems: string[] = [];
    if (!vcluster) return problems;
    const { firstPort, maxTenants, tenants } = vcluster;
    for (const name of duplicates(tenants.map((t) => t.name))) {
        problems.push(problem("vcluster.tenants[].name", name, "tenant names must be unique"));
    }
    const ports = tenants.map((t, i) => t.port ?? firstPort + i);
    ports.forEach((port, i) => {
        const first = ports.indexOf(port);
        if (first < i) {
            problems.push(
                problem(
                    `vcluster.tenants[${i}].port`,
                    port,
                    `is already the port of vcluster.tenants[${first}]; each tenant needs its own`,
                ),
            );
        }
    });
    if (vcluster.serviceType === "NodePort")
        problems.push(...kubeletPortChecks(vcluster, ports, cluster?.type === "kind"));
    if (firstPort + maxTenants - 1 > 32767) {
        problems.push(
            problem(
                "vcluster.maxTenants",
                maxTenants,
                `with firstPort ${firstPort} runs past the NodePort range (30000-32767)`,
            ),
        );
    }
    if (cluster?.type === "kind") {
        const lastPort = firstPort + maxTenants - 1;
        if (tenants.length > maxTenants) {
            problems.push(
                problem(
                    "vcluster.tenants",
                    tenants.map((t) => t.name),
                    `has ${tenants.length} tenants but vcluster.maxTenants is ${maxTenants}: raise maxTenants to at ` +
                        `least ${tenants.length} (kind cannot add host ports to a running cluster, so the Kind ` +
                        "cluster is then deleted and created again, with everything on it) or remove tenants",
                ),
            );
        }
        tenants.forEach((t, i) => {
            if (t.port !== undefined && (t.port < firstPort || t.port > lastPort)) {
                const rule =
                    maxTenants === 0
                        ? "has no host port to use: vcluster.maxTenants is 0, so Kind maps no tenant ports"
                        : `must be in the pool ${firstPort}-${lastPort}, whose host ports Kind maps`;
                problems.push(problem(`vcluster.tenants[${i}].port`, t.port, rule));
            }
        });
        cluster.portMappings.forEach((m, i) => {
            if (m.hostPort >= firstPort && m.hostPort <= lastPort) {
                problems.push(
                    problem(
                        `cluster.portMappings[${i}].hostPort`,
                        m.hostPort,
                        `is in the tenant port pool ${firstPort}-${lastPort}; choose another port`,
                    ),
                );
            }
        });
    }
    if (cluster?.type === "existing") {
        tenants.forEach((t, i) => {
            if (t.server === undefined) {
                problems.push(
                    problem(
                        `vcluster.tenants[${i}].server`,
                        undefined,
                        "is required with cluster.type existing: the https URL at which the tenant's Service " +
                            "(vcluster.serviceType) is reached from where kubectl runs",
                    ),
                );
            }
        });
    }
    return problems;
}

/**
 * With NodePort Services, each tenant has two NodePorts, its API port and its kubelet port (set, or
 * {@link kubeletNodePort} of its API port): the default must exist, and no NodePort may be any other's.
 * `ports` are the tenants' API ports, resolved, in list order.
 */
function kubeletPortChecks(
    vcluster: NonNullable<Parsed["vcluster"]>,
    ports: readonly number[],
    onKind: boolean,
): string[] {
    const { firstPort } = vcluster;
    const problems: string[] = [];
    const band = `${STATIC_NODE_PORT_BAND.min}-${STATIC_NODE_PORT_BAND.max}`;
    const kubelets = vcluster.tenants.map((t, i) => t.kubeletPort ?? kubeletNodePort(ports[i], firstPort));
    kubelets.forEach((kubelet, i) => {
        if (kubelet === undefined) {
            // On Kind every port in the pool has a default; a port outside it is reported by the pool check.
            if (onKind) return;
            problems.push(
                problem(
                    `vcluster.tenants[${i}].kubeletPort`,
                    undefined,
                    `must be set for port ${ports[i]}: its default, ${STATIC_NODE_PORT_BAND.min} + (port - firstPort ` +
                        `${firstPort}), falls outside ${band}, the NodePorts Kubernetes never picks at random`,
                ),
            );
            return;
        }
        // A repeated API port is reported as such; the default kubelet port it repeats with it is not news.
        if (vcluster.tenants[i].kubeletPort === undefined && ports.indexOf(ports[i]) < i) return;
        const apiOwner = ports.indexOf(kubelet);
        const kubeletOwner = kubelets.indexOf(kubelet);
        const owner =
            apiOwner >= 0
                ? `the port of vcluster.tenants[${apiOwner}]`
                : kubeletOwner < i
                  ? `the kubeletPort of vcluster.tenants[${kubeletOwner}]`
                  : undefined;
        if (owner !== undefined) {
            problems.push(
                problem(
                    `vcluster.tenants[${i}].kubeletPort`,
                    kubelet,
                    `is already ${owner}; every tenant's API and kubelet NodePorts must differ (keep tenant ports ` +
                        `out of ${band}, the default kubelet ports)`,
                ),
            );
        }
    });
    return problems;
}

function duplicates(names: readonly string[]): string[] {
    return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}
