/**
 * A Pulumi dynamic provider that waits, bounded, until the cluster's nodes advertise allocatable `nvidia.com/gpu`,
 * asking `kubectl`; when the time is up it finds out which layer is missing (host driver, toolkit, device plugin).
 *
 * Serialized into the stack state (see the header of kindProvider.ts): Node's modules are `require`d inside the
 * functions, and the only imports with values are pure and import-free.
 */
import type * as pulumi from "@pulumi/pulumi";
import { CHECKS, containerdHasNvidiaRuntime, gpuWorkersFromInspect, listNodesArgs } from "../cluster/nvkind";
import { DEVICE_PLUGIN_SELECTOR, LayerFindings, NodeGpus, allocatableGpus, diagnose, podStates } from "./gpuCapacity";

/** Inputs of the wait resource. */
export interface GpuWaitInputs {
    /** kubeconfig contents (a secret), for a cluster this stack created. Exclusive with `kubeconfigPath`. */
    readonly kubeconfig?: string;
    /** kubeconfig file of an existing cluster. Default: kubectl's own lookup (`$KUBECONFIG`, `~/.kube/config`). */
    readonly kubeconfigPath?: string;
    /** Context in that kubeconfig. Default: its current context. */
    readonly context?: string;
    /** Namespace of the GPU operator, where its device plugin runs. Required. */
    readonly operatorNamespace: string;
    /** The kind cluster, whose GPU nodes are checked with `docker exec` when the wait runs out. Default none. */
    readonly kindClusterName?: string;
    /** GPUs (summed over nodes) to wait for. Default 1. */
    readonly minGpus?: number;
    /** How long to wait, in seconds. Default 600. */
    readonly timeoutSeconds?: number;
    /** Seconds between two polls. Default 5. */
    readonly pollIntervalSeconds?: number;
    /** The kubectl binary. Default `kubectl`. */
    readonly kubectlPath?: string;
    /** The docker binary. Default `docker`. */
    readonly dockerPath?: string;
}

/** Outputs: the inputs, plus the nodes found with GPUs. */
export interface GpuWaitOutputs extends GpuWaitInputs {
    /** Nodes with allocatable GPUs, by name. */
    readonly gpuNodes: readonly NodeGpus[];
    /** Their GPUs, summed. */
    readonly totalGpus: number;
}

/** Time, injectable so tests run without waiting. */
export interface Clock {
    /** Milliseconds since some fixed point. */
    now(): number;
    /** Resolves after `ms` milliseconds. */
    sleep(ms: number): Promise<void>;
}

/** Defaults of the optional numbers. */
export const GPU_WAIT_DEFAULTS = { minGpus: 1, timeoutSeconds: 600, pollIntervalSeconds: 5 } as const;

interface Ran {
    readonly code: number | string | null;
    readonly stdout: string;
    readonly stderr: string;
}

/**
 * Runs a CLI; resolves with its exit code and output, never rejects. (Not named `run`: mocha defines a global of
 * that name, and the closure serializer does not capture a name it finds global.)
 */
function runTool(binary: string, args: readonly string[]): Promise<Ran> {
    const { execFile } = require("child_process") as typeof import("child_process");
    return new Promise((resolve) => {
        execFile(binary, [...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            const code = (error as { code?: string | number } | null)?.code;
            const said = code === "ENOENT" ? `${binary} was not found (on PATH, or at that path)` : String(stderr);
            resolve({ code: error ? (code ?? 1) : 0, stdout: String(stdout), stderr: said });
        });
    });
}

/**
 * Polls `kubectl get nodes` until the nodes' allocatable GPUs add up to `minGpus`, or the time is up; then
 * rejects with the message of {@link diagnose}. The kubeconfig contents, if given, go to a private temporary
 * file (mode 0600) that is removed afterwards.
 */
