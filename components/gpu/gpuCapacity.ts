/**
 * Reading GPU capacity from the Kubernetes API, and saying which layer is missing when there is none.
 *
 * Pure and import-free: the dynamic provider that waits for GPUs is serialized into the stack state together
 * with everything it reaches.
 */

/** The extended resource the NVIDIA device plugin advertises. */
export const GPU_RESOURCE = "nvidia.com/gpu";
/** The label of the GPU operator's device plugin pods. */
export const DEVICE_PLUGIN_SELECTOR = "app=nvidia-device-plugin-daemonset";

/** A node and how many GPUs it can give pods. */
export interface NodeGpus {
    /** Node name. */
    readonly node: string;
    /** Allocatable `nvidia.com/gpu`. */
    readonly gpus: number;
}

/** The nodes with allocatable GPUs in `kubectl get nodes -o json` output, by name. Throws on other output. */
export function allocatableGpus(nodeListJson: string): NodeGpus[] {
    const list = parseJson(nodeListJson, "kubectl get nodes -o json") as {
        items?: { metadata?: { name?: string }; status?: { allocatable?: Record<string, string> } }[];
    };
    return (list.items ?? [])
        .map((item) => ({
            node: item.metadata?.name ?? "",
            gpus: wholeQuantity(item.status?.allocatable?.[GPU_RESOURCE]),
        }))
        .filter((n) => n.gpus > 0)
        .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** An extended resource's quantity is a whole number (`"1"`); anything else counts as none. */
function wholeQuantity(value: string | undefined): number {
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : 0;
}

/** A device plugin pod, as much as the diagnosis needs. */
export interface PodState {
    readonly name: string;
    /** The node it is on, or `(unscheduled)`. */
    readonly node: string;
    /** `Running`, `Pending`, ... */
    readonly phase: string;
    /** True when every container is ready. */
    readonly ready: boolean;
    /** Why a container is not ready (`ContainerCreating`, `CrashLoopBackOff`, ...), or the pod's own reason. */
    readonly reason?: string;
}

/** The pods in `kubectl get pods -o json` output. Throws on other output. */
export function podStates(podListJson: string): PodState[] {
    type ContainerStatus = { ready?: boolean; state?: Record<string, { reason?: string } | undefined> };
    const list = parseJson(podListJson, "kubectl get pods -o json") as {
        items?: {
            metadata?: { name?: string };
            spec?: { nodeName?: string };
            status?: { phase?: string; reason?: string; containerStatuses?: ContainerStatus[] };
        }[];
    };
    return (list.items ?? []).map((item) => {
        const statuses = item.status?.containerStatuses ?? [];
        const waiting = statuses.map((s) => s.state?.waiting?.reason ?? s.state?.terminated?.reason).find(Boolean);
        const reason = waiting ?? item.status?.reason;
        return {
            name: item.metadata?.name ?? "",
            node: item.spec?.nodeName ?? "(unscheduled)",
            phase: item.status?.phase ?? "Unknown",
            ready: statuses.length > 0 && statuses.every((s) => s.ready === true),
            ...(reason ? { reason } : {}),
        };
    });
}

function parseJson(text: string, what: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(`\`${what}\` did not print JSON: ${text.slice(0, 200)}`);
    }
}

/** What was found about each layer when the wait ran out. */
export interface LayerFindings {
    /** Kind GPU nodes, checked inside their containers; absent for an existing cluster (no node access). */
    readonly kindNodes?: readonly {
        readonly node: string;
        /** Why `nvidia-smi -L` failed in the node; absent when it worked. */
        readonly driverError?: string;
        /** Whether the running containerd has the `nvidia` runtime. */
        readonly nvidiaRuntime: boolean;
    }[];
    /** Why the Kind nodes could not be checked (Docker unreachable), if so. */
    readonly kindNodesError?: string;
    /** The device plugin pods; absent when they could not be listed. */
    readonly devicePluginPods?: readonly PodState[];
    /** Why the pods could not be listed, if so. */
    readonly podsError?: string;
    /** The last error of `kubectl get nodes`, if the last poll failed. */
    readonly nodesError?: string;
}

