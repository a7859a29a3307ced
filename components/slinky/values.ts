/**
 * Pure builders for the Slinky (SchedMD slurm-operator) installation: Helm values of the `slurm-operator` and
 * `slurm` charts, the cert-manager component's inputs, and the connection info. No Pulumi resources here.
 *
 * Chart facts relied on (slurm-operator 1.2.1 install guide and the `slurm` chart 1.2.1 values/templates):
 * - CRDs come from their own chart `slurm-operator-crds`; the operator chart's `crds.enabled` stays false.
 * - The operator's webhook certificates are issued by cert-manager (`certManager.enabled`).
 * - Object names derive from the `slurm` release's full name: `<full>-controller` (Service, port 6817),
 *   `<full>-login-<loginset>`, `<full>-worker-<nodeset>`.
 * - The auth keys are read from `slurmKey.secretRef` / `jwtKey.secretRef` (`{name, key}`; defaults
 *   `<full>-auth-slurm` / `slurm.key` and `<full>-auth-jwt` / `jwt.key`); with `create: false` the chart makes none.
 * - `accounting.enabled` adds an Accounting (slurmdbd) whose slurmdbd.conf the operator writes from
 *   `accounting.storageConfig`, reading the password from the Secret `storageConfig.passwordKeyRef` names.
 * - `controller.extraConfMap` adds lines to slurm.conf (a map of key -> value or list of values).
 * - `nodesets.<key>`, `loginsets.<key>` inherit `nodesetDefaults`/`loginsetDefaults`; `partitions.<name>` lists the
 *   NodeSet keys it spans.
 */
import { CERT_MANAGER_NAMESPACE, imageTag } from "../../config/rules";
import type { PartitionSettings, SlurmSettings } from "../../config/schema";
import type { SlurmConnection } from "../slurm/connection";
import { DATABASE, MARIADB_SECRET_KEYS, NAMES, PORTS, ROLE_SPECS } from "../slurm/topology";

/** Slinky's chart registry (OCI): the charts' `oci://` references carry it. */
export const SLINKY_CHART_REGISTRY = "oci://ghcr.io/slinkyproject/charts";
/** Version of the Slinky charts (`slurm-operator-crds`, `slurm-operator`, `slurm`), pinned together. */
export const SLINKY_CHART_VERSION = "1.2.1";
// The operator's and cert-manager's namespaces are reserved by the stack validation, so they live with the rules.
export { CERT_MANAGER_NAMESPACE, SLINKY_OPERATOR_NAMESPACE } from "../../config/rules";
/** cert-manager's chart repository (Jetstack's, the only one cert-manager supports). */
export const CERT_MANAGER_CHART_REPO = "https://charts.jetstack.io";
/** cert-manager chart version, pinned: the current supported line. */
export const CERT_MANAGER_CHART_VERSION = "v1.21.1";
/** Helm release name of the `slurm` chart; every Slurm object name starts with it. */
export const SLURM_RELEASE_NAME = "slurm";
/** Key of the one NodeSet (slurmd pods `compute-<n>`). */
export const COMPUTE_NODESET = "compute";
/** Key of the one LoginSet (Deployment `slurm-login-slinky`, named as in Slinky's install guide). */
export const LOGINSET = "slinky";
/** slurmrestd's port on the operator's `<full>-restapi` Service. */
export const SLURMRESTD_PORT = 6820;

/** A Secret key the chart reads (`secretKeyRef` shape). */
export type SecretKeyRef = {
    /** Secret name. */
    readonly name: string;
    /** Key in the Secret. */
    readonly key: string;
};

/** The Secrets holding Slurm's auth keys; Pulumi makes them (`create: false` in the chart). */
export const SLINKY_KEY_SECRETS: Readonly<Record<"slurmKey" | "jwtKey", SecretKeyRef>> = {
    /** auth/slurm key shared by every Slurm daemon and client (the chart's default name and key). */
    slurmKey: { name: `${SLURM_RELEASE_NAME}-auth-slurm`, key: "slurm.key" },
    /** JWT (HS256) key of slurmctld, slurmdbd and slurmrestd (the chart's default name and key). */
    jwtKey: { name: `${SLURM_RELEASE_NAME}-auth-jwt`, key: "jwt.key" },
};