export async function waitForGpus(inputs: GpuWaitInputs, clock: Clock = realClock()): Promise<GpuWaitOutputs> {
    const fs = require("fs") as typeof import("fs");
    const os = require("os") as typeof import("os");
    const path = require("path") as typeof import("path");
    const minGpus = inputs.minGpus ?? GPU_WAIT_DEFAULTS.minGpus;
    const timeoutSeconds = inputs.timeoutSeconds ?? GPU_WAIT_DEFAULTS.timeoutSeconds;
    const intervalMs = (inputs.pollIntervalSeconds ?? GPU_WAIT_DEFAULTS.pollIntervalSeconds) * 1000;
    const kubectl = inputs.kubectlPath || "kubectl";
    let dir: string | undefined;
    try {
        const target: string[] = [];
        if (inputs.kubeconfig !== undefined) {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-wait-"));
            const file = path.join(dir, "kubeconfig");
            fs.writeFileSync(file, inputs.kubeconfig, { mode: 0o600 });
            target.push("--kubeconfig", file);
        } else if (inputs.kubeconfigPath !== undefined) {
            target.push("--kubeconfig", inputs.kubeconfigPath);
        }
        if (inputs.context !== undefined) target.push("--context", inputs.context);

        const deadline = clock.now() + timeoutSeconds * 1000;
        let nodesError: string | undefined;
        for (;;) {
            const ran = await runTool(kubectl, [...target, "get", "nodes", "-o", "json"]);
            // No kubectl will not mend itself: say so now rather than after the whole timeout.
            if (ran.code === "ENOENT") throw new Error(`the kubectl CLI is needed to wait for GPUs: ${ran.stderr}`);
            // The API server may be briefly away (containerd restarts on the nodes): a failed look is not the end.
            try {
                if (ran.code !== 0) throw new Error(ran.stderr.trim() || `exit code ${ran.code}`);
                const gpuNodes = allocatableGpus(ran.stdout);
                nodesError = undefined;
                const totalGpus = gpuNodes.reduce((sum, n) => sum + n.gpus, 0);
                if (totalGpus >= minGpus) return { ...inputs, gpuNodes, totalGpus };
            } catch (error) {
                nodesError = (error as Error).message;
            }
            const left = deadline - clock.now();
            if (left <= 0) break;
            await clock.sleep(Math.min(intervalMs, left));
        }
        const found = await findLayers(inputs, kubectl, target, nodesError);
        throw new Error(
            diagnose({ minGpus, timeoutSeconds, operatorNamespace: inputs.operatorNamespace }, found).message,
        );
    } finally {
        if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    }
}

function realClock(): Clock {
    return { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
}

/** Looks at each layer once: the Kind nodes from inside (driver, containerd), then the device plugin pods. */
async function findLayers(
    inputs: GpuWaitInputs,
    kubectl: string,
    target: string[],
    nodesError?: string,
): Promise<LayerFindings> {
    const found: { -readonly [K in keyof LayerFindings]: LayerFindings[K] } = { nodesError };
    if (inputs.kindClusterName !== undefined) {
        const docker = inputs.dockerPath || "docker";
        try {
            const listed = await runTool(docker, listNodesArgs(inputs.kindClusterName));
            if (listed.code !== 0) throw new Error(listed.stderr.trim());
            const names = listed.stdout
                .split("\n")
                .map((l) => l.trim())
                .filter(Boolean);
            const inspected =
                names.length === 0
                    ? { code: 0, stdout: "[]", stderr: "" }
                    : await runTool(docker, ["inspect", ...names]);
            if (inspected.code !== 0) throw new Error(inspected.stderr.trim());
            const kindNodes = [];
            for (const node of gpuWorkersFromInspect(inspected.stdout, inputs.kindClusterName)) {
                const smi = await runTool(docker, ["exec", node.name, "nvidia-smi", "-L"]);
                const crictl = await runTool(docker, ["exec", node.name, ...CHECKS.containerd.argv]);
                kindNodes.push({
                    node: node.name,
                    ...(smi.code === 0 ? {} : { driverError: (smi.stderr || smi.stdout).trim().split("\n").pop() }),
                    nvidiaRuntime: crictl.code === 0 && containerdHasNvidiaRuntime(crictl.stdout),
                });
            }
            found.kindNodes = kindNodes;
        } catch (error) {
            found.kindNodesError = (error as Error).message;
        }
    }
    const pods = await runTool(kubectl, [
        ...target,
        "get",
        "pods",
        "-n",
        inputs.operatorNamespace,
        "-l",
        DEVICE_PLUGIN_SELECTOR,
        "-o",
        "json",
    ]);
    if (pods.code === 0) found.devicePluginPods = podStates(pods.stdout);
    else found.podsError = pods.stderr.trim() || `exit code ${pods.code}`;
    return found;
}

/** Inputs whose change means a different cluster or goal, so the wait runs again; the timing ones are not. */
const WAIT_AGAIN_ON = [
    "kubeconfig",
    "kubeconfigPath",
    "context",
    "operatorNamespace",
    "kindClusterName",
    "minGpus",
] as const;

/** The resource's id: there is one wait per cluster. */
const GPU_RESOURCE_ID = "nvidia.com-gpu";

/** The provider; hand it to a `pulumi.dynamic.Resource`. */
export const gpuWaitProvider: pulumi.dynamic.ResourceProvider<GpuWaitInputs, GpuWaitOutputs> = {
    async create(inputs) {
        return { id: GPU_RESOURCE_ID, outs: await waitForGpus(inputs) };
    },
    async diff(_id, olds, news) {
        return { changes: WAIT_AGAIN_ON.some((key) => olds[key] !== news[key]) };
    },
    async update(_id, _olds, news) {
        return { outs: await waitForGpus(news) };
    },
    async delete() {
        // Nothing to undo: waiting changed nothing.
    },
};
