/**
 * Slurm through SchedMD's Slinky operator: cert-manager, the Slinky CRDs and operator, and a `slurm` chart release
 * whose Controller/NodeSet/LoginSet/Accounting/RestApi resources the operator turns into slurmctld, slurmd, login,
 * slurmdbd and slurmrestd pods. Pulumi makes the auth keys and the accounting database (the static stack's MariaDB)
 * so that Pulumi state is their one source, as in static mode.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { SlurmSettings } from "../../config/schema";
import {
    check,
    dnsLabel,
    imageReference,
    pinnedImageReference,
    problem,
    refuse,
    wholeNumber,
} from "../../config/rules";
import { pinnedRelease, podSecurityNamespace } from "../helm";
import type { SlurmConnection } from "../slurm/connection";
import { DEFAULT_MARIADB_IMAGE, databaseCredentials, mariadbObjects } from "../slurm/database";
import { labelsFor } from "../slurm/objects";
import { registerObject } from "../slurm/register";
import { SlurmNamespace, slurmNamespaceProblems } from "../slurm/SlurmNamespace";
import {
    CERT_MANAGER_CHART_REPO,
    CERT_MANAGER_CHART_VERSION,
    CERT_MANAGER_NAMESPACE,
    SLINKY_CHART_REGISTRY,
    SLINKY_CHART_VERSION,
    SLINKY_KEY_SECRETS,
    SLINKY_OPERATOR_NAMESPACE,
    SLURM_RELEASE_NAME,
    certManagerValues,
    slinkyConnection,
    slinkyOperatorValues,
    slinkySlurmValues,
} from "./values";

/** Arguments of {@link SlinkySlurm}: the stack's `slurm` settings (`mode: slinky`) with their namespace. */
export interface SlinkySlurmArgs extends Omit<SlurmSettings, "namespace" | "mode" | "image"> {
    /** The Slurm namespace (created in `slinky` mode). Required. */
    readonly namespace: SlurmNamespace;
    /** MariaDB image of the accounting database. Default {@link DEFAULT_MARIADB_IMAGE}. */
    readonly mariadbImage?: string;
}

/** Bytes of each generated auth key (the chart's own generator makes 1024 characters). */
const AUTH_KEY_BYTES = 1024;

/** Slurm on Kubernetes with the Slinky operator, in a {@link SlurmNamespace}. */
export class SlinkySlurm extends pulumi.ComponentResource {
    /** Namespace, controller address, ready-to-paste commands and Secret names of the Slurm cluster. */
    readonly connection: pulumi.Output<SlurmConnection>;