/** The accounting database password as the chart reads it: the static stack's MariaDB Secret. */
export const DATABASE_PASSWORD_REF: SecretKeyRef = { name: NAMES.mariadbSecret, key: MARIADB_SECRET_KEYS.password };

/** Helm values set on the `slurm-operator` chart; everything else keeps the chart's default. */
export type SlinkyOperatorValues = {
    /** CRDs in this release. */
    readonly crds: {
        /**
         * Always false: the CRDs come from the separate `slurm-operator-crds` release, so they outlive operator
         * upgrades.
         */
        readonly enabled: boolean;
    };
    /** Webhook certificates. */
    readonly certManager: {
        /** Always true: cert-manager (installed alongside) issues the webhook's serving certificate. */
        readonly enabled: boolean;
    };
};

/**
 * Helm values for the `slurm-operator` chart. Pure. Both values restate the chart's defaults on purpose: the install
 * depends on them.
 */
export function slinkyOperatorValues(): SlinkyOperatorValues {
    return { crds: { enabled: false }, certManager: { enabled: true } };
}

/** Container resource requests and limits (Kubernetes quantities). */
export type ResourceList = Readonly<Record<string, string>>;

/** One NodeSet entry (`nodesets.<key>`); unset fields inherit the chart's `nodesetDefaults`. */
export type SlinkyNodeSetValues = {
    /** slurmd pods. From `compute.replicas`. */
    readonly replicas: number;
    /**
     * Always true: several slurmd pods may share a Kubernetes node. A lab has fewer Kind workers than Slurm nodes;
     * the chart warns against it only for production.
     */
    readonly oversubscribeNode: boolean;
    /** The slurmd container. */
    readonly slurmd: {
        /**
         * Requests = limits = `compute.cpus` CPUs and `compute.memoryMiB` MiB, plus `nvidia.com/gpu` (limits) when
         * `compute.gpus` > 0.
         */
        readonly resources: { readonly requests: ResourceList; readonly limits: ResourceList };
    };
    /** slurmd `--conf` node parameters: `CPUs`, `RealMemory` (MiB) and, with GPUs, `Gres=gpu:<n>`. */
    readonly extraConfMap: Readonly<Record<string, string | readonly string[]>>;
};

/** One partition entry (`partitions.<name>`). */
export type SlinkyPartitionValues = {
    /** Always true. */
    readonly enabled: boolean;
    /** NodeSet keys in the partition: always the one compute NodeSet. */
    readonly nodesets: readonly string[];
    /**
     * Partition line options: `Default` (YES/NO) and `MaxTime` (minutes or UNLIMITED); Slurm's own default
     * `State=UP` holds.
     */
    readonly configMap: Readonly<Record<string, string>>;
};

/** One LoginSet entry (`loginsets.<key>`); unset fields inherit the chart's `loginsetDefaults`. */
export type SlinkyLoginSetValues = {
    /** Always true. */
    readonly enabled: boolean;
    /** The login Service. */
    readonly service: {
        readonly spec: {
            /** Always `ClusterIP`: the chart's LoadBalancer default stays pending on Kind; use `kubectl exec`. */
            readonly type: string;
        };
    };
};

/** `slurmKey` / `jwtKey`: an auth key the chart reads from a Secret it does not create. */
export type SlinkyKeyValues = {
    /** Always false: Pulumi creates the Secret, so the key lives in Pulumi state and survives re-installs. */
    readonly create: boolean;
    /** The Secret and key, {@link SLINKY_KEY_SECRETS}. */
    readonly secretRef: SecretKeyRef;
};

