/**
 * The static Slurm stack's roles, ports, names and paths: the one table the renderers, the Kubernetes objects and
 * the image's entrypoint (`containers/images/slurm-base/Docker`) agree on. Change one here and there together.
 */

/**
 * The Slurm daemons' ports (Slurm's defaults, slurmrestd's the one its docs use), MariaDB's, and the login pod's
 * sshd, on an unprivileged port so that it needs no NET_BIND_SERVICE (its Service answers on 22).
 */
export const PORTS = {
    slurmctld: 6817,
    slurmd: 6818,
    slurmdbd: 6819,
    slurmrestd: 6820,
    mariadb: 3306,
    sshd: 2222,
} as const;

/** A role of the static stack: one pod kind, named the same everywhere. */
export type SlurmRole = "mariadb" | "slurmdbd" | "slurmctld" | "compute" | "login" | "restapi";

/** Roles in the order their objects are built and listed. */
export const SLURM_ROLES: readonly SlurmRole[] = ["mariadb", "slurmdbd", "slurmctld", "compute", "login", "restapi"];

/** What one role is, in every place that names it. */
export interface RoleSpec {
    /**
     * The role's one name: its Service, StatefulSet or Deployment, its `app.kubernetes.io/component` label, and (for
     * Slurm roles) the entrypoint's role argument and `entrypoint.sh probe <role>`.
     */
    readonly name: SlurmRole;
    /** Name of the role's container. */
    readonly container: string;
    /** The port its daemon listens on; absent for the login pod, which serves nothing. */
    readonly port?: number;
    /** Port name on the container and Service (at most 15 characters). */
    readonly portName?: string;
    /**
     * Linux capabilities the container keeps, all others dropped; each one was found necessary by removing it in
     * turn with the real daemons. CHOWN: the entrypoint gives the MUNGE key and spool directories to their users.
     * SETUID/SETGID: munged, slurmctld and slurmdbd run as their own users, and slurmd starts job steps as the
     * submitting user. KILL (slurmd): signal job processes of other users, e.g. on scancel. SYS_CHROOT (login):
     * sshd's privilege separation chroots its pre-authentication child. All are in the Pod Security "baseline"
     * set. Jobs of other users run without SYS_NICE because slurm.conf has `TaskPlugin=task/none` (no CPU binding).
     */
    readonly capabilities: readonly string[];
    /** Roles whose port must answer before this role's daemon starts (the container's `SLURM_WAIT_FOR`). */
    readonly waitsFor: readonly SlurmRole[];
}

const DAEMON_CAPABILITIES = ["CHOWN", "SETGID", "SETUID"] as const;

/** Every role of the static stack. */
export const ROLE_SPECS: Readonly<Record<SlurmRole, RoleSpec>> = {
    mariadb: {
        name: "mariadb",
        container: "mariadb",
        port: PORTS.mariadb,
        portName: "mysql",
        capabilities: [],
        waitsFor: [],
    },
    slurmdbd: {
        name: "slurmdbd",
        container: "slurmdbd",
        port: PORTS.slurmdbd,
        portName: "slurmdbd",
        capabilities: DAEMON_CAPABILITIES,
        waitsFor: ["mariadb"],
    },
    slurmctld: {
        name: "slurmctld",
        container: "slurmctld",
        port: PORTS.slurmctld,
        portName: "slurmctld",
        capabilities: DAEMON_CAPABILITIES,
        // slurmctld exits on a first start while slurmdbd is unreachable ("no TRES").
        waitsFor: ["slurmdbd"],
    },
    compute: {
        name: "compute",
        container: "slurmd",
        port: PORTS.slurmd,
        portName: "slurmd",
        capabilities: ["CHOWN", "KILL", "SETGID", "SETUID"],
        waitsFor: ["slurmctld"],
    },
    login: {
        name: "login",
        container: "login",
        port: PORTS.sshd,
        portName: "ssh",
        capabilities: [...DAEMON_CAPABILITIES, "SYS_CHROOT"],
        waitsFor: ["slurmctld"],
    },
    restapi: {
        name: "restapi",
        container: "slurmrestd",
        port: PORTS.slurmrestd,
        portName: "slurmrestd",
        // The entrypoint installs slurm.conf and the users as root, then runs slurmrestd as its own user.
        capabilities: DAEMON_CAPABILITIES,
        waitsFor: ["slurmctld"],
    },
};

/** `SLURM_WAIT_FOR` of a role: the `host:port` (Service name and port) of each role it waits for, space-separated. */
export function slurmWaitFor(role: SlurmRole): string {
    return ROLE_SPECS[role].waitsFor.map((other) => `${ROLE_SPECS[other].name}:${ROLE_SPECS[other].port}`).join(" ");
}

/** Kubernetes object names that are not roles. */
export const NAMES = {
    configMap: "slurm-config",
    mungeKeySecret: "slurm-munge-key",
    mariadbSecret: "mariadb-credentials",
    slurmdbdSecret: "slurmdbd-config",
    usersConfigMap: "slurm-users",
    sshHostKeySecret: "slurm-ssh-host-key",
    jwtKeySecret: "slurm-jwt-key",
    /** The login pod's SSH Service (the headless `login` Service is its hostname for srun). */
    sshService: "login-ssh",
    /** The shared /home claim (slurm.sharedHome). */
    homeClaim: "slurm-home",
} as const;

/** File names inside the key Secrets. */
export const KEY_FILES = { sshHostKey: "ssh_host_ed25519_key", jwtKey: "jwt_hs256.key" } as const;

/** Keys of the `mariadb-credentials` Secret. */
export const MARIADB_SECRET_KEYS = { rootPassword: "root-password", password: "password" } as const;

/** Where the entrypoint expects each mount. */
export const MOUNTS = {
    mungeKeyDir: "/etc/munge-secret",
    slurmConfigDir: "/etc/slurm-config",
    slurmdbdSecretDir: "/etc/slurm-secret",
    stateSaveLocation: "/var/spool/slurmctld",
    slurmdSpoolDir: "/var/spool/slurmd",
    mariadbData: "/var/lib/mysql",
    usersDir: "/etc/slurm-users",
    sshHostKeyDir: "/etc/ssh-host-key",
    jwtKeyDir: "/etc/slurm-jwt",
    home: "/home",
} as const;

/** Where slurmctld and slurmdbd read the JWT key (slurm.conf and slurmdbd.conf `AuthAltParameters`). */
export const JWT_KEY_PATH = "/etc/slurm/jwt_hs256.key";

/** The Slurm account every user of the lab is associated with (sacctmgr), created by the controller pod. */
export const USERS_ACCOUNT = "users";

/** The accounting database and its user. */
export const DATABASE = { name: "slurm_acct_db", user: "slurm" } as const;

/**
 * Pods of a StatefulSet are named `<set>-<ordinal>`; Slurm checks its own hostname against `SlurmctldHost` and
 * `DbdHost`, so the single controller and dbd pods are `<name>-0`.
 */
export const CONTROLLER_HOSTNAME = `${ROLE_SPECS.slurmctld.name}-0`;
/** See {@link CONTROLLER_HOSTNAME}. */
export const DBD_HOSTNAME = `${ROLE_SPECS.slurmdbd.name}-0`;

/** Compute nodes carry this feature; the partitions select nodes through a NodeSet of it. */
export const COMPUTE_FEATURE = "compute";
