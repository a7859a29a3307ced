import * as pulumi from "@pulumi/pulumi";
import { check, dnsLabel, problem, refuse, wholeNumber } from "../../config/rules";
import { GPU_WAIT_DEFAULTS, gpuWaitProvider } from "./gpuWaitProvider";

/** Arguments of {@link GpusReady}: which cluster to ask, and how long to wait. */
export interface GpusReadyArgs {
    /**
     * kubeconfig contents (secret) of a cluster this stack created (`KindCluster.kubeconfig`). Exclusive with
     * `kubeconfigPath`. Default none.
     */
    readonly kubeconfig?: pulumi.Input<string>;
    /** kubeconfig file of an existing cluster. Default: kubectl's own lookup (`$KUBECONFIG`, then `~/.kube/config`). */
    readonly kubeconfigPath?: string;
    /** Context in that kubeconfig. Default: its current context. */
    readonly context?: string;
    /** Namespace of the GPU operator (`GpuOperator.namespace`), where its device plugin runs. Required. */
    readonly operatorNamespace: pulumi.Input<string>;
    /** The kind cluster's name: on timeout, its GPU nodes are checked from inside (driver, toolkit). Default none. */
    readonly kindClusterName?: pulumi.Input<string>;
    /** GPUs, summed over the nodes, to wait for. Default 1; 1 to 1024. */
    readonly minGpus?: number;
    /** How long to wait before failing, in seconds. Default 600; 0 to 7200 (0: look once). */
    readonly timeoutSeconds?: number;
    /** Seconds between two looks. Default 5; 0 to 300. */
    readonly pollIntervalSeconds?: number;
    /** The kubectl binary: a name on PATH or a path. Default `kubectl`. */
    readonly kubectlPath?: string;
    /** The docker binary: a name on PATH or a path. Default `docker`. */
    readonly dockerPath?: string;
}

/** The wait as a dynamic resource; its outputs are the provider's. */
class GpuWaitResource extends pulumi.dynamic.Resource {
    declare readonly gpuNodes: pulumi.Output<{ node: string; gpus: number }[]>;
    declare readonly totalGpus: pulumi.Output<number>;

    constructor(name: string, inputs: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        // Outputs the provider adds must be named here (as undefined) for Pulumi to expose them.
        super(gpuWaitProvider, name, { ...inputs, gpuNodes: undefined, totalGpus: undefined }, opts);
    }
}

/**
 * Done once the cluster's nodes advertise allocatable `nvidia.com/gpu`: make GPU pods depend on it. Waits at most
 * `timeoutSeconds`; then fails naming the missing layer (host driver, toolkit, or the device plugin).
 */
export class GpusReady extends pulumi.ComponentResource {
    /** Nodes with allocatable GPUs when the wait ended, by name. */
    readonly gpuNodes: pulumi.Output<{ node: string; gpus: number }[]>;
    /** Their GPUs, summed. */
    readonly totalGpus: pulumi.Output<number>;

    constructor(name: string, args: GpusReadyArgs, opts?: pulumi.ComponentResourceOptions) {
        refuse("GpusReady", name, gpusReadyProblems(args));
        super("hyperscaler:gpu:GpusReady", name, {}, opts);

        const inputs: pulumi.Inputs = {
            kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
            kubeconfigPath: args.kubeconfigPath,
            context: args.context,
            operatorNamespace: args.operatorNamespace,
            kindClusterName: args.kindClusterName,
            minGpus: args.minGpus ?? GPU_WAIT_DEFAULTS.minGpus,
            timeoutSeconds: args.timeoutSeconds ?? GPU_WAIT_DEFAULTS.timeoutSeconds,
            pollIntervalSeconds: args.pollIntervalSeconds ?? GPU_WAIT_DEFAULTS.pollIntervalSeconds,
            kubectlPath: args.kubectlPath ?? "kubectl",
            dockerPath: args.dockerPath ?? "docker",
        };
        const wait = new GpuWaitResource(`${name}-wait`, inputs, {
            parent: this,
            additionalSecretOutputs: ["kubeconfig"],
        });

        this.gpuNodes = wait.gpuNodes;
        this.totalGpus = wait.totalGpus;
        this.registerOutputs({ gpuNodes: this.gpuNodes, totalGpus: this.totalGpus });
    }
}

/** Everything wrong with `args`, one line each; empty when usable. */
export function gpusReadyProblems(args: GpusReadyArgs): string[] {
    const problems: string[] = [];
    if (args.kubeconfig !== undefined && args.kubeconfigPath !== undefined) {
        problems.push(
            problem("kubeconfigPath", args.kubeconfigPath, "must be left out when kubeconfig (the contents) is given"),
        );
    }
    for (const field of ["kubeconfigPath", "context", "kubectlPath", "dockerPath"] as const) {
        const value = args[field];
        if (value !== undefined && (typeof value !== "string" || value.trim() === "")) {
            problems.push(problem(field, value, "must be a non-empty string, or left out for the default"));
        }
    }
    if (typeof args.operatorNamespace === "string" || args.operatorNamespace === undefined) {
        problems.push(...check("operatorNamespace", args.operatorNamespace, dnsLabel()));
    }
    if (args.minGpus !== undefined) problems.push(...check("minGpus", args.minGpus, wholeNumber(1, 1024)));
    if (args.timeoutSeconds !== undefined) {
        problems.push(...check("timeoutSeconds", args.timeoutSeconds, wholeNumber(0, 7200)));
    }
    if (args.pollIntervalSeconds !== undefined) {
        problems.push(...check("pollIntervalSeconds", args.pollIntervalSeconds, wholeNumber(0, 300)));
    }
    return problems;
}
