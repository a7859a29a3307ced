/**
 * Slurm through SchedMD's Slinky operator: cert-manager, the Slinky CRDs and operator, and a `slurm` chart release
 * whose Controller/NodeSet/LoginSet/Accounting/RestApi resources the operator turns into slurmctld, slurmd, login,
 * slurmdbd and slurmrestd pods. Pulumi makes the auth keys and the accounting database (the static stack's MariaDB)
 * so that Pulumi state is their one source, as in static mode.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "@pulumi/kubernetes-cert-manager";
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
    SLINKY_CHART_REGISTRY,
    SLINKY_CHART_VERSION,
    SLINKY_KEY_SECRETS,
    SLINKY_OPERATOR_NAMESPACE,
    SLURM_RELEASE_NAME,
    certManagerArgs,
    slinkyConnection,
    slinkyOperatorValues,
    slinkySlurmValues,
} from "./values";

/** Arguments of {@link SlinkySlurm}: the stack's `slurm` settings (`mode: slinky`) with their namespace. */
export interface SlinkySlurmArgs extends Omit<SlurmSettings, "namespace" | "mode" | "image" | "mariadbImage"> {
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
        // (Issuer + Certificate): cert-manager and its CRDs must be there first. The component installs Jetstack's
        // chart as its child release `<name>-helm`; everything goes through `helmOptions` (see certManagerArgs).
        const certManager = new CertManager(`${name}-cert-manager`, certManagerArgs(), {
            parent: this,
            // A remote component's children get only the providers its own options name, not its parent's: name
            // the host cluster's, which this component got in its options.
            provider: this.getProvider("kubernetes:helm.sh/v3:Release"),
            // Stacks made by the version before had the release as this component's own child
            // `<name>-cert-manager`: the alias makes the component's release upgrade it instead of installing a
            // second one. A transform, because the child is made by the component's provider, out of reach of
            // any other option.
            transforms: [certManagerReleaseAlias(name, this)],
        });

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
                // cert-manager must issue the webhook certificate the chart requests (the component is registered
                // once its release is ready: its output is the release's status), and the operator's controllers
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

/**
 * The transform that gives the cert-manager component's Helm release (`<name>-cert-manager-helm`, made by the
 * component's provider) the URN of the release this component registered itself before it used the component:
 * `<name>-cert-manager` of type `kubernetes:helm.sh/v3:Release` under `parent`. Every other resource passes.
 */
export function certManagerReleaseAlias(name: string, parent: pulumi.Resource): pulumi.ResourceTransform {
    return (args) =>
        args.type === "kubernetes:helm.sh/v3:Release" && args.name === `${name}-cert-manager-helm`
            ? {
                  props: args.props,
                  opts: pulumi.mergeOptions(args.opts, {
                      aliases: [pulumi.createUrn(`${name}-cert-manager`, "kubernetes:helm.sh/v3:Release", parent)],
                  }),
              }
            : undefined;
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
