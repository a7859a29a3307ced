/**
 * Ingress rules of the static Slurm stack, one NetworkPolicy per role; each selected pod then refuses all other
 * ingress. Pure.
 */
import { KubeObject, ObjectPlacement, metadata, selectorFor } from "./objects";
import { ROLE_SPECS, SlurmRole } from "./topology";

/** Who may reach each role, and on which port (absent: any port). */
export interface IngressRule {
    /** Roles whose pods may connect. */
    readonly from: readonly SlurmRole[];
    /** The only TCP port they may connect to; absent means every port. */
    readonly port?: number;
    /** A TCP port any source may reach (a Service users connect to from outside). Default none. */
    readonly openPort?: number;
}

/**
 * The ingress table. slurmdbd also admits the login pod (`sacct` and `sacctmgr` talk to slurmdbd directly),
 * slurmctld admits slurmdbd (it pushes accounting changes to the controller), and compute/login admit each other
 * and the controller on any port (srun listens on ephemeral ports that slurmstepd connects back to). slurmrestd
 * talks to slurmctld and slurmdbd; the login pod's sshd and slurmrestd are open to anyone (users reach them through
 * their Services), since each authenticates its callers itself (keys, JWTs).
 */
export const INGRESS: Readonly<Record<SlurmRole, IngressRule>> = {
    mariadb: { from: ["slurmdbd"], port: ROLE_SPECS.mariadb.port },
    slurmdbd: { from: ["slurmctld", "login", "restapi"], port: ROLE_SPECS.slurmdbd.port },
    slurmctld: { from: ["compute", "login", "slurmdbd", "restapi"], port: ROLE_SPECS.slurmctld.port },
    compute: { from: ["slurmctld", "compute", "login"] },
    login: { from: ["slurmctld", "compute"], openPort: ROLE_SPECS.login.port },
    restapi: { from: [], openPort: ROLE_SPECS.restapi.port },
};

/** The NetworkPolicy `<role>-ingress` of one role, from {@link INGRESS}. */
export function networkPolicyObject(placement: ObjectPlacement, role: SlurmRole): KubeObject {
    const rule = INGRESS[role];
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: metadata(placement, `${role}-ingress`, role),
        spec: {
            podSelector: { matchLabels: selectorFor(role) },
            policyTypes: ["Ingress"],
            ingress: [
                ...(rule.from.length > 0
                    ? [
                          {
                              from: rule.from.map((peer) => ({ podSelector: { matchLabels: selectorFor(peer) } })),
                              ...(rule.port ? { ports: [{ protocol: "TCP", port: rule.port }] } : {}),
                          },
                      ]
                    : []),
                // No `from`: every source, on this port only.
                ...(rule.openPort ? [{ ports: [{ protocol: "TCP", port: rule.openPort }] }] : []),
            ],
        },
    };
}

/** The NetworkPolicies, one per role, in role order. */
export function networkPolicyObjects(placement: ObjectPlacement): KubeObject[] {
    return (Object.keys(INGRESS) as SlurmRole[]).map((role) => networkPolicyObject(placement, role));
}
