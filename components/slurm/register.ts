/**
 * Registers plain Kubernetes objects (`objects.ts`) as the matching Pulumi Kubernetes resources, named after the
 * calling component: `<component>-<object name>`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KubeObject } from "./objects";

type KubeResourceClass = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const CLASSES: Readonly<Record<string, KubeResourceClass>> = {
    Namespace: k8s.core.v1.Namespace,
    ConfigMap: k8s.core.v1.ConfigMap,
    Secret: k8s.core.v1.Secret,
    PersistentVolumeClaim: k8s.core.v1.PersistentVolumeClaim,
    Service: k8s.core.v1.Service,
    StatefulSet: k8s.apps.v1.StatefulSet,
    Deployment: k8s.apps.v1.Deployment,
    NetworkPolicy: k8s.networking.v1.NetworkPolicy,
};

/** The Pulumi resource name of `object` in the component `component`: `<component>-<metadata.name>`. */
export function resourceName(component: string, object: KubeObject): string {
    return `${component}-${object.metadata.name}`;
}

/** Registers `object` as a resource of its kind, named by {@link resourceName}. */
export function registerObject(
    component: string,
    object: KubeObject,
    opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
    const Class = CLASSES[object.kind];
    if (!Class) throw new Error(`registerObject: no resource type for kind ${object.kind}`);
    return new Class(resourceName(component, object), object as never, opts);
}

/** The kinds whose create Pulumi awaits until their pods are Ready. */
const WORKLOAD_KINDS: ReadonlySet<string> = new Set(["StatefulSet", "Deployment"]);

/** Pulumi Kubernetes' annotation that makes a create return once the API server has the object. */
export const SKIP_AWAIT = "pulumi.com/skipAwait";

/**
 * `objects` in the two groups they are created in, so that an up never waits on itself: the workloads, and before
 * them every other object (Services, NetworkPolicies, claims), with each Service's await skipped. A workload's
 * create holds one of the engine's parallel slots (`pulumi up --parallel`, 8 by default here) until its pods are
 * Ready, and its pods wait (SLURM_WAIT_FOR) for the Services of the daemons they need; with those Services still
 * queued behind waiting workloads, nothing moved until the 10-minute timeouts (a real Kind cluster with 3 compute
 * nodes: 9 creates awaiting, 8 slots). A Service's own await is for Ready endpoints, that is for the workloads that
 * now come after it; their readiness says the same. Pure.
 */
export function creationGroups(objects: readonly KubeObject[]): { first: KubeObject[]; workloads: KubeObject[] } {
    const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
    const first = objects
        .filter((o) => !WORKLOAD_KINDS.has(o.kind))
        .map((o) =>
            o.kind === "Service"
                ? {
                      ...o,
                      metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [SKIP_AWAIT]: "true" } },
                  }
                : o,
        );
    return { first, workloads };
}