/** What the wait was for, for the message. */
export interface WaitGoal {
    readonly minGpus: number;
    readonly timeoutSeconds: number;
    /** Namespace of the GPU operator (where the device plugin runs). */
    readonly operatorNamespace: string;
}

/** The layer that is missing, first in the order a GPU reaches a pod: host driver, toolkit, device plugin. */
export type MissingLayer = "host driver" | "toolkit" | "device plugin" | "API server" | "unknown";

/** The missing layer and the timeout message that names it, with what to do. */
export function diagnose(goal: WaitGoal, found: LayerFindings): { layer: MissingLayer; message: string } {
    const head =
        `no node advertised allocatable ${GPU_RESOURCE} (at least ${goal.minGpus}) ` +
        `within ${goal.timeoutSeconds} s`;
    // When Docker could not be asked, the driver and toolkit layers are unknown: say so after the verdict.
    const unchecked =
        found.kindNodesError === undefined ? "" : ` (The Kind nodes could not be checked: ${found.kindNodesError})`;
    const say = (layer: MissingLayer, detail: string) => ({
        layer,
        message: `${head}. Missing layer: ${layer}: ${detail}${unchecked}`,
    });
    const ns = goal.operatorNamespace;

    const noDriver = found.kindNodes?.filter((n) => n.driverError !== undefined) ?? [];
    if (noDriver.length > 0) {
        const nodes = noDriver.map((n) => `${n.node} (${n.driverError})`).join("; ");
        return say(
            "host driver",
            `nvidia-smi fails inside ${nodes}. The host needs a working NVIDIA driver (nvidia-smi on the host), the ` +
                "NVIDIA container toolkit configured for Docker, and " +
                "accept-nvidia-visible-devices-as-volume-mounts = " +
                "true in /etc/nvidia-container-runtime/config.toml; then re-create the cluster.",
        );
    }
    const noRuntime = found.kindNodes?.filter((n) => !n.nvidiaRuntime) ?? [];
    if (noRuntime.length > 0) {
        return say(
            "toolkit",
            `containerd on ${noRuntime.map((n) => n.node).join(", ")} has no nvidia runtime (the GPU node setup ` +
                "installs it; `pulumi up` runs the setup again on nodes that lost it).",
        );
    }
    if (found.nodesError !== undefined && found.devicePluginPods === undefined) {
        return say("API server", `kubectl could not list the nodes: ${found.nodesError}`);
    }
    const pods = found.devicePluginPods;
    const describe = `kubectl -n ${ns} describe pods -l ${DEVICE_PLUGIN_SELECTOR}`;
    if (pods === undefined) {
        return say(
            "device plugin",
            `its pods could not be listed (${found.podsError ?? "no answer"}); see \`${describe}\`.`,
        );
    }
    if (pods.length === 0) {
        return say(
            "device plugin",
            `no pod labelled ${DEVICE_PLUGIN_SELECTOR} in namespace ${ns} (the GPU operator starts it on nodes that ` +
                "node feature discovery labels as having an NVIDIA GPU); see `kubectl -n " +
                ns +
                " get pods`.",
        );
    }
    const notRunning = pods.filter((p) => p.phase !== "Running" || !p.ready);
    if (notRunning.length > 0) {
        const list = notRunning
            .map((p) => `${p.name} on ${p.node}: ${p.phase}${p.reason ? ` (${p.reason})` : ""}`)
            .join("; ");
        return say("device plugin", `pods not running: ${list}; see \`${describe}\`.`);
    }
    const where =
        found.kindNodes === undefined
            ? " On an existing cluster, check the driver and the toolkit on the GPU nodes."
            : "";
    return say(
        "unknown",
        `the device plugin runs (${pods.map((p) => p.name).join(", ")}) but reports no GPU; see its logs ` +
            `(\`kubectl -n ${ns} logs -l ${DEVICE_PLUGIN_SELECTOR}\`).${where}`,
    );
}
