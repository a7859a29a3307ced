/**
 * A Pulumi dynamic provider that prepares the GPU workers of a kind cluster the way NVIDIA's nvkind does, by
 * running the commands of `nvkind.ts` in each node container with `docker exec`.
 *
 * Docker is asked only in `create`, `update` and `read` (refresh): `diff` compares inputs with the recorded
 * outputs, so `pulumi preview` needs no Docker. Whether the nodes are still prepared (a restarted node is not)
 * is asked at refresh, which every `npm run up` runs; a cluster made anew comes with a new `clusterIdentity`.
 *
 * Serialized into the stack state (see the header of kindProvider.ts): Node's modules are `require`d inside the
 * functions, and the only import with values is the pure, import-free `nvkind.ts`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { CHECKS, GpuNode, NodeCommand, gpuWorkersFromInspect, listNodesArgs, stepFailure, stepsNeeded } from "./nvkind";

/** Inputs of the node setup resource. */
export interface GpuNodeSetupInputs {
    /** The kind cluster's name (its node containers carry the label `io.x-k8s.kind.cluster=<name>`). Required. */
    readonly clusterName: string;
    /** How many GPU workers the cluster was created with; a different count found in Docker is an error. Required. */
    readonly gpuWorkers: number;
    /** The docker binary: a name looked up on PATH, or a path. Default `docker`. */
    readonly dockerPath?: string;
    /**
     * Identity of the cluster whose nodes to prepare (`KindCluster.identity`): a cluster made anew under the same
     * name has a new one, so a change means new nodes and the setup runs again. Default none (not compared).
     */
    readonly clusterIdentity?: string;
}

/** What one run did on one node. */
export interface NodeSetupReport {
    /** Node container name. */
    readonly node: string;
    /** The changing steps that ran, in order; empty when the node was already prepared. */
    readonly ran: readonly string[];
}

/** Outputs: the inputs, plus the GPU nodes found and what the last run did on each. */
export interface GpuNodeSetupOutputs extends GpuNodeSetupInputs {
    /** Names of the GPU worker containers, in kind's order. */
    readonly nodes: readonly string[];
    /** What the last create or update ran on each node. */
    readonly reports: readonly NodeSetupReport[];
    /**
     * Set by a refresh (`read`) that found the nodes in need of the setup: the steps still to run on each node, or
     * why the nodes could not be asked. Absent when they were prepared; the next update runs the setup.
     */
    readonly needsSetup?: string;
}

