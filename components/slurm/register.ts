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
