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
}
