/**
 * The AI/HPC lab: a Kubernetes cluster (Kind, or one that exists), Slurm on it, the NVIDIA GPU Operator where
 * the stack asks for GPUs, and vCluster tenants. This file only composes; each piece is a component in
 * `components/`, and every setting comes typed and validated from `config/`.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config";
import { ExistingCluster } from "./components/cluster/ExistingCluster";
import { KindCluster } from "./components/cluster/KindCluster";
import { GpuOperator } from "./components/GpuOperator";
import { SlinkySlurm } from "./components/slinky/SlinkySlurm";
import { SlurmNamespace } from "./components/slurm/SlurmNamespace";
import { StaticSlurm } from "./components/slurm/StaticSlurm";
import { VirtualCluster } from "./components/VirtualCluster";

const config = loadStackConfig();

const cluster =
    config.cluster.type === "kind"
        ? new KindCluster("lab", {
              clusterName: config.cluster.name,
              workers: config.cluster.workers,
              gpuWorkers: config.cluster.gpuWorkers,
              nodeImage: config.cluster.nodeImage,
              portMappings: config.cluster.portMappings,
              // The static stack's image is built locally (npm run up does it); kind copies it into the nodes.
              images: config.slurm.mode === "static" ? [config.slurm.image] : [],
          })
        : new ExistingCluster("lab", {
              kubeconfigPath: config.cluster.kubeconfigPath,
              context: config.cluster.context,
          });
const onCluster = { provider: cluster.provider };

const gpuOperator = config.gpuOperator.enabled
    ? new GpuOperator("gpu-operator", { namespace: config.gpuOperator.namespace, driverEnabled: config.gpuOperator.driverEnabled }, onCluster)
    : undefined;

// GPU compute pods ask for nvidia.com/gpu, which only exists once the operator's device plugin runs.
const afterGpus = gpuOperator && config.slurm.compute.gpus > 0 ? { dependsOn: [gpuOperator] } : {};

// One owner of the Slurm namespace in both modes, so that switching modes relabels it instead of re-creating it.
const slurmMode = config.slurm.mode;
const slurmNamespace =
    slurmMode === "none"
        ? undefined
        : new SlurmNamespace("slurm", { namespace: config.slurm.namespace, mode: slurmMode }, onCluster);
const slurm =
    slurmNamespace && slurmMode === "static"
        ? new StaticSlurm("slurm", { ...config.slurm, namespace: slurmNamespace }, { ...onCluster, ...afterGpus })
        : slurmNamespace && slurmMode === "slinky"
          ? new SlinkySlurm("slurm", { ...config.slurm, namespace: slurmNamespace }, { ...onCluster, ...afterGpus })
          : undefined;

const tenants = config.vcluster.tenants.map((tenant) => new VirtualCluster(tenant.name, { tenantName: tenant.name }, onCluster));

/** Name of the Kubernetes cluster (the Kind cluster, or the existing cluster's context). */
export const clusterName = cluster.clusterName;
/** kubeconfig of the cluster (secret); `pulumi stack output kubeconfig --show-secrets > kubeconfig`. */
export const kubeconfig = cluster.kubeconfig;
/** Slurm connection info: namespace, controller address and ready-to-paste commands. Never a secret value. */
export const slurmInfo = slurm?.connection;
/** GPU operator namespace, when installed. */
export const gpuOperatorNamespace = gpuOperator?.namespace;
/** One entry per vCluster tenant: its namespace and kubeconfig (secret). */
export const tenantInfo = pulumi.output(
    Object.fromEntries(tenants.map((t) => [t.tenantName, { namespace: t.namespace, kubeconfig: t.kubeconfig }])),
);
