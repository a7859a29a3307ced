/**
 * The NVIDIA GPU Operator: device plugin, GPU feature discovery, DCGM exporter and (optionally) the driver and
 * container toolkit, so that pods can ask for `nvidia.com/gpu`.
 */
import * as pulumi from "@pulumi/pulumi";
import { chartVersion, check, dnsLabel, problem, refuse } from "../config/rules";
import { namespacedRelease } from "./helm";

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
     * host's driver through the device mount.
     */
    readonly driverEnabled: boolean;
    /**
     * Let the operator install the NVIDIA Container Toolkit on the nodes (`toolkit.enabled`). Default: the value
     * of `driverEnabled`. False on Kind: the GPU node setup (`GpuNodeSetup`) installs and configures it.
     */
    readonly toolkitEnabled?: boolean;
    /**
     * Run the DCGM exporter (GPU metrics, `dcgmExporter.enabled`). Default true; false on Kind, as in NVIDIA's Kind
     * test.
     */
    readonly dcgmExporterEnabled?: boolean;
    /** Chart version, pinned. Default {@link DEFAULT_GPU_OPERATOR_CHART_VERSION}. */
    readonly chartVersion?: string;
}

/**
 * The settings NVIDIA's own Kind GPU test (nvkind's gpu-e2e workflow) installs the operator with: the driver and
 * the toolkit live on the host and in the prepared nodes, and the DCGM exporter is off.
 */
export const KIND_GPU_OPERATOR_SETTINGS = {
    driverEnabled: false,
    toolkitEnabled: false,
    dcgmExporterEnabled: false,
} as const satisfies Partial<GpuOperatorArgs>;

/** The Helm values this project sets on the `gpu-operator` chart; every other value keeps the chart's default. */
export type GpuOperatorValues = {
    /** Driver daemonset. */
    readonly driver: {
        /** Install the driver as a container on each GPU node. From {@link GpuOperatorArgs.driverEnabled}. */
        readonly enabled: boolean;
    };
    /** Container toolkit daemonset. */
    readonly toolkit: {
        /** Install and configure the toolkit on each GPU node. From {@link GpuOperatorArgs.toolkitEnabled}. */
        readonly enabled: boolean;
    };
    /** DCGM exporter daemonset. */
    readonly dcgmExporter: {
        /** Export GPU metrics. From {@link GpuOperatorArgs.dcgmExporterEnabled}. */
        readonly enabled: boolean;
    };
    /** Node feature discovery, which labels the nodes that have an NVIDIA GPU; the operands run only there. */
    readonly nfd: {
        /** Always true (the chart's default, and set in NVIDIA's Kind test). */
        readonly enabled: boolean;
    };
    /** Container Device Interface. */
    readonly cdi: {
        /** Always true: the chart's default, with which NVIDIA's Kind test passes. */
        readonly enabled: boolean;
    };
    /** The operator deployment. */
    readonly operator: {
        /**
         * Always `nvidia` (the chart's default): the RuntimeClass the operator creates and owns, before its pods
         * that use it; its handler `nvidia` is the containerd runtime the GPU node setup configures.
         */
        readonly runtimeClass: string;
    };
};

/**
 * Helm values for the `gpu-operator` chart. Pure. `nfd.enabled`, `cdi.enabled` and `operator.runtimeClass`
 * restate chart defaults so that a chart bump that changes one does not silently change how nodes get GPUs.
 */
export function gpuOperatorValues(
    args: Pick<GpuOperatorArgs, "driverEnabled" | "toolkitEnabled" | "dcgmExporterEnabled">,
): GpuOperatorValues {
    return {
        driver: { enabled: args.driverEnabled },
        toolkit: { enabled: args.toolkitEnabled ?? args.driverEnabled },
        dcgmExporter: { enabled: args.dcgmExporterEnabled ?? true },
        nfd: { enabled: true },
        cdi: { enabled: true },
        operator: { runtimeClass: "nvidia" },
    };
}

/** Everything wrong with `args`, one line each; empty when usable. */
export function gpuOperatorProblems(args: GpuOperatorArgs): string[] {
    const problems = [...check("namespace", args.namespace, dnsLabel())];
    if (typeof args.driverEnabled !== "boolean") {
        problems.push(problem("driverEnabled", args.driverEnabled, "must be true or false"));
    }
    for (const field of ["toolkitEnabled", "dcgmExporterEnabled"] as const) {
        const value = args[field];
        if (value !== undefined && typeof value !== "boolean") {
            problems.push(problem(field, value, "must be true, false or left out"));
        }
    }
    if (args.chartVersion !== undefined) problems.push(...check("chartVersion", args.chartVersion, chartVersion));
    return problems;
}

/** The NVIDIA GPU Operator in its own namespace. */
export class GpuOperator extends pulumi.ComponentResource {
    /** Namespace of the operator (known once the Namespace exists). */
    readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: GpuOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        refuse("GpuOperator", name, gpuOperatorProblems(args));
        const version = args.chartVersion ?? DEFAULT_GPU_OPERATOR_CHART_VERSION;
        // Validated before registering anything: bad arguments leave no half-made component behind.
        super("hyperscaler:gpu:GpuOperator", name, {}, opts);

        // `<name>-namespace` and `<name>-release`, the names (and so the URNs) this component has always given them.
        const { namespace } = namespacedRelease(
            name,
            {
                namespace: {
                    name: args.namespace,
                    // The operator's daemonsets (device plugin, toolkit, driver, DCGM, MIG manager) mount host paths,
                    // run privileged and use the host's PID/network namespaces: a stricter level would reject them.
                    enforce: "privileged",
                },
                releaseName: GPU_OPERATOR_CHART,
                chart: GPU_OPERATOR_CHART,
                repo: GPU_OPERATOR_CHART_REPO,
                version,
                values: gpuOperatorValues(args),
                // Helm's 300 s default is too short for a first install on a laptop: the operator and NFD images are
                // pulled before they turn ready (nvkind's own GPU Operator demo waits up to 20 minutes).
                timeoutSeconds: 900,
            },
            { parent: this },
        );

        this.namespace = namespace.metadata.name;
        this.registerOutputs({ namespace: this.namespace });
    }
}
