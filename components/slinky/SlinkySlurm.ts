/**
 * Slurm through SchedMD's Slinky operator: cert-manager, the Slinky CRDs and operator, and a `slurm` chart release
 * whose Controller/NodeSet/LoginSet resources the operator turns into slurmctld, slurmd and login pods.
 */
import * as k8s from "@pulumi/kubernetes";
import { CertManager } from "@pulumi/kubernetes-cert-manager";
import * as pulumi from "@pulumi/pulumi";
import type { SlurmSettings } from "../../config/schema";
import type { SlurmConnection } from "../slurm/connection";
import { podSecurityLabels } from "../podSecurity";
import {
    certManagerInputs,
    SLINKY_CHART_REGISTRY,
    SLINKY_CHART_VERSION,
    SLINKY_OPERATOR_NAMESPACE,
    CERT_MANAGER_NAMESPACE,
    SLURM_RELEASE_NAME,
    slinkyConnection,
    slinkyOperatorValues,
    slinkySlurmValues,
} from "./values";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CLUSTER_NAME = /^[a-z][a-z0-9_]{0,39}$/;

/** Slurm on Kubernetes with the Slinky operator. Args are the stack's `slurm` settings (`mode: slinky`). */
export class SlinkySlurm extends pulumi.ComponentResource {
    /** Namespace, controller address, ready-to-paste commands and Secret names of the Slurm cluster. */
    readonly connection: pulumi.Output<SlurmConnection>;

    constructor(name: string, args: SlurmSettings, opts?: pulumi.ComponentResourceOptions) {
        validate(name, args);
        // Validated before registering anything: bad arguments leave no half-made component behind.
        super("hyperscaler:slurm:SlinkySlurm", name, {}, opts);

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.namespace,
                    // Slinky runs slurmd privileged (cgroups and job containment inside the pod); a stricter Pod
                    // Security level would reject the NodeSet's pods.
                    labels: podSecurityLabels("privileged"),
                },
            },
            { parent: this },
        );
        const operatorNamespace = new k8s.core.v1.Namespace(
            `${name}-operator-namespace`,
            { metadata: { name: SLINKY_OPERATOR_NAMESPACE } },
            { parent: this },
        );

        // The operator's admission webhooks need a serving certificate, and its chart asks cert-manager for one
        // (Issuer + Certificate): cert-manager and its CRDs must be there first.
        // It is a remote component: the Kubernetes provider does not reach it through `parent` (its package is
        // kubernetes-cert-manager), so the one this component received is handed over explicitly.
        const kubernetesProvider = this.getProvider("kubernetes:core/v1:Namespace");
        const certManager = new CertManager(`${name}-cert-manager`, certManagerInputs(), {
            parent: this,
            ...(kubernetesProvider ? { providers: [kubernetesProvider] } : {}),
        });

        const crds = new k8s.helm.v3.Release(
            `${name}-operator-crds`,
            {
                name: "slurm-operator-crds",
                // An oci:// chart reference names its registry itself; Pulumi's Release would treat
                // `repositoryOpts.repo` as a classic index repository, which an OCI registry is not.
                chart: `${SLINKY_CHART_REGISTRY}/slurm-operator-crds`,
                version: SLINKY_CHART_VERSION,
                namespace: operatorNamespace.metadata.name,
            },
            { parent: this },
        );

        const operator = new k8s.helm.v3.Release(
            `${name}-operator`,
            {
                name: "slurm-operator",
                chart: `${SLINKY_CHART_REGISTRY}/slurm-operator`,
                version: SLINKY_CHART_VERSION,
                namespace: operatorNamespace.metadata.name,
                values: slinkyOperatorValues(),
            },
            {
                parent: this,
                // cert-manager must issue the webhook certificate the chart requests, and the operator's controllers
                // watch Slinky's CRDs, which must exist before they start.
                dependsOn: [certManager, crds],
            },
        );

        const slurm = new k8s.helm.v3.Release(
            `${name}-slurm`,
            {
                name: SLURM_RELEASE_NAME,
                chart: `${SLINKY_CHART_REGISTRY}/slurm`,
                version: SLINKY_CHART_VERSION,
                namespace: namespace.metadata.name,
                values: slinkySlurmValues(args),
            },
            {
                parent: this,
                // The chart's Controller/NodeSet/LoginSet objects need Slinky's CRDs, and the operator's validating
                // webhook (failurePolicy Fail) must answer before the API server accepts them.
                dependsOn: [operator, crds],
            },
        );

        // Read through the release so that whoever uses the connection waits for the Slurm release.
        this.connection = slurm.urn.apply(() => slinkyConnection(args));
        this.registerOutputs({ connection: this.connection });
    }
}

function validate(name: string, args: SlurmSettings): void {
    const fail = (path: string, value: unknown, rule: string): never => {
        throw new Error(`SlinkySlurm ${name}: args.${path} = ${JSON.stringify(value)}: ${rule}`);
    };
    const wholeNumber = (path: string, value: unknown, min: number): void => {
        if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
            fail(path, value, `must be a whole number >= ${min}`);
        }
    };

    if (args.mode !== "slinky") {
        fail("mode", args.mode, 'must be "slinky" (SlurmCluster serves "static")');
    }
    if (typeof args.namespace !== "string" || args.namespace.length > 63 || !DNS_LABEL.test(args.namespace)) {
        fail("namespace", args.namespace, "must be a DNS-1123 label (at most 63 lowercase letters, digits or '-')");
    }
    if ([SLINKY_OPERATOR_NAMESPACE, CERT_MANAGER_NAMESPACE].includes(args.namespace)) {
        fail("namespace", args.namespace, `is used by the Slinky operator or cert-manager; choose another, e.g. "slurm"`);
    }
    if (typeof args.clusterName !== "string" || !CLUSTER_NAME.test(args.clusterName)) {
        fail("clusterName", args.clusterName, "must be 1-40 lowercase letters, digits or '_', starting with a letter");
    }
    wholeNumber("compute.replicas", args.compute?.replicas, 0);
    wholeNumber("compute.cpus", args.compute.cpus, 1);
    wholeNumber("compute.memoryMiB", args.compute.memoryMiB, 64);
    wholeNumber("compute.gpus", args.compute.gpus, 0);
    wholeNumber("storage.stateSizeGiB", args.storage?.stateSizeGiB, 1);

    if (!Array.isArray(args.partitions) || args.partitions.length === 0) {
        fail("partitions", args.partitions, "must list at least one partition");
    }
    const names = args.partitions.map((p) => p.name);
    args.partitions.forEach((p, i) => {
        if (typeof p.name !== "string" || p.name.length > 40 || !DNS_LABEL.test(p.name)) {
            fail(`partitions[${i}].name`, p.name, "must be a DNS-1123 label of at most 40 characters");
        }
        if (names.indexOf(p.name) !== i) {
            fail(`partitions[${i}].name`, p.name, "partition names must be unique");
        }
        if (p.maxTimeMinutes !== undefined) {
            wholeNumber(`partitions[${i}].maxTimeMinutes`, p.maxTimeMinutes, 1);
        }
    });
    const defaults = args.partitions.filter((p) => p.default).map((p) => p.name);
    if (defaults.length > 1) {
        fail("partitions", defaults, "at most one partition may be the default");
    }
}
