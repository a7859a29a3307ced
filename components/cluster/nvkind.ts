/**
 * What NVIDIA's nvkind does to a Kind node that sees the host's GPUs, as data: which nodes get it, the read-only
 * checks that tell whether a step is already done, and the commands of each step.
 *
 * Pure and import-free: the dynamic providers that run these commands with `docker exec` are serialized into the
 * stack state, and everything they reach is serialized with them.
 */

/** The directory whose entries, mounted from `/dev/null`, tell the NVIDIA runtime which GPUs a container gets. */
export const GPU_DEVICES_DIR = "/var/run/nvidia-container-devices";
/** The Docker label kind puts on every node container: the cluster's name. */
export const KIND_CLUSTER_LABEL = "io.x-k8s.kind.cluster";
/** The Docker label kind puts on every node container: `control-plane` or `worker`. */
export const KIND_ROLE_LABEL = "io.x-k8s.kind.role";
/** The RuntimeClass (and containerd runtime handler) the toolkit configures and the GPU operator's pods use. */
export const NVIDIA_RUNTIME_CLASS = "nvidia";
/** The driver's parameters file; `ModifyDeviceFiles: 0` stops the driver from creating device nodes on demand. */
export const NVIDIA_PARAMS_FILE = "/proc/driver/nvidia/params";

const KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg";
const APT_LIST = "/etc/apt/sources.list.d/nvidia-container-toolkit.list";
const REPO = "https://nvidia.github.io/libnvidia-container";
const PARAMS_COPY = "/root/gpu-params";

/** A node container that sees GPUs, and which ones (`all`, or GPU indices). */
export interface GpuNode {
    /** Docker container name, e.g. `lab-worker`. */
    readonly name: string;
    /** Basenames of the device mounts under {@link GPU_DEVICES_DIR}, sorted: `["all"]` or `["0", "2"]`. */
    readonly visibleDevices: readonly string[];
}

/** One entry of `docker inspect` output, the fields read here. */
interface InspectedContainer {
    readonly Name?: string;
    readonly State?: { readonly Running?: boolean };
    readonly Config?: { readonly Labels?: Record<string, string> | null };
    readonly Mounts?: readonly { readonly Source?: string; readonly Destination?: string }[] | null;
}

/** Orders node names as kind numbers them: by stem, then `worker`, `worker2`, ..., `worker10` (not as text). */
function nodeOrder(a: string, b: string): number {
    const split = (name: string): [string, number] => {
        const match = /^(.*?)(\d*)$/.exec(name) as RegExpExecArray;
        return [match[1], match[2] === "" ? 1 : Number(match[2])];
    };
    const [stemA, numberA] = split(a);
    const [stemB, numberB] = split(b);
    return stemA === stemB ? numberA - numberB : stemA < stemB ? -1 : 1;
}

/**
 * The GPU workers of cluster `clusterName`, from `docker inspect` of its node containers (a JSON array): the
 * workers with a `/dev/null` mount under {@link GPU_DEVICES_DIR}, as nvkind finds them. The control plane is never
 * one, even with such a mount. Throws when the output is not `docker inspect` JSON or a GPU worker is stopped.
 */
