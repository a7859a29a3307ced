/**
 * The Slurm namespace, owned by one component whatever `slurm.mode` is, so that switching between the static stack
 * and Slinky on a live stack updates the Namespace (its Pod Security labels) instead of deleting it in one
 * component and creating it in another, which fails with "already exists".
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { check, dnsLabel, problem, refuse } from "../../config/rules";
import { podSecurityNamespace } from "../helm";
import { PodSecurityLevel } from "../podSecurity";

/** The Slurm modes that deploy pods into the namespace. */
export type SlurmNamespaceMode = "static" | "slinky";

/** Arguments of {@link SlurmNamespace}. */
export interface SlurmNamespaceArgs {
    /** Namespace name (the stack's `slurm.namespace`). Required. */
    readonly namespace: string;
    /** Which Slurm runs in it; decides the Pod Security level ({@link slurmPodSecurity}). Required. */
    readonly mode: SlurmNamespaceMode;
}

/**
 * Pod Security levels (enforced, audited) for a mode. Static: "baseline" enforced (the Slurm pods run as root with
 * a few baseline capabilities), "restricted" audited as the target. Slinky: "privileged", because its slurmd pods
 * run privileged (cgroups and job containment inside the pod).
 */
export function slurmPodSecurity(mode: SlurmNamespaceMode): { enforce: PodSecurityLevel; audit: PodSecurityLevel } {
    return mode === "static"
        ? { enforce: "baseline", audit: "restricted" }
        : { enforce: "privileged", audit: "privileged" };
}

/** Type tokens of the components that owned the Slurm Namespace before this one did (for aliases). */
export const PREVIOUS_NAMESPACE_OWNERS = {
    static: "hyperscaler:slurm:SlurmCluster",
    slinky: "hyperscaler:slurm:SlinkySlurm",
} as const;

/** The Slurm namespace; hand it to `StaticSlurm` or `SlinkySlurm`. */
export class SlurmNamespace extends pulumi.ComponentResource {
    /** The namespace's name, known before anything is created. */
    readonly namespaceName: string;
    /** The mode it was labelled for. */
    readonly mode: SlurmNamespaceMode;
    /** The namespace's name, once the Namespace exists: read it to order work after it. */
    readonly namespace: pulumi.Output<string>;
    /** The Namespace resource. */
    readonly resource: k8s.core.v1.Namespace;

    constructor(name: string, args: SlurmNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = check("args.namespace", args.namespace, dnsLabel());
        if (args.mode !== "static" && args.mode !== "slinky") {
            problems.push(problem("args.mode", args.mode, 'must be "static" or "slinky"'));
        }
        refuse("SlurmNamespace", name, problems);
        super("hyperscaler:slurm:SlurmNamespace", name, {}, opts);

        // Before this component, the static stack's component (named like this one) registered the Namespace under
        // the namespace's own name, and Slinky's as `<name>-namespace`: the aliases keep those stacks' Namespace.
        const previousOwner = (type: string) => pulumi.createUrn(name, type, opts?.parent);
        this.resource = podSecurityNamespace(
            `${name}-namespace`,
            { name: args.namespace, ...slurmPodSecurity(args.mode) },
            {
                parent: this,
                aliases: [
                    { name: args.namespace, parent: previousOwner(PREVIOUS_NAMESPACE_OWNERS.static) },
                    { name: `${name}-namespace`, parent: previousOwner(PREVIOUS_NAMESPACE_OWNERS.slinky) },
                ],
            },
        );
        this.namespaceName = args.namespace;
        this.mode = args.mode;
        this.namespace = this.resource.metadata.name;
        this.registerOutputs({ namespace: this.namespace });
    }
}

/**
 * Problems of a Slurm component's `args.namespace`: it must be a {@link SlurmNamespace} labelled for the component's
 * `mode`. Pure.
 */
export function slurmNamespaceProblems(namespace: unknown, mode: SlurmNamespaceMode): string[] {
    if (!(namespace instanceof SlurmNamespace)) {
        return [problem("args.namespace", typeof namespace, "must be a SlurmNamespace component")];
    }
    if (namespace.mode !== mode) {
        return [
            problem(
                "args.namespace.mode",
                namespace.mode,
                `must be "${mode}": its Pod Security level is for that mode`,
            ),
        ];
    }
    return [];
}
