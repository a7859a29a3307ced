import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { check, dnsLabel, problem, refuse, wholeNumber } from "../../config/rules";
import { gpuNodeSetupProvider } from "./gpuNodeSetupProvider";
import { NVIDIA_RUNTIME_CLASS } from "./nvkind";

/** Arguments of {@link GpuNodeSetup}. The Kubernetes provider of the cluster goes in the resource options. */
export interface GpuNodeSetupArgs {
    /** The kind cluster's name (`KindCluster.clusterName`). Required. */
    readonly clusterName: pulumi.Input<string>;
    /** How many GPU workers the cluster has (the kind config's `gpuWorkers`). Required; 1 to 100. */
    readonly gpuWorkers: number;
    /** The docker binary: a name looked up on PATH, or a path. Default `docker`. */
    readonly dockerPath?: string;
    /**
     * The cluster's identity (`KindCluster.identity`), new whenever the cluster is made anew: the setup then runs
     * on the new nodes. Default none: the setup runs again only when the name, the count or the docker binary
     * change, or when a refresh finds a node unprepared.
     */
    readonly clusterIdentity?: pulumi.Input<string>;
    /**
     * Register the RuntimeClass `nvidia` here, as nvkind does. Default true. Set it false when the GPU operator is
     * installed: the operator creates `nvidia` itself (its `pre-requisites` state, before any of its pods) and
     * takes it over with a controller ownerReference to its ClusterPolicy, so a RuntimeClass made here would be
     * garbage-collected when the operator is removed. One owner: the operator, or this setup.
     */
    readonly createRuntimeClass?: boolean;
}

/** The node setup as a dynamic resource; its outputs are the provider's. */
class GpuNodeSetupResource extends pulumi.dynamic.Resource {
    declare readonly nodes: pulumi.Output<string[]>;

    constructor(name: string, inputs: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        // Outputs the provider adds must be named here (as undefined) for Pulumi to expose them.
        super(gpuNodeSetupProvider, name, { ...inputs, nodes: undefined, reports: undefined }, opts);
    }
}

/**
 * NVIDIA's nvkind node setup on every GPU worker of a kind cluster (container toolkit, containerd's `nvidia`
 * runtime, the driver's params file), then, unless the GPU operator owns it, the RuntimeClass `nvidia`. The
 * control plane and the other workers are left alone.
 *
 * A resource of its own, apart from the cluster: if a node fails, the cluster stays in the stack's state and the
 * next `pulumi up` runs the setup again (it skips what is already done). Every refresh (each `npm run up`) asks the
 * nodes, read-only, whether they are still prepared (a restarted node is not), and a cluster made anew brings a new
 * `clusterIdentity`; either way the setup runs again. A preview asks nothing of Docker.
 */
export class GpuNodeSetup extends pulumi.ComponentResource {
    /** Names of the GPU worker containers that were prepared. */
    readonly nodes: pulumi.Output<string[]>;
    /** The RuntimeClass name pods use to get the NVIDIA runtime: `nvidia` (made here or by the GPU operator). */
    readonly runtimeClassName: pulumi.Output<string>;

    constructor(name: string, args: GpuNodeSetupArgs, opts?: pulumi.ComponentResourceOptions) {
        refuse("GpuNodeSetup", name, gpuNodeSetupProblems(args));
        super("hyperscaler:cluster:GpuNodeSetup", name, {}, opts);

        const inputs: pulumi.Inputs = {
            clusterName: args.clusterName,
            gpuWorkers: args.gpuWorkers,
            dockerPath: args.dockerPath ?? "docker",
            clusterIdentity: args.clusterIdentity,
        };
        const setup = new GpuNodeSetupResource(`${name}-nodes`, inputs, { parent: this });

        const runtimeClass =
            args.createRuntimeClass === false
                ? undefined
                : new k8s.node.v1.RuntimeClass(
                      `${name}-runtime-class`,
                      { metadata: { name: NVIDIA_RUNTIME_CLASS }, handler: NVIDIA_RUNTIME_CLASS },
                      {
                          parent: this,
                          // The handler names containerd's nvidia runtime, there only once the nodes are prepared.
                          dependsOn: [setup],
                          // Turning the GPU operator on drops this resource while the operator takes the object over:
                          // deleting it then would remove the operator's RuntimeClass (it does not watch for that).
                          retainOnDelete: true,
                      },
                  );

        this.nodes = setup.nodes;
        this.runtimeClassName = runtimeClass ? runtimeClass.metadata.name : pulumi.output(NVIDIA_RUNTIME_CLASS);
        this.registerOutputs({ nodes: this.nodes, runtimeClassName: this.runtimeClassName });
    }
}

/** Everything wrong with `args`, one line each; empty when usable. */
export function gpuNodeSetupProblems(args: GpuNodeSetupArgs): string[] {
    const problems: string[] = [];
    if (typeof args.clusterName === "string") problems.push(...check("clusterName", args.clusterName, dnsLabel(32)));
    else if (args.clusterName === undefined)
        problems.push(problem("clusterName", undefined, "must be the kind cluster's name"));
    problems.push(...check("gpuWorkers", args.gpuWorkers, wholeNumber(1, 100)));
    if (args.dockerPath !== undefined && (typeof args.dockerPath !== "string" || args.dockerPath.trim() === "")) {
        problems.push(problem("dockerPath", args.dockerPath, "must be the docker binary's name on PATH or its path"));
    }
    if (args.createRuntimeClass !== undefined && typeof args.createRuntimeClass !== "boolean") {
        problems.push(problem("createRuntimeClass", args.createRuntimeClass, "must be true, false or left out"));
    }
    return problems;
}
