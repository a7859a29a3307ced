/**
 * The checks of the lab's users (static stack with `slurm.users`), run on the login target like the other Slurm
 * checks. verify holds no user's private key, so the SSH check proves what it can without one: sshd answers on the
 * login pod with the stack's own host key (the one `known_hosts` holds) and the user resolves there; a job then runs
 * as that user (started as them with setpriv, as sshd would), and slurmrestd answers a token of theirs. The token
 * stays inside the pod: the script prints only the HTTP status.
 */
import { Check, Clock, loginExec, Outcome, POLL_INTERVAL_MS, systemClock } from "./checks";
import { ExecResult, ExecTransport } from "./transport";

/** What the user checks expect. */
export interface UserExpectations {
    /** The user the checks act as: the first of `slurm.users`. */
    readonly user: string;
    /** The login's public host key (`ssh-ed25519 AAAA...`, from the output `slurmInfo.knownHosts`). */
    readonly hostKey: string;
    /** Port sshd listens on in the login pod. */
    readonly sshPort: number;
    /** slurmrestd's address from the login pod (`http://restapi:6820`) and its API version. */
    readonly restUrl: string;
    /** OpenAPI plugin version, e.g. `v0.0.41`. */
    readonly restVersion: string;
}

/** Time limits of the user checks, in milliseconds. */
export const USER_TIMEOUTS_MS = { ssh: 30_000, job: 120_000, rest: 30_000 } as const;

const said = (r: ExecResult) => (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split("\n").pop()!;

/**
 * `setpriv` to `user` with their groups, home and name, as a login shell of theirs would run; it enters the home as
 * the user, since root in the pod cannot (homes are 0700, and it has no CAP_DAC_READ_SEARCH).
 */
function asUser(user: string, script: string): string[] {
    return [
        "bash",
        "-c",
        `exec setpriv --reuid=${user} --regid="$(id -g ${user})" --init-groups ` +
            `env HOME=/home/${user} USER=${user} LOGNAME=${user} bash -c 'cd "$HOME" && ${script}'`,
    ];
}

/** The three checks of `expect.user`; each needs `requires` (the Slurm checks' prerequisite) to have passed. */
export function userChecks(
    expect: UserExpectations,
    transport: ExecTransport,
    clock: Clock = systemClock,
    requires?: string,
): Check[] {
    const exec = loginExec(transport, clock);
    const { user } = expect;
    return [
        {
            name: `slurm: SSH login as ${user}`,
            requires,
            timeoutMs: USER_TIMEOUTS_MS.ssh,
            async run(deadline) {
                const scan = await exec(
                    ["ssh-keyscan", "-t", "ed25519", "-p", String(expect.sshPort), "127.0.0.1"],
                    deadline,
                );
                const served = scan.stdout
                    .split("\n")
                    .map((l) => l.trim().split(/\s+/).slice(1, 3).join(" "))
                    .find((k) => k.startsWith("ssh-ed25519 "));
                const expected = expect.hostKey.trim().split(/\s+/).slice(0, 2).join(" ");
                if (!served)
                    return { ok: false, reason: `sshd does not answer on port ${expect.sshPort}: ${said(scan)}` };
                if (served !== expected)
                    return { ok: false, reason: "sshd answers with another host key than the stack's" };
                const id = await exec(["id", "-u", user], deadline);
                if (id.code !== 0)
                    return { ok: false, reason: `${user} does not resolve in the login pod: ${said(id)}` };
                return { ok: true, reason: `sshd has the stack's host key; ${user} is uid ${id.stdout.trim()}` };
            },
        },
        {
            name: `slurm: job as ${user} completes, shown by sacct -u ${user}`,
            requires,
            timeoutMs: USER_TIMEOUTS_MS.job,
            run: (deadline) => userJob(user, exec, clock, deadline),
        },
        {
            name: "slurm: REST API answers with a token",
            requires,
            timeoutMs: USER_TIMEOUTS_MS.rest,
            async run(deadline): Promise<Outcome> {
                // The token lives only in this shell: printed is the status line and whether `jobs` came back.
                const script =
                    `t=$(scontrol token username=${user} lifespan=120) || exit 3; t=\${t#SLURM_JWT=}; ` +
                    `curl -sS -o /tmp/verify-rest.json -w '%{http_code}\\n' -H "X-SLURM-USER-NAME: ${user}" ` +
                    `-H "X-SLURM-USER-TOKEN: $t" ${expect.restUrl}/slurm/${expect.restVersion}/jobs && ` +
                    `grep -c '"jobs"' /tmp/verify-rest.json; rm -f /tmp/verify-rest.json`;
                const result = await exec(["bash", "-c", script], deadline);
                const [status, jobs] = result.stdout.trim().split("\n");
                if (result.code === 3) return { ok: false, reason: `scontrol token failed: ${said(result)}` };
                if (status === "200" && Number(jobs) > 0)
                    return { ok: true, reason: `GET /slurm/${expect.restVersion}/jobs as ${user}: HTTP 200` };
                return {
                    ok: false,
                    reason: `GET /slurm/${expect.restVersion}/jobs: ${status ? `HTTP ${status}` : said(result)}`,
                };
            },
        },
    ];
}

async function userJob(
    user: string,
    exec: (argv: string[], deadline: number) => Promise<ExecResult>,
    clock: Clock,
    deadline: number,
): Promise<Outcome> {
    const submit = await exec(asUser(user, 'sbatch --parsable --time=1 --wrap "id -un"'), deadline);
    const jobId = submit.stdout.trim().split(";")[0];
    if (submit.code !== 0 || !/^\d+$/.test(jobId))
        return { ok: false, reason: `sbatch as ${user} failed: ${said(submit)}` };
    for (;;) {
        const result = await exec(
            [
                "sacct",
                "--noheader",
                "--allocations",
                "--parsable2",
                `--user=${user}`,
                `--jobs=${jobId}`,
                "--format=State,User",
            ],
            deadline,
        );
        const [state = "", owner = ""] = (result.stdout.trim().split("\n")[0] ?? "").split("|");
        if (state === "COMPLETED" && owner === user)
            return { ok: true, reason: `job ${jobId} of ${user} COMPLETED (sacct -u ${user})` };
        if (/^(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)/.test(state))
            return { ok: false, reason: `job ${jobId} of ${user} ended ${state}` };
        if (clock.now() + POLL_INTERVAL_MS >= deadline)
            return { ok: false, reason: `job ${jobId} of ${user} is ${state || "not in sacct -u yet"}` };
        await clock.sleep(POLL_INTERVAL_MS);
    }
}