export function gpuWorkersFromInspect(inspectJson: string, clusterName: string): GpuNode[] {
    let containers: InspectedContainer[];
    try {
        containers = JSON.parse(inspectJson) as InspectedContainer[];
    } catch {
        throw new Error(`\`docker inspect\` did not print JSON: ${inspectJson.slice(0, 200)}`);
    }
    if (!Array.isArray(containers)) throw new Error("`docker inspect` did not print a JSON array");
    const nodes: GpuNode[] = [];
    for (const container of containers) {
        const labels = container.Config?.Labels ?? {};
        if (labels[KIND_CLUSTER_LABEL] !== clusterName || labels[KIND_ROLE_LABEL] !== "worker") continue;
        const visibleDevices = (container.Mounts ?? [])
            .filter((m) => m.Source === "/dev/null" && parentOf(m.Destination ?? "") === GPU_DEVICES_DIR)
            .map((m) => (m.Destination as string).slice(GPU_DEVICES_DIR.length + 1))
            .sort();
        if (visibleDevices.length === 0) continue;
        const name = (container.Name ?? "").replace(/^\//, "");
        if (container.State?.Running !== true) {
            throw new Error(
                `GPU node ${name} of kind cluster ${clusterName} is not running (start it: docker start ${name})`,
            );
        }
        nodes.push({ name, visibleDevices });
    }
    return nodes.sort((a, b) => nodeOrder(a.name, b.name));
}

function parentOf(path: string): string {
    return path.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
}

/** The `docker` arguments that list the node containers of a kind cluster, one name a line. */
export function listNodesArgs(clusterName: string): string[] {
    return ["ps", "-a", "--filter", `label=${KIND_CLUSTER_LABEL}=${clusterName}`, "--format", "{{.Names}}"];
}

/** What `/proc/driver/nvidia/params` says: `0` (device files left alone), `1` (driver creates them), or absent. */
export function modifyDeviceFiles(params: string): "0" | "1" | undefined {
    for (const line of params.split("\n")) {
        const trimmed = line.trim();
        if (trimmed === "ModifyDeviceFiles: 0") return "0";
        if (trimmed === "ModifyDeviceFiles: 1") return "1";
    }
    return undefined;
}

/** True when `crictl info` (the running containerd's CRI config) lists a runtime handler named `nvidia`. */
export function containerdHasNvidiaRuntime(crictlInfo: string): boolean {
    return new RegExp(`"${NVIDIA_RUNTIME_CLASS}"\\s*:\\s*\\{`).test(crictlInfo);
}

/** `/dev/nvidia<N>` entries (from `ls /dev`) of GPUs this node must not see; none when it sees `all`. */
export function strayDeviceNodes(devListing: string, visibleDevices: readonly string[]): string[] {
    if (visibleDevices.includes("all")) return [];
    return devListing
        .split(/\s+/)
        .filter((entry) => /^nvidia\d+$/.test(entry) && !visibleDevices.includes(entry.slice("nvidia".length)))
        .sort((a, b) => nodeOrder(a, b));
}

/** The names of the steps, in the order they run on a node. */
export type StepName =
    | "read-params"
    | "check-toolkit"
    | "install-toolkit"
    | "check-containerd"
    | "configure-containerd"
    | "restart-containerd"
    | "mask-params"
    | "list-devices"
    | "remove-device-node";

/** A command run in a node container (`docker exec <node> ...argv`). */
export interface NodeCommand {
    /** Which step this is; error messages name it. */
    readonly step: StepName;
    /** What it does, for messages. */
    readonly purpose: string;
    /** The command and its arguments inside the node. */
    readonly argv: readonly string[];
    /** True for a check that changes nothing (a second run on a prepared node issues only these). */
    readonly readOnly: boolean;
}

const script = (...lines: string[]) => ["bash", "-c", ["set -euo pipefail", ...lines].join("\n")];

/** The read-only checks, one per step that may be skipped. */
export const CHECKS = {
    readParams: {
        step: "read-params",
        purpose: `read ${NVIDIA_PARAMS_FILE}`,
        argv: ["cat", NVIDIA_PARAMS_FILE],
        readOnly: true,
    },
    toolkit: {
        step: "check-toolkit",
        purpose: "see whether nvidia-ctk is installed",
        argv: ["nvidia-ctk", "--version"],
        readOnly: true,
    },
    containerd: {
        step: "check-containerd",
        purpose: "ask the running containerd for its runtimes",
        argv: ["crictl", "info"],
        readOnly: true,
    },
    devices: { step: "list-devices", purpose: "list /dev", argv: ["ls", "/dev"], readOnly: true },
} as const satisfies Record<string, NodeCommand>;

/** nvkind's install of the NVIDIA container toolkit from NVIDIA's apt repository. */
export const INSTALL_TOOLKIT: NodeCommand = {
    step: "install-toolkit",
    purpose: "install the NVIDIA container toolkit from NVIDIA's apt repository",
    argv: script(
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get update",
        "apt-get install -y gpg",
        `curl -fsSL ${REPO}/gpgkey | gpg --batch --yes --dearmor -o ${KEYRING}`,
        `curl -fsSL ${REPO}/stable/deb/nvidia-container-toolkit.list | ` +
            `sed 's#deb https://#deb [signed-by=${KEYRING}] https://#g' > ${APT_LIST}`,
        "apt-get update",
        "apt-get install -y nvidia-container-toolkit",
    ),
    readOnly: false,
};

/** Adds the `nvidia` runtime to containerd's config file. */
export const CONFIGURE_CONTAINERD: NodeCommand = {
    step: "configure-containerd",
    purpose: "add the nvidia runtime to containerd's config",
    argv: ["nvidia-ctk", "runtime", "configure", "--runtime=containerd", "--config-source=file"],
    readOnly: false,
};

/** Makes containerd load the changed config. */
export const RESTART_CONTAINERD: NodeCommand = {
    step: "restart-containerd",
    purpose: "restart containerd so it loads the nvidia runtime",
    argv: ["systemctl", "restart", "containerd"],
    readOnly: false,
};

/**
 * For toolkits before 1.19, which hide the real params file under a tmpfs over `/proc/driver/nvidia`: expose it,
 * copy it with `ModifyDeviceFiles: 0`, and bind-mount the copy over it. Unlike nvkind, the unmount runs only while
 * the tmpfs is there, so a run that failed after it can be repeated.
 */
export const MASK_PARAMS: NodeCommand = {
    step: "mask-params",
    purpose: `bind-mount a copy of ${NVIDIA_PARAMS_FILE} that says ModifyDeviceFiles: 0`,
    argv: script(
        "if mountpoint -q /proc/driver/nvidia; then umount -R /proc/driver/nvidia; fi",
        `cp ${NVIDIA_PARAMS_FILE} ${PARAMS_COPY}`,
        `sed -i 's/^ModifyDeviceFiles: 1$/ModifyDeviceFiles: 0/' ${PARAMS_COPY}`,
        `mount --bind ${PARAMS_COPY} ${NVIDIA_PARAMS_FILE}`,
    ),
    readOnly: false,
};

/** Removes one `/dev/nvidia<N>` (unmounting it as often as it is mounted) of a GPU the node must not see. */
export function removeDeviceNode(device: string): NodeCommand {
    if (!/^nvidia\d+$/.test(device)) throw new Error(`not a GPU device node: ${device}`);
    return {
        step: "remove-device-node",
        purpose: `remove /dev/${device}, a GPU this node must not see`,
        argv: script(`while umount /dev/${device}; do :; done`, `rm -rf /dev/${device}`),
        readOnly: false,
    };
}

/** The results of the read-only checks on one node. */
export interface NodeFindings {
    /** Output of {@link CHECKS.readParams}. */
    readonly params: string;
    /** Whether {@link CHECKS.toolkit} succeeded. */
    readonly toolkitInstalled: boolean;
    /** Output of {@link CHECKS.containerd}. */
    readonly crictlInfo: string;
    /** Output of {@link CHECKS.devices}; only read when the node sees some GPUs, not `all`. */
    readonly devListing?: string;
}

/**
 * The changing commands one node still needs, in nvkind's order, given what the checks found; empty for a
 * prepared node. Throws when the params file has no `ModifyDeviceFiles` line (not an NVIDIA driver's).
 */
export function stepsNeeded(node: GpuNode, found: NodeFindings): NodeCommand[] {
    const steps: NodeCommand[] = [];
    if (!found.toolkitInstalled) steps.push(INSTALL_TOOLKIT);
    if (!containerdHasNvidiaRuntime(found.crictlInfo)) steps.push(CONFIGURE_CONTAINERD, RESTART_CONTAINERD);
    const modify = modifyDeviceFiles(found.params);
    if (modify === undefined) {
        throw new Error(
            `${NVIDIA_PARAMS_FILE} has no ModifyDeviceFiles line; this is not an NVIDIA driver's params file`,
        );
    }
    // Toolkit 1.19 and later mask the file themselves (a CDI hook): then there is nothing to do.
    if (modify === "1") steps.push(MASK_PARAMS);
    steps.push(...strayDeviceNodes(found.devListing ?? "", node.visibleDevices).map(removeDeviceNode));
    return steps;
}

/** The message of a failed command: node, step, what it was for, the command, and the tool's own words. */
export function stepFailure(
    node: string,
    command: NodeCommand,
    exitCode: string | number | null | undefined,
    said: string,
): string {
    const shown = command.argv[0] === "bash" ? `bash -c <${command.step} script>` : command.argv.join(" ");
    const tail = said.trim().split("\n").slice(-20).join("\n");
    const where = `GPU node ${node}, step ${command.step} (${command.purpose})`;
    return `${where}: \`docker exec ${node} ${shown}\` failed (exit code ${exitCode}):\n${tail}`;
}