/** `accounting`: slurmdbd against the MariaDB this project deploys. */
export type SlinkyAccountingValues = {
    /** Always true: `sacct` and job history, as in static mode. */
    readonly enabled: boolean;
    /** Where the database is. */
    readonly storageConfig: {
        /** The MariaDB Service, `mariadb`. */
        readonly host: string;
        /** 3306. */
        readonly port: number;
        /** `slurm_acct_db`. */
        readonly database: string;
        /** `slurm`. */
        readonly username: string;
        /** {@link DATABASE_PASSWORD_REF}. */
        readonly passwordKeyRef: SecretKeyRef;
    };
};

/**
 * An image as the slurm chart's values spell it (`slurm.format-image` in its `_helpers.tpl` renders
 * `repository@digest` when there is a digest, else `repository:tag`). A field left out keeps the chart's value.
 */
export type SlinkyImageValues = {
    /** Registry and name, e.g. `docker.io/library/alpine`. */
    readonly repository: string;
    /** Tag; absent when the reference has only a digest. */
    readonly tag?: string;
    /** `sha256:<hex>`; absent when the reference has only a tag (the chart's `digest: null` holds). */
    readonly digest?: string;
};

/** A container the chart adds beside Slurm's own (log file sidecar, init container): only its image is set. */
export type SlinkyHelperContainerValues = {
    /** From `helperImage`. */
    readonly image: SlinkyImageValues;
};

