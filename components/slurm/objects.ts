/**
 * Generic, pure helpers for Kubernetes objects as plain data: metadata and labels, Services, StatefulSets, volume
 * claims, probes and resources. The role builders (`roles.ts`, `database.ts`) and network policies compose them.
 */
import * as crypto from "crypto";
import type * as k8s from "@pulumi/kubernetes";

/** Kubernetes object metadata, as Pulumi's input types spell it. */
export type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;
/** A container spec. */
export type Container = k8s.types.input.core.v1.Container;
/** A pod spec. */
export type PodSpec = k8s.types.input.core.v1.PodSpec;
/** A probe. */
export type Probe = k8s.types.input.core.v1.Probe;
/** A pod volume. */
export type Volume = k8s.types.input.core.v1.Volume;
/** A container's volume mount. */
export type VolumeMount = k8s.types.input.core.v1.VolumeMount;
/** A container's requests and limits. */
export type ResourceRequirements = k8s.types.input.core.v1.ResourceRequirements;

/** A Kubernetes object as plain data; `kind` tells which. */
export interface KubeObject {
    /** `v1`, `apps/v1`, ... */
    readonly apiVersion: string;
    /** `Service`, `StatefulSet`, ... */
    readonly kind: string;
    /** Name (required), namespace and labels. */
    readonly metadata: ObjectMeta & { name: string };
    /** `spec`, `data`, ... */
    readonly [field: string]: unknown;
}

/** Where objects go and how their volumes are stored. */
export interface ObjectPlacement {
    /** Namespace of every object. */
    readonly namespace: string;
    /** StorageClass of every volume claim; absent means the cluster's default class. */
    readonly storageClassName?: string;
}

/** Labels of one role's objects. */
export function labelsFor(role: string): Record<string, string> {
    return {
        ...selectorFor(role),
        "app.kubernetes.io/part-of": "ai-hyperscaler",
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

/** The labels that select one role's pods. */
export function selectorFor(role: string): Record<string, string> {
    return { "app.kubernetes.io/name": "slurm", "app.kubernetes.io/component": role };
}

/** Metadata of a namespaced object of `role`. */
export function metadata(placement: ObjectPlacement, name: string, role: string): ObjectMeta & { name: string } {
    return { name, namespace: placement.namespace, labels: labelsFor(role) };
}

/** `n` MiB as a Kubernetes quantity. */
export const mib = (n: number): string => `${n}Mi`;

/** Requests and limits of CPU (a quantity) and memory (MiB). */
export function resources(
    cpuRequest: string,
    memoryRequestMiB: number,
    cpuLimit: string,
    memoryLimitMiB: number,
): ResourceRequirements {
    return {
        requests: { cpu: cpuRequest, memory: mib(memoryRequestMiB) },
        limits: { cpu: cpuLimit, memory: mib(memoryLimitMiB) },
    };
}

/** A probe that succeeds once `port` accepts TCP connections. */
export function tcpProbe(port: number, periodSeconds: number, failureThreshold: number): Probe {
    return { tcpSocket: { port }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

// The entrypoint waits up to SLURM_WAIT_TIMEOUT_SECONDS (300 s) for what its role needs: the startup probe
// allows 360 s so that liveness never kills a pod that is still waiting on a dependency.
const STARTUP_PERIOD_SECONDS = 5;
const STARTUP_FAILURE_THRESHOLD = 72;

/** The startup probe of a daemon on `port`: patient enough for the daemon's own waits. */
export function startupProbe(port: number): Probe {
    return tcpProbe(port, STARTUP_PERIOD_SECONDS, STARTUP_FAILURE_THRESHOLD);
}

/** The template of a workload's pods. */
export function podTemplate(role: string, annotations: Record<string, string>, spec: PodSpec): Record<string, unknown> {
    return { metadata: { labels: labelsFor(role), annotations }, spec };
}

/** A ClusterIP Service named after `role`, with one TCP port also named after it. */
export function clusterIpService(placement: ObjectPlacement, role: string, port: number): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(placement, role, role),
        spec: { selector: selectorFor(role), ports: [{ name: role, port, targetPort: port, protocol: "TCP" }] },
    };
}

/** A StatefulSet named after `role`, selecting its pods, governed by the Service of the same name. */
export function statefulSet(placement: ObjectPlacement, role: string, spec: Record<string, unknown>): KubeObject {
    return {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: metadata(placement, role, role),
        spec: { serviceName: role, selector: { matchLabels: selectorFor(role) }, ...spec },
    };
}

/** A StatefulSet's volume claim template of `sizeGiB`, in the placement's StorageClass. */
export function volumeClaim(placement: ObjectPlacement, name: string, sizeGiB: number): Record<string, unknown> {
    return {
        metadata: { name, labels: labelsFor(name) },
        spec: {
            accessModes: ["ReadWriteOnce"],
            ...(placement.storageClassName ? { storageClassName: placement.storageClassName } : {}),
            resources: { requests: { storage: `${sizeGiB}Gi` } },
        },
    };
}

/** A ConfigMap of files and its checksum (sha256 hex of its data), which rolls the pods mounting it on a change. */
export interface ChecksummedConfigMap {
    /** The ConfigMap, as plain data. */
    readonly object: KubeObject;
    /** sha256 (hex) of its files. */
    readonly checksum: string;
}

/** The ConfigMap `name` (labels of `role`) holding `data`, with its checksum. Pure. */
export function checksummedConfigMap(
    placement: ObjectPlacement,
    name: string,
    role: string,
    data: Record<string, string>,
): ChecksummedConfigMap {
    return {
        object: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, namespace: placement.namespace, labels: labelsFor(role) },
            data,
        },
        checksum: sha256(JSON.stringify(data)),
    };
}

/** sha256 (hex) of `text`. */
export function sha256(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}
