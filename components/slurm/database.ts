/**
 * Slurm's accounting database: MariaDB as a one-replica StatefulSet, its Service, and the credentials Secret with
 * generated passwords. Used by both modes: the static stack's slurmdbd and Slinky's Accounting read the same
 * Service, database, user and Secret.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
    KubeObject,
    ObjectPlacement,
    clusterIpService,
    labelsFor,
    podTemplate,
    resources,
    startupProbe,
    statefulSet,
    tcpProbe,
    volumeClaim,
} from "./objects";
import { DATABASE, MARIADB_SECRET_KEYS, MOUNTS, NAMES, PORTS, ROLE_SPECS } from "./topology";

/** MariaDB image: the upstream image's 11.8 LTS line; the default of the `slurm.mariadbImage` setting. */
export { DEFAULT_MARIADB_IMAGE } from "../../config/settings";

/** What the MariaDB objects need. */
export interface MariadbInput extends ObjectPlacement {
    /** MariaDB image (upstream, pinned). */
    readonly mariadbImage: string;
    /** Size of the data volume, in GiB. */
    readonly databaseSizeGiB: number;
}

/** MariaDB: one replica on a persistent volume, credentials from the `mariadb-credentials` Secret. Pure. */
export function mariadbObjects(input: MariadbInput): KubeObject[] {
    const role = ROLE_SPECS.mariadb;
    const fromSecret = (key: string) => ({ secretKeyRef: { name: NAMES.mariadbSecret, key } });
    const env = [
        { name: "MARIADB_ROOT_PASSWORD", valueFrom: fromSecret(MARIADB_SECRET_KEYS.rootPassword) },
        { name: "MARIADB_DATABASE", value: DATABASE.name },
        { name: "MARIADB_USER", value: DATABASE.user },
        { name: "MARIADB_PASSWORD", valueFrom: fromSecret(MARIADB_SECRET_KEYS.password) },
    ];
    // slurmdbd's recommended InnoDB settings; upstream's entrypoint passes `--key=value` arguments to mariadbd.
    const args = ["--innodb-buffer-pool-size=256M", "--innodb-lock-wait-timeout=900", "--innodb-log-file-size=64M"];
    return [
        clusterIpService(input, role.name, PORTS.mariadb),
        statefulSet(input, role.name, {
            replicas: 1,
            template: podTemplate(
                role.name,
                {},
                {
                    enableServiceLinks: false,
                    // The upstream image runs as mysql (999) when started as it; fsGroup gives it the volume.
                    securityContext: {
                        runAsUser: 999,
                        runAsGroup: 999,
                        fsGroup: 999,
                        runAsNonRoot: true,
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                    containers: [
                        {
                            name: role.container,
                            image: input.mariadbImage,
                            imagePullPolicy: "IfNotPresent",
                            args,
                            env,
                            ports: [{ name: role.portName, containerPort: PORTS.mariadb }],
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                            resources: resources("100m", 384, "1", 1024),
                            // The first start initialises the database before it listens; give it time.
                            startupProbe: startupProbe(PORTS.mariadb),
                            readinessProbe: tcpProbe(PORTS.mariadb, 10, 3),
                            livenessProbe: tcpProbe(PORTS.mariadb, 20, 3),
                            volumeMounts: [{ name: "data", mountPath: MOUNTS.mariadbData }],
                        },
                    ],
                },
            ),
            volumeClaimTemplates: [volumeClaim(input, "data", input.databaseSizeGiB)],
        }),
    ];
}

/** The generated database passwords and the Secret that holds them. */
export interface DatabaseCredentials {
    /** The `mariadb-credentials` Secret (keys {@link MARIADB_SECRET_KEYS}). */
    readonly secret: k8s.core.v1.Secret;
    /** The Slurm user's password (secret): letters and digits only, so slurmdbd.conf needs no quoting. */
    readonly password: pulumi.Output<string>;
}

/**
 * Generates the root and Slurm user passwords and registers the `mariadb-credentials` Secret. Resource names start
 * with `prefix` (the calling component's name).
 */
export function databaseCredentials(
    prefix: string,
    namespace: string,
    opts: pulumi.CustomResourceOptions,
): DatabaseCredentials {
    // Letters and digits only: slurmdbd.conf cannot quote other characters, and MariaDB's init SQL needs none
    // escaped. 32 of 62 symbols is ~190 bits.
    const password = (purpose: string) =>
        new random.RandomPassword(`${prefix}-${purpose}`, { length: 32, special: false }, { parent: opts.parent });
    const root = password("mariadb-root-password");
    const slurm = password("slurmdbd-db-password");
    const secret = new k8s.core.v1.Secret(
        `${prefix}-${NAMES.mariadbSecret}`,
        {
            metadata: { name: NAMES.mariadbSecret, namespace, labels: labelsFor(ROLE_SPECS.mariadb.name) },
            type: "Opaque",
            stringData: {
                [MARIADB_SECRET_KEYS.rootPassword]: pulumi.secret(root.result),
                [MARIADB_SECRET_KEYS.password]: pulumi.secret(slurm.result),
            },
        },
        opts,
    );
    return { secret, password: pulumi.secret(slurm.result) };
}
