/**
 * Aliases that keep the state of stacks created when the static stack's component was `SlurmCluster` and named its
 * Kubernetes objects after their namespace (`slurm/compute`, `slurm/compute-svc`) or their own name
 * (`slurm-config`), rather than after the component (`slurm-compute`, `slurm-slurm-config`). Without them Pulumi
 * would create each object under its new name before deleting the old one, and Kubernetes would refuse the
 * creation ("already exists").
 */
import * as pulumi from "@pulumi/pulumi";

/** The component's type token before the rename. */
const PREVIOUS_TYPE = "hyperscaler:slurm:SlurmCluster";

/** Objects added after the rename (users, SSH, REST API, shared /home): they never had an old name. */
const ADDED_SINCE: ReadonlySet<string> = new Set([
    "slurm-users",
    "slurm-ssh-host-key",
    "slurm-jwt-key",
    "login-ssh",
    "restapi",
    "restapi-ingress",
    "slurm-home",
]);

/** The name the previous component gave an object of Pulumi type `type`, or undefined when it kept its name. */
export function legacyResourceName(type: string, objectName: string, namespace: string): string | undefined {
    if (ADDED_SINCE.has(objectName)) return undefined;
    switch (type) {
        case "kubernetes:core/v1:Secret":
        case "kubernetes:core/v1:ConfigMap":
            return objectName;
        case "kubernetes:core/v1:Service":
            return `${namespace}/${objectName}-svc`;
        case "kubernetes:apps/v1:StatefulSet":
        case "kubernetes:apps/v1:Deployment":
        case "kubernetes:networking.k8s.io/v1:NetworkPolicy":
            return `${namespace}/${objectName}`;
        default:
            return undefined;
    }
}

/**
 * A transformation for the component `component` (whose own parent is `parent`) that gives each Kubernetes child
 * an alias to the URN the previous component gave it.
 */
export function legacyAliases(
    component: string,
    namespace: string,
    parent?: pulumi.Resource,
): pulumi.ResourceTransformation {
    const previousParent = pulumi.createUrn(component, PREVIOUS_TYPE, parent);
    return (args) => {
        const objectName = (args.props as { metadata?: { name?: unknown } }).metadata?.name;
        if (typeof objectName !== "string") return undefined;
        const legacy = legacyResourceName(args.type, objectName, namespace);
        if (legacy === undefined || legacy === args.name) return undefined;
        return {
            props: args.props,
            opts: pulumi.mergeOptions(args.opts, { aliases: [{ name: legacy, parent: previousParent }] }),
        };
    };
}
