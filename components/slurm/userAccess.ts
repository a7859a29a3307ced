/**
 * The ready-to-paste commands by which the lab's users reach the static stack from their machine, for each Service
 * type: `ssh` into the login pod, its `known_hosts` line, and a token and `curl` for slurmrestd. Pure; names, ports
 * and the public host key only, never a secret.
 */
import type { SlurmServiceSettings, UserSettings } from "../../config/schema";
import { SSH_SERVICE_PORT } from "./access";
import { NAMES, PORTS, ROLE_SPECS } from "./topology";

/** Which OpenAPI plugin version of slurmrestd the commands use (Slurm 24.11 serves v0.0.40 to v0.0.42). */
export const REST_API_VERSION = "v0.0.41";

/** What the commands depend on. */
export interface UserAccessInput {
    /** The Slurm namespace. */
    readonly namespace: string;
    /** The lab's users; each with keys gets an `ssh` command. */
    readonly users: readonly Pick<UserSettings, "name" | "sshAuthorizedKeys">[];
    /** The login pod's SSH Service. */
    readonly login: SlurmServiceSettings;
    /** slurmrestd's Service. */
    readonly restApi: SlurmServiceSettings;
    /** On Kind, a NodePort is the host's port at 127.0.0.1 (mapped when the cluster was made). */
    readonly onKind: boolean;
    /** The login's public host key line (`ssh-ed25519 AAAA... login`). */
    readonly hostKey: string;
}

/** Where a Service is reached from the user's machine: host, port, and a command to run first (if any). */
interface Endpoint {
    readonly host: string;
    readonly port: number;
    readonly before?: string;
}

function endpoint(input: UserAccessInput, service: string, settings: SlurmServiceSettings, port: number): Endpoint {
    const ns = input.namespace;
    switch (settings.serviceType) {
        case "NodePort":
            return { host: input.onKind ? "127.0.0.1" : "<a node's address>", port: settings.port };
        case "LoadBalancer":
            return {
                host: `$(kubectl -n ${ns} get service ${service} -o jsonpath='{.status.loadBalancer.ingress[0].ip}')`,
                port,
            };
        case "ClusterIP":
            // A local port that is the Service's own unless that is privileged.
            return {
                host: "127.0.0.1",
                port: port < 1024 ? PORTS.sshd : port,
                before: `kubectl -n ${ns} port-forward service/${service} ${port < 1024 ? PORTS.sshd : port}:${port} &`,
            };
    }
}

/** The `ssh`, `knownHosts` and `restApi` fields of the stack output `slurmInfo`. */
export function userAccess(input: UserAccessInput): {
    ssh: Record<string, string>;
    knownHosts: string;
    restApi: Record<string, string>;
} {
    const ssh = endpoint(input, NAMES.sshService, input.login, SSH_SERVICE_PORT);
    const rest = endpoint(input, ROLE_SPECS.restapi.name, input.restApi, PORTS.slurmrestd);
    const prefix = (e: Endpoint) => (e.before ? `${e.before} ` : "");
    const sshTo = (user: string) => `${prefix(ssh)}ssh ${ssh.port === 22 ? "" : `-p ${ssh.port} `}${user}@${ssh.host}`;
    const first = input.users.find((u) => u.sshAuthorizedKeys.length > 0)?.name ?? "<user>";
    const hostPart = ssh.port === 22 ? ssh.host : `[${ssh.host}]:${ssh.port}`;
    const url = `http://${rest.host}:${rest.port}`;
    return {
        ssh: Object.fromEntries(
            input.users.filter((u) => u.sshAuthorizedKeys.length > 0).map((u) => [u.name, sshTo(u.name)]),
        ),
        knownHosts: `${hostPart} ${input.hostKey.split(" ").slice(0, 2).join(" ")}`,
        restApi: {
            url: `${prefix(rest)}${url}`,
            // `scontrol token` prints SLURM_JWT=<token>: the user's own, good for an hour.
            token: `export $(${sshTo(first)} scontrol token lifespan=3600)`,
            jobs:
                `curl -H "X-SLURM-USER-NAME: ${first}" -H "X-SLURM-USER-TOKEN: $SLURM_JWT" ` +
                `${url}/slurm/${REST_API_VERSION}/jobs`,
        },
    };
}
