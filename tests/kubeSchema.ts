/**
 * Validates registered Kubernetes resources against the Kubernetes OpenAPI schema (Kubernetes 1.33, from
 * kubernetes-models), the way the API server would check them on `pulumi up`.
 */
import type { RecordedResource } from "../evaluation/mocks";

/** Pulumi Kubernetes types that are not API objects and have no schema here. */
const NOT_API_OBJECTS = /^kubernetes:helm\.sh\/|^kubernetes:yaml\//;

/** True for a Pulumi type token of a Kubernetes API object (`kubernetes:apps/v1:StatefulSet`). */
export function isKubeObject(type: string): boolean {
    return type.startsWith("kubernetes:") && !NOT_API_OBJECTS.test(type);
}

/** Throws, naming the resource, if its inputs are not a valid object of its kind. */
export function validateKubeObject(resource: RecordedResource): void {
    const match = /^kubernetes:([^/]+)\/([^:]+):(\w+)$/.exec(resource.type);
    if (!match) throw new Error(`not a Kubernetes type token: ${resource.type}`);
    const [, group, version, kind] = match;
    const modulePath =
        group === "core" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
    const Model = require(modulePath)[kind] as new (data: unknown) => { validate(): void };
    try {
        new Model(resource.inputs).validate();
    } catch (error) {
        throw new Error(`${resource.type} ${resource.name} is not valid: ${(error as Error).message}`);
    }
}
