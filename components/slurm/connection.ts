/** What a user needs to reach a Slurm cluster; exported as the stack output `slurmInfo`. Never holds a secret. */
export interface SlurmConnection {
    /** Namespace of every Slurm object. */
    readonly namespace: string;
    /** slurmctld's in-cluster address, `host:port`. */
    readonly controllerAddress: string;
    /** Ready-to-paste commands, e.g. `sinfo` run on the login pod through `kubectl exec`. */
    readonly commands: Readonly<Record<string, string>>;
    /** Names of the Kubernetes Secrets that hold the MUNGE key and passwords (names only, never values). */
    readonly secretNames: readonly string[];
    /** Static mode: per user, the ready-to-paste `ssh` command into the login pod. Default none. */
    readonly ssh?: Readonly<Record<string, string>>;
    /** Static mode: the login's `known_hosts` line (its public host key, which stays the same). */
    readonly knownHosts?: string;
    /** Static mode: how to reach slurmrestd, and a token and `curl` of its jobs endpoint (commands, no token). */
    readonly restApi?: Readonly<Record<string, string>>;
}