    constructor(name: string, args: SlinkySlurmArgs, opts?: pulumi.ComponentResourceOptions) {
        refuse("SlinkySlurm", name, problems(args));
        super("hyperscaler:slurm:SlinkySlurm", name, {}, opts);
        const ns = args.namespace.namespaceName;
        const inNamespace: pulumi.CustomResourceOptions = { parent: this, dependsOn: [args.namespace] };

        const operatorNamespace = podSecurityNamespace(
            `${name}-operator-namespace`,
            // The operator and webhook pods ask for nothing beyond "baseline"; "restricted" is the audited target.
            { name: SLINKY_OPERATOR_NAMESPACE, enforce: "baseline", audit: "restricted" },
            { parent: this },
        );

        // The operator's admission webhooks need a serving certificate, and its chart asks cert-manager for one
        // (Issuer + Certificate): cert-manager and its CRDs must be there first.
        const certManager = pinnedRelease(
            `${name}-cert-manager`,
            {
                releaseName: "cert-manager",
                chart: "cert-manager",
                repo: CERT_MANAGER_CHART_REPO,
                version: CERT_MANAGER_CHART_VERSION,
                namespace: CERT_MANAGER_NAMESPACE,
                // Helm makes the namespace, as the `@pulumi/kubernetes-cert-manager` component did for stacks made
                // before: a Namespace resource would fail there with "already exists".
                createNamespace: true,
                values: certManagerValues(),
            },
            {
                parent: this,
                // The release the `@pulumi/kubernetes-cert-manager` component (`<name>-cert-manager`) made as its
                // child `<name>-cert-manager-helm`: upgraded in place rather than installed twice.
                aliases: [
                    {
                        name: `${name}-cert-manager-helm`,
                        parent: pulumi.createUrn(
                            `${name}-cert-manager`,
                            "kubernetes-cert-manager:index:CertManager",
                            this,
                        ),
                    },
                ],
            },
        );

        const crds = pinnedRelease(
            `${name}-operator-crds`,
            {
                releaseName: "slurm-operator-crds",
                chart: `${SLINKY_CHART_REGISTRY}/slurm-operator-crds`,
                version: SLINKY_CHART_VERSION,
                namespace: operatorNamespace.metadata.name,
            },
            { parent: this },
        );

        const operator = pinnedRelease(
            `${name}-operator`,
            {
                releaseName: "slurm-operator",
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

        const keySecrets = (["slurmKey", "jwtKey"] as const).map((which) => {
            const ref = SLINKY_KEY_SECRETS[which];
            const key = new random.RandomBytes(
                `${name}-${ref.key.replace(".", "-")}`,
                { length: AUTH_KEY_BYTES },
                { parent: this },
            );
            return new k8s.core.v1.Secret(
                `${name}-${ref.name}`,
                {
                    metadata: { name: ref.name, namespace: ns, labels: labelsFor("auth") },
                    type: "Opaque",
                    data: { [ref.key]: pulumi.secret(key.base64) },
                },
                inNamespace,
            );
        });

        // Accounting's database: the static stack's MariaDB, its Secret read by the chart through passwordKeyRef.
        const database = databaseCredentials(name, ns, inNamespace);
        const mariadb = mariadbObjects({
            namespace: ns,
            storageClassName: args.storage.storageClassName,
            mariadbImage: args.mariadbImage ?? DEFAULT_MARIADB_IMAGE,
            databaseSizeGiB: args.storage.databaseSizeGiB,
        }).map((object) =>
            // The pod reads its passwords from the Secret; ordering avoids pods stuck in CreateContainerConfigError.
            registerObject(name, object, { ...inNamespace, dependsOn: [args.namespace, database.secret] }),
        );

        const slurm = pinnedRelease(
            `${name}-slurm`,
            {
                releaseName: SLURM_RELEASE_NAME,
                chart: `${SLINKY_CHART_REGISTRY}/slurm`,
                version: SLINKY_CHART_VERSION,
                namespace: args.namespace.namespace,
                values: slinkySlurmValues({ ...args, namespace: ns }),
            },
            {
                parent: this,
                // The chart's Controller/NodeSet/LoginSet objects need Slinky's CRDs, and the operator's validating
                // webhook (failurePolicy Fail) must answer before the API server accepts them. The operator reads
                // the key and database Secrets when it writes slurm.conf and slurmdbd.conf, and slurmdbd needs
                // MariaDB's Service.
                dependsOn: [operator, crds, ...keySecrets, database.secret, ...mariadb],
            },
        );

        // Read through the release so that whoever uses the connection waits for the Slurm release.
        this.connection = slurm.urn.apply(() => slinkyConnection({ namespace: ns }));
        this.registerOutputs({ connection: this.connection });
    }
}

function problems(args: SlinkySlurmArgs): string[] {
    const found: string[] = [];
    found.push(...slurmNamespaceProblems(args.namespace, "slinky"));
    if (args.mariadbImage !== undefined) found.push(...check("args.mariadbImage", args.mariadbImage, imageReference));
    found.push(...check("args.helperImage", args.helperImage, pinnedImageReference));
    found.push(...check("args.compute.replicas", args.compute?.replicas, wholeNumber(0, 100_000)));
    found.push(...check("args.compute.cpus", args.compute?.cpus, wholeNumber(1, 4096)));
    found.push(...check("args.compute.memoryMiB", args.compute?.memoryMiB, wholeNumber(64, 16 * 1024 * 1024)));
    found.push(...check("args.compute.gpus", args.compute?.gpus, wholeNumber(0, 64)));
    found.push(...check("args.storage.stateSizeGiB", args.storage?.stateSizeGiB, wholeNumber(1, 10_000)));
    found.push(...check("args.storage.databaseSizeGiB", args.storage?.databaseSizeGiB, wholeNumber(1, 10_000)));
    if (!Array.isArray(args.partitions) || args.partitions.length === 0) {
        found.push(problem("args.partitions", args.partitions, "must list at least one partition"));
        return found;
    }
    const names = args.partitions.map((p) => p.name);
    args.partitions.forEach((p, i) => {
        found.push(...check(`args.partitions[${i}].name`, p.name, dnsLabel(40)));
        if (names.indexOf(p.name) !== i)
            found.push(problem(`args.partitions[${i}].name`, p.name, "partition names must be unique"));
    });
    const defaults = args.partitions.filter((p) => p.default).map((p) => p.name);
    if (defaults.length > 1)
        found.push(problem("args.partitions", defaults, "at most one partition may be the default"));
    return found;
}