/** The result of one command. */
interface Ran {
    readonly code: number | string | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs docker; resolves with the exit code and output (never rejects but for a missing binary). */
function runDocker(dockerPath: string, args: readonly string[]): Promise<Ran> {
    const { execFile } = require("child_process") as typeof import("child_process");
    return new Promise((resolve, reject) => {
        execFile(dockerPath, [...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            const code = (error as { code?: string | number } | null)?.code;
            if (code === "ENOENT") {
                const where = dockerPath.includes("/") ? `at ${dockerPath}` : `on PATH (looked for "${dockerPath}")`;
                reject(new Error(`the docker CLI was not found ${where}; kind's nodes are Docker containers`));
                return;
            }
            resolve({ code: error ? (code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
        });
    });
}

function dockerOf(inputs: Pick<GpuNodeSetupInputs, "dockerPath">): string {
    return inputs.dockerPath || "docker";
}

/**
 * The GPU workers of the kind cluster, found as nvkind finds them (the device mount of each node container).
 * Throws when their number differs from `gpuWorkers`, naming the nodes found.
 */
export async function findGpuNodes(inputs: GpuNodeSetupInputs): Promise<GpuNode[]> {
    const docker = dockerOf(inputs);
    const where = `kind cluster ${inputs.clusterName}`;
    const listed = await runDocker(docker, listNodesArgs(inputs.clusterName));
    if (listed.code !== 0) {
        throw new Error(
            `${where}: \`docker ps\` failed (exit code ${listed.code}); is Docker running?\n${listed.stderr.trim()}`,
        );
    }
    const names = listed.stdout
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean);
    if (names.length === 0) {
        throw new Error(
            `${where}: Docker has no node containers of it; create the cluster first (pulumi up creates it)`,
        );
    }
    const inspected = await runDocker(docker, ["inspect", ...names]);
    if (inspected.code !== 0) {
        throw new Error(
            `${where}: \`docker inspect\` failed (exit code ${inspected.code}):\n${inspected.stderr.trim()}`,
        );
    }
    const nodes = gpuWorkersFromInspect(inspected.stdout, inputs.clusterName);
    if (nodes.length !== inputs.gpuWorkers) {
        const found = nodes.map((n) => n.name).join(", ") || "none";
        throw new Error(
            `${where}: expected ${inputs.gpuWorkers} GPU workers (gpuWorkers), found ${nodes.length} (${found}) ` +
                "with a /dev/null mount under /var/run/nvidia-container-devices",
        );
    }
    return nodes;
}

/** Runs one command in a node; resolves to its output, rejects naming the node and the step. */
async function inNode(docker: string, node: string, command: NodeCommand): Promise<string> {
    const ran = await runDocker(docker, ["exec", node, ...command.argv]);
    if (ran.code !== 0) throw new Error(stepFailure(node, command, ran.code, ran.stderr || ran.stdout));
    return ran.stdout;
}

/** The read-only checks of one node, and the changing steps it still needs. */
async function plan(docker: string, node: GpuNode): Promise<NodeCommand[]> {
    // The driver first: without it nothing else can work, and reading a file is quick where apt-get is not.
    const params = await inNode(docker, node.name, CHECKS.readParams);
    const toolkitInstalled = (await runDocker(docker, ["exec", node.name, ...CHECKS.toolkit.argv])).code === 0;
    const crictlInfo = await inNode(docker, node.name, CHECKS.containerd);
    const devListing = node.visibleDevices.includes("all")
        ? undefined
        : await inNode(docker, node.name, CHECKS.devices);
    try {
        return stepsNeeded(node, { params, toolkitInstalled, crictlInfo, devListing });
    } catch (error) {
        throw new Error(`GPU node ${node.name}, step ${CHECKS.readParams.step}: ${(error as Error).message}`);
    }
}

/** The nodes that still need changing steps, and which; empty when every GPU worker is prepared. Read-only. */
export async function pendingSetup(inputs: GpuNodeSetupInputs): Promise<NodeSetupReport[]> {
    const docker = dockerOf(inputs);
    const pending: NodeSetupReport[] = [];
    for (const node of await findGpuNodes(inputs)) {
        const steps = await plan(docker, node);
        if (steps.length > 0) pending.push({ node: node.name, ran: steps.map((s) => s.step) });
    }
    return pending;
}

/**
 * Prepares every GPU worker: checks each, then runs only the steps it still needs, nodes one after another so a
 * failure names one node and one step. Idempotent: on prepared nodes only the read-only checks run.
 */
export async function prepareGpuNodes(inputs: GpuNodeSetupInputs): Promise<GpuNodeSetupOutputs> {
    const docker = dockerOf(inputs);
    const nodes = await findGpuNodes(inputs);
    const reports: NodeSetupReport[] = [];
    for (const node of nodes) {
        const steps = await plan(docker, node);
        for (const step of steps) await inNode(docker, node.name, step);
        reports.push({ node: node.name, ran: steps.map((s) => s.step) });
    }
    return {
        clusterName: inputs.clusterName,
        gpuWorkers: inputs.gpuWorkers,
        dockerPath: docker,
        ...(inputs.clusterIdentity === undefined ? {} : { clusterIdentity: inputs.clusterIdentity }),
        nodes: nodes.map((n) => n.name),
        reports,
    };
}

/**
 * Whether recorded outputs differ from new inputs in a way that needs the setup to run: another cluster, count or
 * docker binary, or a refresh that found the nodes unprepared. Pure: it reads only its arguments.
 */
export function setupOutdated(olds: GpuNodeSetupOutputs, news: GpuNodeSetupInputs): boolean {
    return (
        olds.clusterName !== news.clusterName ||
        olds.gpuWorkers !== news.gpuWorkers ||
        dockerOf(olds) !== dockerOf(news) ||
        olds.clusterIdentity !== news.clusterIdentity ||
        olds.needsSetup !== undefined
    );
}

/** The recorded outputs as a refresh finds the nodes: `needsSetup` says what is left to do, or why nobody knows. */
export async function refreshedOutputs(props: GpuNodeSetupOutputs): Promise<GpuNodeSetupOutputs> {
    const { needsSetup: _stale, ...recorded } = props;
    let pending: NodeSetupReport[];
    try {
        pending = await pendingSetup(props);
    } catch (error) {
        // Not knowing (Docker down, the cluster gone) means "run it": the update then fails or succeeds on its own.
        return { ...recorded, needsSetup: `the nodes could not be asked: ${(error as Error).message}` };
    }
    if (pending.length === 0) return recorded;
    return { ...recorded, needsSetup: pending.map((p) => `${p.node}: ${p.ran.join(", ")}`).join("; ") };
}

/** The provider; hand it to a `pulumi.dynamic.Resource`. */
export const gpuNodeSetupProvider: pulumi.dynamic.ResourceProvider<GpuNodeSetupInputs, GpuNodeSetupOutputs> = {
    async create(inputs) {
        return { id: inputs.clusterName, outs: await prepareGpuNodes(inputs) };
    },

    async diff(_id, olds, news) {
        // Inputs against the recorded outputs only, so a preview needs no Docker; the nodes are asked in read.
        return { changes: setupOutdated(olds, news) };
    },

    async read(id, props) {
        // Refresh (every npm run up): the nodes may have lost their setup (a restarted node); asking is read-only.
        return { id, props: await refreshedOutputs(props as GpuNodeSetupOutputs) };
    },

    async update(_id, _olds, news) {
        return { outs: await prepareGpuNodes(news) };
    },

    async delete() {
        // Nothing to undo: the setup lives inside the node containers, which go with the kind cluster.
    },
};
