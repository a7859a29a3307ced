/**
 * The NVIDIA GPU Operator: device plugin, GPU feature discovery, DCGM exporter and (optionally) the driver and
 * container toolkit, so that pods can ask for `nvidia.com/gpu`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podSecurityLabels } from "./podSecurity";

/** Chart version installed when {@link GpuOperatorArgs.chartVersion} is not given. */
export const DEFAULT_GPU_OPERATOR_CHART_VERSION = "v26.7.0";
/** NVIDIA's Helm repository (NGC), the one NVIDIA's install guide and nvkind use. */
export const GPU_OPERATOR_CHART_REPO = "https://helm.ngc.nvidia.com/nvidia";
/** Chart name in {@link GPU_OPERATOR_CHART_REPO}. */
export const GPU_OPERATOR_CHART = "gpu-operator";

/** Inputs of {@link GpuOperator}. The Kubernetes provider goes in the resource options, not here. */
export interface GpuOperatorArgs {
    /** Namespace of the release and its operands; this component creates it. Required (a DNS-1123 label). */
    readonly namespace: string;
    /**
     * Let the operator install the NVIDIA driver (`driver.enabled`). Required. False on Kind: the nodes see the
     * host's driver through nvkind's device mounts.
     */
    readonly driverEnabled: boolean;
    /**
     * Let the operator install the NVIDIA Container Toolkit on the nodes (`toolkit.enabled`). Default: the value
     * of `driverEnabled`, because a node that brings its own driver (an nvkind worker) also brings the toolkit.
     */
    readonly toolkitEnabled?: boolean;
    /** Chart version, pinned. Default {@link DEFAULT_GPU_OPERATOR_CHART_VERSION}. */
    readonly chartVersion?: string;
}

/** The Helm values this project sets on the `gpu-operator` chart; every other value keeps the chart's default. */
export type GpuOperatorValues = {
    /** Driver daemonset. */
    readonly driver: {
        /** Install the driver as a container on each GPU node. From {@link GpuOperatorArgs.driverEnabled}. */
        readonly enabled: boolean;
    };
    /** Container toolkit daemonset. */
    readonly toolkit: {
        /** Install and configure the NVIDIA Container Toolkit on each GPU node. From {@link GpuOperatorArgs.toolkitEnabled}. */
        readonly enabled: boolean;
    };
    /** Container Device Interface. */
    readonly cdi: {
        /** Always true: nvkind's recommended values inject devices through CDI. */
        readonly enabled: boolean;
    };
    /** The operator deployment. */
    readonly operator: {
        /** Always `nvidia`, the RuntimeClass nvkind's node configuration registers. */
        readonly runtimeClass: string;
    };
};

/**
 * Helm values for the `gpu-operator` chart. Pure. `cdi.enabled` and `operator.runtimeClass` restate what nvkind
 * recommends (they are also the v26.7.0 defaults) so that a chart bump that changes a default does not silently
 * change how Kind nodes get their GPUs.
 */
export function gpuOperatorValues(args: Pick<GpuOperatorArgs, "driverEnabled" | "toolkitEnabled">): GpuOperatorValues {
    return {
        driver: { enabled: args.driverEnabled },
        toolkit: { enabled: args.toolkitEnabled ?? args.driverEnabled },
        cdi: { enabled: true },
        operator: { runtimeClass: "nvidia" },
    };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CHART_VERSION = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/** The NVIDIA GPU Operator in its own namespace. */
export class GpuOperator extends pulumi.ComponentResource {
    /** Namespace of the operator (known once the Namespace exists). */
    readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: GpuOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        if (typeof args.namespace !== "string" || args.namespace.length > 63 || !DNS_LABEL.test(args.namespace)) {
            throw new Error(
                `GpuOperator ${name}: args.namespace = ${JSON.stringify(args.namespace)}: must be a DNS-1123 label ` +
                    "(at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit)",
            );
        }
        if (typeof args.driverEnabled !== "boolean") {
            throw new Error(`GpuOperator ${name}: args.driverEnabled = ${JSON.stringify(args.driverEnabled)}: must be true or false`);
        }
        if (args.toolkitEnabled !== undefined && typeof args.toolkitEnabled !== "boolean") {
            throw new Error(`GpuOperator ${name}: args.toolkitEnabled = ${JSON.stringify(args.toolkitEnabled)}: must be true, false or absent`);
        }
        const chartVersion = args.chartVersion ?? DEFAULT_GPU_OPERATOR_CHART_VERSION;
        if (!CHART_VERSION.test(chartVersion)) {
            throw new Error(
                `GpuOperator ${name}: args.chartVersion = ${JSON.stringify(args.chartVersion)}: must be an exact chart version such as ${DEFAULT_GPU_OPERATOR_CHART_VERSION}`,
            );
        }
        // Validated before registering anything: bad arguments leave no half-made component behind.
        super("hyperscaler:gpu:GpuOperator", name, {}, opts);

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.namespace,
                    // The operator's daemonsets (device plugin, toolkit, driver, DCGM, MIG manager) mount host paths,
                    // run privileged and use the host's PID/network namespaces: a stricter level would reject them.
                    labels: podSecurityLabels("privileged"),
                },
            },
            { parent: this },
        );

        new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: GPU_OPERATOR_CHART,
                chart: GPU_OPERATOR_CHART,
                version: chartVersion,
                repositoryOpts: { repo: GPU_OPERATOR_CHART_REPO },
                namespace: namespace.metadata.name,
                values: gpuOperatorValues(args),
                // Helm's 300 s default is too short for a first install on a laptop: the operator and NFD images are
                // pulled before they turn ready (nvkind's own GPU Operator demo waits up to 20 minutes).
                timeout: 900,
            },
            { parent: this },
        );

        this.namespace = namespace.metadata.name;
        this.registerOutputs({ namespace: this.namespace });
    }
}
