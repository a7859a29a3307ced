/**
 * Which checks a deployed stack gets, from its settings and its outputs. Pure apart from the `writeKubeconfig`
 * callback, which puts each kubeconfig into a private file and returns its path.
 */
import type { StackConfig } from "../config/schema";
import { LOGINSET, SLURM_RELEASE_NAME } from "../components/slinky/values";
import { PORTS, ROLE_SPECS } from "../components/slurm/topology";
import { REST_API_VERSION } from "../components/slurm/userAccess";
import { Check, Clock, apiCheck, argocdCheck, slurmChecks, systemClock } from "./checks";
import { UserExpectations, userChecks } from "./userChecks";
import { CommandRunner, KubectlAccess, kubectlTransport } from "./transport";

/** The settings verify reads: a subset of the stack config (tenants' `argocd` defaults to true). */
export type VerifySettings = Pick<StackConfig, "cluster" | "slurm"> & {
    readonly vcluster: { readonly tenants: readonly { readonly name: string; readonly argocd?: boolean }[] };
};

/** What verify checks on one stack. */
export interface VerifyPlan {
    /** kubectl access to the host cluster. */
    readonly cluster: KubectlAccess;
    /** Slurm, unless the stack runs none. */
    readonly slurm?: {
        /** Namespace of the Slurm objects. */
        readonly namespace: string;
        /** Workload of the login target (`deploy/login`, `deployment/slurm-login-slinky`). */
        readonly login: string;
        /** Compute nodes expected. */
        readonly nodes: number;
        /** GPUs per node. */
        readonly gpus: number;
        /** Accounting runs. */
        readonly accounting: boolean;
        /** Static mode with users: what the user checks expect (the first user). Default none: no user checks. */
        readonly users?: UserExpectations;
    };
    /** One entry per tenant. */
    readonly tenants: readonly { readonly name: string; readonly access: KubectlAccess; readonly argocd: boolean }[];
    /** Every secret text verify holds (kubeconfigs): the report hides them. */
    readonly secrets: readonly string[];
}

/** The login workload of each Slurm mode. */
export function loginWorkload(mode: "static" | "slinky"): string {
    return mode === "static" ? `deploy/${ROLE_SPECS.login.name}` : `deployment/${SLURM_RELEASE_NAME}-login-${LOGINSET}`;
}

/**
 * The plan for a stack. `outputs` are the stack outputs with secrets in plain text (`kubeconfig`, `tenantInfo`);
 * throws naming what is missing when the stack was not brought up (or not completely).
 */
export function planFromStack(
    settings: VerifySettings,
    outputs: Readonly<Record<string, unknown>>,
    writeKubeconfig: (name: string, contents: string) => string,
): VerifyPlan {
    const secrets: string[] = [];
    let cluster: KubectlAccess;
    if (settings.cluster.type === "kind") {
        const kubeconfig = outputs.kubeconfig;
        if (typeof kubeconfig !== "string" || kubeconfig === "") {
            throw new Error("the stack has no output `kubeconfig`: bring it up first (npm run up -- <stack>)");
        }
        secrets.push(kubeconfig);
        cluster = { kubeconfigPath: writeKubeconfig("cluster", kubeconfig) };
    } else {
        cluster = { kubeconfigPath: settings.cluster.kubeconfigPath, context: settings.cluster.context };
    }
    const slurm =
        settings.slurm.mode === "none"
            ? undefined
            : {
                  namespace: settings.slurm.namespace,
                  login: loginWorkload(settings.slurm.mode),
                  nodes: settings.slurm.compute.replicas,
                  gpus: settings.slurm.compute.gpus,
                  // Both modes run slurmdbd on the project's MariaDB, so sacct answers in both.
                  accounting: true,
                  ...userExpectations(settings, outputs),
              };
    const tenantInfo = (outputs.tenantInfo ?? {}) as Record<string, { kubeconfig?: unknown } | undefined>;
    const tenants = settings.vcluster.tenants.map((tenant) => {
        const kubeconfig = tenantInfo[tenant.name]?.kubeconfig;
        if (typeof kubeconfig !== "string" || kubeconfig === "") {
            throw new Error(
                `the stack output tenantInfo has no kubeconfig for the tenant "${tenant.name}": ` +
                    "bring the stack up first",
            );
        }
        secrets.push(kubeconfig);
        return {
            name: tenant.name,
            access: { kubeconfigPath: writeKubeconfig(`tenant-${tenant.name}`, kubeconfig) },
            argocd: tenant.argocd ?? true,
        };
    });
    return { cluster, slurm, tenants, secrets };
}

/**
 * The user checks' expectations: static mode with a user, and the login's host key from `slurmInfo.knownHosts`;
 * none without that output.
 */
function userExpectations(
    settings: VerifySettings,
    outputs: Readonly<Record<string, unknown>>,
): { users?: UserExpectations } {
    const first = settings.slurm.users[0];
    if (settings.slurm.mode !== "static" || !first) return {};
    const knownHosts = (outputs.slurmInfo as { knownHosts?: unknown } | undefined)?.knownHosts;
    // A stack last brought up before this version has no host key output (nor sshd): no user checks until its `up`.
    if (typeof knownHosts !== "string") return {};
    return {
        users: {
            user: first.name,
            // `[host]:port ssh-ed25519 AAAA...`: the key is what follows the host.
            hostKey: knownHosts.split(/\s+/).slice(1).join(" "),
            sshPort: PORTS.sshd,
            restUrl: `http://${ROLE_SPECS.restapi.name}:${PORTS.slurmrestd}`,
            restVersion: REST_API_VERSION,
        },
    };
}

/** The checks of a plan, in report order: the cluster's API first; everything else needs it. */
export function checksFor(
    plan: VerifyPlan,
    runner: CommandRunner,
    clock: Clock = systemClock,
    kubectl?: string,
): Check[] {
    const withKubectl = (access: KubectlAccess): KubectlAccess => ({ ...access, ...(kubectl ? { kubectl } : {}) });
    const api = "cluster: API answers";
    const checks: Check[] = [apiCheck(api, runner, withKubectl(plan.cluster))];
    if (plan.slurm) {
        const transport = kubectlTransport(runner, {
            ...withKubectl(plan.cluster),
            namespace: plan.slurm.namespace,
            targets: { login: plan.slurm.login },
        });
        checks.push(...slurmChecks(plan.slurm, transport, clock, api));
        if (plan.slurm.users) checks.push(...userChecks(plan.slurm.users, transport, clock, api));
    }
    for (const tenant of plan.tenants) {
        const tenantApi = `tenant ${tenant.name}: API answers`;
        checks.push({ ...apiCheck(tenantApi, runner, withKubectl(tenant.access)), requires: api });
        if (tenant.argocd)
            checks.push(
                argocdCheck(
                    `tenant ${tenant.name}: Argo CD server ready`,
                    runner,
                    withKubectl(tenant.access),
                    tenantApi,
                ),
            );
    }
    return checks;
}
