/**
 * The AI/HPC lab: a Kubernetes cluster (Kind, or one that exists), Slurm on it, the NVIDIA GPU Operator where
 * the stack asks for GPUs, and vCluster tenants with Argo CD. This file only composes; each piece is a component
 * in `components/`, and every setting comes typed and validated from `config/`.
 */
import * as pulumi from "@pulumi/pulumi";
import { kindLoadedImages, kindPortMappings, loadStackCli, loadStackConfig } from "./config";
import { ExistingCluster } from "./components/cluster/ExistingCluster";
import { GpuNodeSetup } from "./components/cluster/GpuNodeSetup";
import { KindCluster } from "./components/cluster/KindCluster";
import { GpusReady } from "./components/gpu/GpusReady";
import { GpuOperator, KIND_GPU_OPERATOR_SETTINGS } from "./components/GpuOperator";
import { SlinkySlurm } from "./components/slinky/SlinkySlurm";
import { SlurmNamespace } from "./components/slurm/SlurmNamespace";
import { StaticSlurm } from "./components/slurm/StaticSlurm";
import { VirtualCluster } from "./components/tenancy/VirtualCluster";

const config = loadStackConfig();
const onKind = config.cluster.type === "kind" ? config.cluster : undefined;
const onExisting = config.cluster.type === "existing" ? config.cluster : undefined;

const kindCluster = onKind
    ? new KindCluster("lab", {
          clusterName: onKind.name,
          engine: onKind.engine,
          workers: onKind.workers,
          gpuWorkers: onKind.gpuWorkers,
          nodeImage: onKind.nodeImage,
          // The tenants' port pool is mapped at creation: kind cannot add a mapping to a running cluster.
          portMappings: kindPortMappings(config),
          // The static stack's image is built locally (npm run up does it), and a localhost/ MariaDB image is the
          // user's: no registry serves them, so kind copies them from the engine into the nodes.
          images: kindLoadedImages(config),
      })
    : undefined;
const cluster =
    kindCluster ??
    new ExistingCluster("lab", { kubeconfigPath: onExisting?.kubeconfigPath, context: onExisting?.context });
const onCluster = { provider: cluster.provider };
/** How the components that shell out to kubectl reach the host cluster. */
const hostAccess = cluster.kubeconfig
    ? { kubeconfig: cluster.kubeconfig }
    : { kubeconfigPath: onExisting?.kubeconfigPath, context: onExisting?.context };

const gpuNodeSetup =
    onKind && onKind.gpuWorkers > 0
        ? new GpuNodeSetup(
              "gpu-nodes",
              {
                  clusterName: cluster.clusterName,
                  gpuWorkers: onKind.gpuWorkers,
                  clusterIdentity: kindCluster?.identity,
                  // The GPU operator makes and owns RuntimeClass nvidia itself; without it, the node setup does.
                  createRuntimeClass: !config.gpuOperator.enabled,
              },
              // The setup runs docker exec in the node containers, which exist once the cluster does.
              { ...onCluster, dependsOn: [cluster] },
          )
        : undefined;
const gpuOperator = config.gpuOperator.enabled
    ? new GpuOperator(
          "gpu-operator",
          onKind
              ? { namespace: config.gpuOperator.namespace, ...KIND_GPU_OPERATOR_SETTINGS }
              : { namespace: config.gpuOperator.namespace, driverEnabled: config.gpuOperator.driverEnabled },
          // The operator's pods run with RuntimeClass nvidia, which works only on prepared Kind nodes.
          { ...onCluster, dependsOn: gpuNodeSetup ? [gpuNodeSetup] : [] },
      )
    : undefined;
const gpus =
    gpuOperator && config.slurm.compute.gpus > 0
        ? new GpusReady(
              "gpus",
              {
                  ...hostAccess,
                  operatorNamespace: gpuOperator.namespace,
                  kindClusterName: onKind && cluster.clusterName,
              },
              // nvidia.com/gpu appears only once the operator's device plugin runs.
              { dependsOn: [gpuOperator] },
          )
        : undefined;
// GPU compute pods ask for nvidia.com/gpu: create them only once a node advertises it.
const afterGpus = gpus ? { dependsOn: [gpus] } : {};

// One owner of the Slurm namespace in both modes, so that switching modes relabels it instead of re-creating it.
const slurmMode = config.slurm.mode;
const slurmNamespace =
    slurmMode === "none"
        ? undefined
        : new SlurmNamespace("slurm", { namespace: config.slurm.namespace, mode: slurmMode }, onCluster);
const slurm =
    slurmNamespace && slurmMode === "static"
        ? new StaticSlurm(
              "slurm",
              { ...config.slurm, namespace: slurmNamespace, onKind: onKind !== undefined },
              { ...onCluster, ...afterGpus },
          )
        : slurmNamespace && slurmMode === "slinky"
          ? new SlinkySlurm("slurm", { ...config.slurm, namespace: slurmNamespace }, { ...onCluster, ...afterGpus })
          : undefined;

const tenants = config.vcluster.tenants.map(
    (tenant) =>
        new VirtualCluster(
            tenant.name,
            {
                tenantName: tenant.name,
                port: tenant.port,
                kubeletPort: tenant.kubeletPort,
                server: tenant.server,
                argocd: tenant.argocd,
                serviceType: config.vcluster.serviceType,
                host: hostAccess,
                stackCli: loadStackCli(),
            },
            onCluster,
        ),
);

/** Name of the Kubernetes cluster (the Kind cluster, or the existing cluster's context). */
export const clusterName = cluster.clusterName;
/** kubeconfig of the cluster (secret); `pulumi stack output kubeconfig --show-secrets > kubeconfig`. */
export const kubeconfig = cluster.kubeconfig;
/** Slurm connection info: namespace, controller address and ready-to-paste commands. Never a secret value. */
export const slurmInfo = slurm?.connection;
/** GPU operator namespace, when installed. */
export const gpuOperatorNamespace = gpuOperator?.namespace;
/** GPUs the cluster's nodes advertise, once the wait for them is over (gpu stacks). */
export const gpuNodes = gpus?.gpuNodes;
/** One entry per tenant: namespace, kubeconfig (secret) and, with Argo CD, its initial admin password (secret). */
export const tenantInfo = pulumi.output(
    Object.fromEntries(
        tenants.map((t) => [
            t.tenantName,
            {
                namespace: t.namespace,
                kubeconfig: t.kubeconfig,
                ...(t.argocd ? { argocd: { adminPassword: t.argocd.adminPassword } } : {}),
            },
        ]),
    ),
);
/** One entry per tenant: its API server and ready-to-paste commands. Never a secret (`tenantInfo` is one). */
export const tenantAccess = pulumi.output(Object.fromEntries(tenants.map((t) => [t.tenantName, t.access])));