/** The chart's value form of an image reference (`[registry/]name[:tag][@digest]`). Pure. */
export function slinkyImage(reference: string): SlinkyImageValues {
    const at = reference.indexOf("@");
    const digest = at >= 0 ? reference.slice(at + 1) : undefined;
    const named = at >= 0 ? reference.slice(0, at) : reference;
    const tag = imageTag(named);
    const repository = tag === undefined ? named : named.slice(0, -(tag.length + 1));
    return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Helm values set on the `slurm` chart; everything else keeps the chart's default. */
export type SlinkySlurmValues = {
    /** Slurm `ClusterName`. From `clusterName`. */
    readonly clusterName: string;
    /** The auth/slurm key's Secret. */
    readonly slurmKey: SlinkyKeyValues;
    /** The JWT key's Secret. */
    readonly jwtKey: SlinkyKeyValues;
    /** Accounting (slurmdbd). */
    readonly accounting: SlinkyAccountingValues;
    /** Extra files in `/etc/slurm`: `gres.conf` (`AutoDetect=nvidia`) when nodes have GPUs, else none. */
    readonly configFiles: Readonly<Record<string, string>>;
    /** slurmctld. */
    readonly controller: {
        /**
         * Extra slurm.conf lines. With GPUs: `GresTypes: [gpu]` (without it slurmctld drops the nodes' `Gres=gpu:N`;
         * the operator does not add it) and `AccountingStorageTRES: [gres/gpu]`. Else empty.
         */
        readonly extraConfMap: Readonly<Record<string, readonly string[]>>;
        /** slurmctld's log file sidecar: {@link SlinkySettings.helperImage} instead of the chart's alpine:latest. */
        readonly logfile: SlinkyHelperContainerValues;
        /** StateSaveLocation volume. */
        readonly persistence: {
            /** From `storage.storageClassName`; absent means the cluster's default class. */
            readonly storageClassName?: string;
            /** Size from `storage.stateSizeGiB`. */
            readonly resources: { readonly requests: { readonly storage: string } };
        };
    };
    /** What every NodeSet inherits: slurmd's log file sidecar image. */
    readonly nodesetDefaults: { readonly logfile: SlinkyHelperContainerValues };
    /** What every LoginSet inherits: the login pods' init container image. */
    readonly loginsetDefaults: { readonly initconf: SlinkyHelperContainerValues };
    /** The NodeSets, by key: one, {@link COMPUTE_NODESET}. */
    readonly nodesets: Readonly<Record<string, SlinkyNodeSetValues>>;
    /** The LoginSets, by key: one, {@link LOGINSET}. */
    readonly loginsets: Readonly<Record<string, SlinkyLoginSetValues>>;
    /** The partitions, by name. From `partitions`. */
    readonly partitions: Readonly<Record<string, SlinkyPartitionValues>>;
};

/** The settings the Slinky installation reads; the rest of {@link SlurmSettings} is for `static` mode. */
export type SlinkySettings = Pick<
    SlurmSettings,
    "namespace" | "clusterName" | "compute" | "partitions" | "storage" | "helperImage"
>;

/**
 * Helm values for the `slurm` chart from the typed settings. Pure. `image` and `compute.maxNodes` do not apply:
 * Slinky brings its own Slurm images and registers slurmd pods as dynamic nodes; `helperImage` replaces the
 * chart's unpinned alpine:latest in its three helper containers. `storage.databaseSizeGiB` sizes the
 * MariaDB the component deploys for accounting.
 */
export function slinkySlurmValues(settings: SlinkySettings): SlinkySlurmValues {
    const { compute } = settings;
    const requests: Record<string, string> = { cpu: String(compute.cpus), memory: `${compute.memoryMiB}Mi` };
    const limits: Record<string, string> = { ...requests };
    const extraConfMap: Record<string, string | string[]> = {
        CPUs: String(compute.cpus),
        RealMemory: String(compute.memoryMiB),
    };
    const configFiles: Record<string, string> = {};
    const controllerConf: Record<string, string[]> = {};
    if (compute.gpus > 0) {
        controllerConf.GresTypes = ["gpu"];
        controllerConf.AccountingStorageTRES = ["gres/gpu"];
        // Extended resources are requested through limits; the device plugin hands the pod that many GPUs.
        limits["nvidia.com/gpu"] = String(compute.gpus);
        extraConfMap.Gres = [`gpu:${compute.gpus}`];
        configFiles["gres.conf"] = "AutoDetect=nvidia\n";
    }

    const persistence: SlinkySlurmValues["controller"]["persistence"] = {
        ...(settings.storage.storageClassName ? { storageClassName: settings.storage.storageClassName } : {}),
        resources: { requests: { storage: `${settings.storage.stateSizeGiB}Gi` } },
    };

    // A fresh object per container: the values are data handed to Helm, not one shared, mutable record.
    const helper = (): SlinkyHelperContainerValues => ({ image: slinkyImage(settings.helperImage) });
    return {
        clusterName: settings.clusterName,
        slurmKey: { create: false, secretRef: { ...SLINKY_KEY_SECRETS.slurmKey } },
        jwtKey: { create: false, secretRef: { ...SLINKY_KEY_SECRETS.jwtKey } },
        accounting: {
            enabled: true,
            storageConfig: {
                host: ROLE_SPECS.mariadb.name,
                port: PORTS.mariadb,
                database: DATABASE.name,
                username: DATABASE.user,
                passwordKeyRef: { ...DATABASE_PASSWORD_REF },
            },
        },
        configFiles,
        controller: { extraConfMap: controllerConf, logfile: helper(), persistence },
        nodesetDefaults: { logfile: helper() },
        loginsetDefaults: { initconf: helper() },
        nodesets: {
            [COMPUTE_NODESET]: {
                replicas: compute.replicas,
                oversubscribeNode: true,
                slurmd: { resources: { requests, limits } },
                extraConfMap,
            },
        },
        loginsets: {
            [LOGINSET]: { enabled: true, service: { spec: { type: "ClusterIP" } } },
        },
        partitions: Object.fromEntries(settings.partitions.map((p) => [p.name, partitionValues(p)])),
    };
}

function partitionValues(partition: PartitionSettings): SlinkyPartitionValues {
    return {
        enabled: true,
        nodesets: [COMPUTE_NODESET],
        configMap: {
            Default: partition.default ? "YES" : "NO",
            MaxTime: partition.maxTimeMinutes === undefined ? "UNLIMITED" : String(partition.maxTimeMinutes),
        },
    };
}

/** Helm release name of cert-manager, as in cert-manager's and Slinky's install guides. */
export const CERT_MANAGER_RELEASE_NAME = "cert-manager";

/** Helm values set on Jetstack's `cert-manager` chart; everything else keeps the chart's default. */
export type CertManagerValues = {
    /** The chart's CRDs. */
    readonly crds: {
        /** Always true: Slinky's operator chart creates cert-manager Issuers and Certificates, which need them. */
        readonly enabled: boolean;
    };
};

/** Helm values for the `cert-manager` chart. Pure. `crds.enabled` replaces `installCRDs`, deprecated since 1.15. */
export function certManagerValues(): CertManagerValues {
    return { crds: { enabled: true } };
}

/** The inputs of the `@pulumi/kubernetes-cert-manager` component: `helmOptions` only. */
export type CertManagerArgs = {
    /** The Helm release the component makes. */
    readonly helmOptions: {
        /** {@link CERT_MANAGER_RELEASE_NAME}, not a generated name: the release stacks made before carry. */
        readonly name: string;
        /** `cert-manager`, Jetstack's chart. */
        readonly chart: string;
        /** {@link CERT_MANAGER_CHART_REPO}. */
        readonly repositoryOpts: { readonly repo: string };
        /** {@link CERT_MANAGER_CHART_VERSION}: the component's own default would be the chart's latest. */
        readonly version: string;
        /** {@link CERT_MANAGER_NAMESPACE}. */
        readonly namespace: string;
        /** Always true: Helm makes the namespace, as it always did for this release. */
        readonly createNamespace: boolean;
        /** {@link certManagerValues}. */
        readonly values: CertManagerValues;
    };
};

/**
 * The cert-manager component's inputs. Pure. Everything is in `helmOptions`, and none of the component's typed
 * inputs is set: its provider (pulumi-go-helmbase `InitDefaults`) writes every typed input over the key of the
 * same name in `helmOptions.values`, an unset one as null, which the Pulumi SDK then drops, so a value whose key is
 * a typed input (`installCRDs`, `webhook`, `global`, ...) given in `helmOptions.values` would be lost. `crds` is not
 * one of them: `crds.enabled` reaches the chart as given.
 */
export function certManagerArgs(): CertManagerArgs {
    return {
        helmOptions: {
            name: CERT_MANAGER_RELEASE_NAME,
            chart: "cert-manager",
            repositoryOpts: { repo: CERT_MANAGER_CHART_REPO },
            version: CERT_MANAGER_CHART_VERSION,
            namespace: CERT_MANAGER_NAMESPACE,
            createNamespace: true,
            values: certManagerValues(),
        },
    };
}

/** What a user needs to reach the Slinky Slurm cluster in `namespace`. Pure; names only, never secret values. */
export function slinkyConnection(settings: Pick<SlurmSettings, "namespace">): SlurmConnection {
    const ns = settings.namespace;
    const login = `deployment/${SLURM_RELEASE_NAME}-login-${LOGINSET}`;
    const controller = `${SLURM_RELEASE_NAME}-controller`;
    return {
        namespace: ns,
        controllerAddress: `${controller}.${ns}.svc.cluster.local:${PORTS.slurmctld}`,
        commands: {
            sinfo: `kubectl --namespace ${ns} exec ${login} -- sinfo`,
            squeue: `kubectl --namespace ${ns} exec ${login} -- squeue`,
            srun: `kubectl --namespace ${ns} exec ${login} -- srun hostname`,
            pods: `kubectl --namespace ${ns} get pods`,
            controllerLogs: `kubectl --namespace ${ns} logs statefulset/${controller} -c slurmctld`,
            accounting: `kubectl --namespace ${ns} exec ${login} -- sacct --allusers`,
            // slurmrestd; a token comes from `scontrol token` on the login pod.
            restapi: `kubectl --namespace ${ns} port-forward service/${SLURM_RELEASE_NAME}-restapi ${SLURMRESTD_PORT}`,
        },
        secretNames: [SLINKY_KEY_SECRETS.slurmKey.name, SLINKY_KEY_SECRETS.jwtKey.name, DATABASE_PASSWORD_REF.name],
    };
}
