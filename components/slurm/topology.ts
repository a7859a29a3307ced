/**
 * Names, ports and paths shared by the renderers, the Kubernetes objects and the image's entrypoint
 * (`containers/images/slurm-base/Docker/entrypoint.sh`). Change one here and there together.
 */

/** The Slurm daemons' ports, Slurm's defaults. */
export const PORTS = { slurmctld: 6817, slurmd: 6818, slurmdbd: 6819, mariadb: 3306 } as const;

/** One pod role each; also the Service / StatefulSet / Deployment names and the `app.kubernetes.io/component` label. */
export const ROLES = { mariadb: "mariadb", dbd: "slurmdbd", controller: "slurmctld", compute: "compute", login: "login" } as const;

/** Kubernetes object names that are not roles. */
export const NAMES = {
    configMap: "slurm-config",
    mungeKeySecret: "slurm-munge-key",
    mariadbSecret: "mariadb-credentials",
    slurmdbdSecret: "slurmdbd-config",
} as const;

/** Where the entrypoint expects each mount. */
export const MOUNTS = {
    mungeKeyDir: "/etc/munge-secret",
    slurmConfigDir: "/etc/slurm-config",
    slurmdbdSecretDir: "/etc/slurm-secret",
    stateSaveLocation: "/var/spool/slurmctld",
    slurmdSpoolDir: "/var/spool/slurmd",
    mariadbData: "/var/lib/mysql",
} as const;

/** The accounting database and its user. */
export const DATABASE = { name: "slurm_acct_db", user: "slurm" } as const;

/**
 * Pods of a StatefulSet are named `<set>-<ordinal>`; Slurm checks its own hostname against `SlurmctldHost` and
 * `DbdHost`, so the single controller and dbd pods are `<name>-0`.
 */
export const CONTROLLER_HOSTNAME = `${ROLES.controller}-0`;
/** See {@link CONTROLLER_HOSTNAME}. */
export const DBD_HOSTNAME = `${ROLES.dbd}-0`;

/** Compute nodes carry this feature; the partitions select nodes through a NodeSet of it. */
export const COMPUTE_FEATURE = "compute";
