/**
 * The verify checks: each one bounded in time, reporting one pass/fail line with a one-line reason. They run
 * commands only through the interfaces of `./transport`, so they do not know whether a pod or a container answers.
 */
import { CommandRunner, ExecResult, ExecTransport, KubectlAccess, kubectlArgv } from "./transport";

/** A clock the checks poll with; injected so tests need no real time. */
export interface Clock {
    /** Milliseconds since some fixed point. */
    now(): number;
    /** Resolves after `ms` milliseconds. */
    sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What a check found. */
export interface Outcome {
    /** True when the check passed. */
    readonly ok: boolean;
    /** One line: what was seen (on pass) or what is wrong (on fail). */
    readonly reason: string;
}

/** One check. */
export interface Check {
    /** Name shown in the report, e.g. `slurm: compute nodes idle`. */
    readonly name: string;
    /** Longest time the check may take, in milliseconds. */
    readonly timeoutMs: number;
    /** Name of a check that must pass first; when it failed this one is reported failed without running. */
    readonly requires?: string;
    /** Runs the check; `deadline` is the clock time it must be done by. */
    run(deadline: number): Promise<Outcome>;
}

/** One line of the report. */
export interface CheckResult extends Outcome {
    /** The check's name. */
    readonly name: string;
    /** How long it took, in seconds (one decimal). */
    readonly seconds: number;
}

/** The whole report; `ok` only when every check passed. */
export interface Report {
    /** The stack verified (or the harness's name). */
    readonly stack: string;
    /** True when every check passed. */
    readonly ok: boolean;
    /** One entry per check, in order. */
    readonly checks: readonly CheckResult[];
}

/** Time limits of the checks, in milliseconds. */
export const TIMEOUTS_MS = {
    api: 20_000,
    nodesIdle: 120_000,
    srun: 60_000,
    batch: 120_000,
    gpu: 60_000,
    argocd: 20_000,
} as const;
/** Pause between two polls of a check that waits for a state, in milliseconds. */
export const POLL_INTERVAL_MS = 2000;

/** Runs `checks` in order, each within its own time limit; resolves to the report. Never rejects. */
export async function runChecks(
    stack: string,
    checks: readonly Check[],
    clock: Clock = systemClock,
    redact: (text: string) => string = (t) => t,
): Promise<Report> {
    const results: CheckResult[] = [];
    for (const check of checks) {
        const started = clock.now();
        const prerequisite = check.requires ? results.find((r) => r.name === check.requires) : undefined;
        let outcome: Outcome;
        if (prerequisite && !prerequisite.ok) {
            outcome = { ok: false, reason: `not run: "${check.requires}" failed` };
        } else {
            outcome = await bounded(check, started + check.timeoutMs);
        }
        const seconds = Math.round((clock.now() - started) / 100) / 10;
        results.push({ name: check.name, ok: outcome.ok, reason: oneLine(redact(outcome.reason)), seconds });
    }
    return { stack, ok: results.length > 0 && results.every((r) => r.ok), checks: results };
}

async function bounded(check: Check, deadline: number): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<Outcome>((resolve) => {
        timer = setTimeout(
            () => resolve({ ok: false, reason: `no answer within ${check.timeoutMs / 1000} s` }),
            check.timeoutMs,
        );
    });
    try {
        return await Promise.race([
            check.run(deadline).catch((error: Error) => ({ ok: false, reason: error.message })),
            limit,
        ]);
    } finally {
        clearTimeout(timer);
    }
}

/** At most 300 characters of the last non-empty line of `text`. */
export function oneLine(text: string): string {
    const line =
        text
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean)
            .pop() ?? "";
    return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** The report as text: one `PASS`/`FAIL` line per check, then a summary line. */
export function formatReport(report: Report): string {
    const width = Math.max(0, ...report.checks.map((c) => c.name.length));
    const lines = report.checks.map(
        (c) => `${c.ok ? "PASS" : "FAIL"}  ${c.name.padEnd(width)}  ${c.seconds.toFixed(1).padStart(5)} s  ${c.reason}`,
    );
    const failed = report.checks.filter((c) => !c.ok).length;
    lines.push(
        failed === 0
            ? `all ${report.checks.length} checks passed`
            : `${failed} of ${report.checks.length} checks failed`,
    );
    return `${lines.join("\n")}\n`;
}

/** A function that hides every secret of `secrets` (kubeconfig contents and the credentials inside them). */
export function redactor(secrets: readonly string[]): (text: string) => string {
    // Whole files, and every long token in them: keys, certificates and bearer tokens are all long words.
    const words = new Set<string>();
    for (const secret of secrets) {
        if (secret.length >= 8) words.add(secret);
        for (const word of secret.match(/[A-Za-z0-9+/=_.-]{16,}/g) ?? []) words.add(word);
    }
    const sorted = [...words].sort((a, b) => b.length - a.length);
    return (text) => sorted.reduce((out, word) => out.split(word).join("[redacted]"), text);
}

const list = (names: string[]): string => [...names].sort().join(", ");

const said = (result: ExecResult): string =>
    oneLine(result.stderr) || oneLine(result.stdout) || `exit code ${result.code} and no output`;

/** `cluster: API answers` style check: `kubectl get --raw /readyz` must answer `ok`. */
export function apiCheck(name: string, runner: CommandRunner, access: KubectlAccess): Check {
    return {
        name,
        timeoutMs: TIMEOUTS_MS.api,
        async run() {
            const limitSeconds = TIMEOUTS_MS.api / 1000 - 5;
            const result = await runner.run(
                kubectlArgv(access, ["get", "--raw", "/readyz", `--request-timeout=${limitSeconds}s`]),
                {
                    timeoutMs: TIMEOUTS_MS.api,
                },
            );
            if (result.code === 0 && result.stdout.trim() === "ok") return { ok: true, reason: "/readyz answered ok" };
            return { ok: false, reason: said(result) };
        },
    };
}

/** Argo CD's server Deployment inside a tenant has a ready replica. */
export function argocdCheck(name: string, runner: CommandRunner, access: KubectlAccess, requires: string): Check {
    return {
        name,
        requires,
        timeoutMs: TIMEOUTS_MS.argocd,
        async run() {
            const args = [
                "--namespace",
                "argocd",
                "get",
                "deployment",
                "argocd-server",
                "-o",
                "jsonpath={.status.readyReplicas}",
                "--request-timeout=15s",
            ];
            const result = await runner.run(kubectlArgv(access, args), { timeoutMs: TIMEOUTS_MS.argocd });
            if (result.code !== 0) return { ok: false, reason: said(result) };
            const ready = Number(result.stdout.trim() || "0");
            return ready >= 1
                ? { ok: true, reason: `argocd-server has ${ready} ready replica(s)` }
                : { ok: false, reason: "argocd-server has no ready replica" };
        },
    };
}

/** What the Slurm checks expect. */
export interface SlurmExpectations {
    /** Compute nodes that must be idle and run `srun -N<nodes>`. */
    readonly nodes: number;
    /** GPUs per node; above 0 adds the GPU check. */
    readonly gpus: number;
    /** Accounting runs (slurmdbd): a finished job must show in `sacct`; otherwise `scontrol show job` is asked. */
    readonly accounting: boolean;
}

/** The target every Slurm command runs on. */
export const SLURM_TARGET = "login";

/** Runs a command on the target `login`, bounded by what is left until `deadline` (at least 1 s). */
export function loginExec(transport: ExecTransport, clock: Clock) {
    return (argv: string[], deadline: number) =>
        transport.exec(SLURM_TARGET, argv, { timeoutMs: Math.max(1000, deadline - clock.now()) });
}

/**
 * The Slurm checks, run on the target `login` through `transport`: every compute node idle, `srun` on all nodes,
 * an `sbatch` job that completes (and shows in `sacct` with accounting), and with GPUs `nvidia-smi -L` in a job.
 */
export function slurmChecks(
    expect: SlurmExpectations,
    transport: ExecTransport,
    clock: Clock = systemClock,
    requires?: string,
): Check[] {
    const exec = loginExec(transport, clock);
    const checks: Check[] = [
        {
            name: "slurm: compute nodes idle",
            requires,
            timeoutMs: TIMEOUTS_MS.nodesIdle,
            // Nodes register a few seconds after their pods start: poll until all are idle or the time is up.
            run: (deadline) =>
                pollUntil(clock, deadline, async () => {
                    const result = await exec(["sinfo", "--noheader", "--Node", "--format=%N %T"], deadline);
                    if (result.code !== 0) return { ok: false, reason: `sinfo failed: ${said(result)}` };
                    return nodesIdle(result.stdout, expect.nodes);
                }),
        },
        {
            name: `slurm: srun -N${expect.nodes} hostname`,
            requires,
            timeoutMs: TIMEOUTS_MS.srun,
            async run(deadline) {
                const result = await exec(["srun", `-N${expect.nodes}`, "--time=1", "hostname"], deadline);
                if (result.code !== 0) return { ok: false, reason: `srun failed: ${said(result)}` };
                const hosts = new Set(
                    result.stdout
                        .split("\n")
                        .map((l) => l.trim())
                        .filter(Boolean),
                );
                return hosts.size === expect.nodes
                    ? { ok: true, reason: `ran on ${list([...hosts])}` }
                    : {
                          ok: false,
                          reason: `expected ${expect.nodes} distinct hosts, got ${hosts.size}: ${list([...hosts])}`,
                      };
            },
        },
        {
            name: expect.accounting ? "slurm: sbatch job completes, shown by sacct" : "slurm: sbatch job completes",
            requires,
            timeoutMs: TIMEOUTS_MS.batch,
            run: (deadline) => batchJob(expect.accounting, exec, clock, deadline),
        },
    ];
    if (expect.gpus > 0) {
        checks.push({
            name: "slurm: srun --gres=gpu:1 nvidia-smi -L",
            requires,
            timeoutMs: TIMEOUTS_MS.gpu,
            async run(deadline) {
                const result = await exec(["srun", "-N1", "--gres=gpu:1", "--time=1", "nvidia-smi", "-L"], deadline);
                const gpu = result.stdout.split("\n").find((l) => /^GPU \d+: /.test(l));
                if (result.code === 0 && gpu) return { ok: true, reason: gpu.replace(/\s*\(UUID: [^)]*\)/, "") };
                return {
                    ok: false,
                    reason: result.code === 0 ? "nvidia-smi -L listed no GPU" : `srun failed: ${said(result)}`,
                };
            },
        });
    }
    return checks;
}

/** Judges `sinfo --Node --format="%N %T"` output: `expected` distinct nodes, every one `idle`. Pure. */
export function nodesIdle(sinfo: string, expected: number): Outcome {
    const states = new Map<string, string>();
    for (const line of sinfo.split("\n")) {
        const [node, state] = line.trim().split(/\s+/);
        if (node && state) states.set(node, state);
    }
    const busy = [...states].filter(([, state]) => state !== "idle").map(([node, state]) => `${node} ${state}`);
    if (states.size !== expected)
        return {
            ok: false,
            reason: `expected ${expected} nodes, sinfo lists ${states.size}: ${list([...states.keys()]) || "none"}`,
        };
    if (busy.length > 0)
        return {
            ok: false,
            reason: `${expected - busy.length} of ${expected} nodes idle; not idle: ${busy.join(", ")}`,
        };
    return { ok: true, reason: `${expected} of ${expected} nodes idle` };
}

const JOB_FAILED = /^(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)/;

async function batchJob(
    accounting: boolean,
    exec: (argv: string[], deadline: number) => Promise<ExecResult>,
    clock: Clock,
    deadline: number,
): Promise<Outcome> {
    // The job's output goes to /tmp on its node: the directory the command starts in may not be writable there.
    const submit = await exec(
        ["sbatch", "--parsable", "--time=1", "--chdir=/tmp", "--output=/tmp/verify-%j.out", "--wrap", "hostname"],
        deadline,
    );
    const jobId = submit.stdout.trim().split(";")[0];
    if (submit.code !== 0 || !/^\d+$/.test(jobId)) return { ok: false, reason: `sbatch failed: ${said(submit)}` };
    const query = accounting
        ? ["sacct", "--noheader", "--allocations", "--parsable2", `--jobs=${jobId}`, "--format=State"]
        : ["scontrol", "show", "job", jobId];
    return pollUntil(clock, deadline, async () => {
        const result = await exec(query, deadline);
        const state = accounting
            ? (result.stdout.trim().split("\n")[0]?.trim() ?? "")
            : (/JobState=(\S+)/.exec(result.stdout)?.[1] ?? "");
        if (state === "COMPLETED") return { ok: true, reason: `job ${jobId} COMPLETED${accounting ? " (sacct)" : ""}` };
        if (JOB_FAILED.test(state)) return { ok: false, final: true, reason: `job ${jobId} ended ${state}` };
        return {
            ok: false,
            reason: `job ${jobId} is ${state || "not listed yet"}${result.code !== 0 ? `: ${said(result)}` : ""}`,
        };
    });
}

/** Calls `attempt` until it passes, says it is final, or the deadline is near; resolves to the last outcome. */
async function pollUntil(
    clock: Clock,
    deadline: number,
    attempt: () => Promise<Outcome & { final?: boolean }>,
): Promise<Outcome> {
    for (;;) {
        const outcome = await attempt();
        if (outcome.ok || outcome.final || clock.now() + POLL_INTERVAL_MS >= deadline)
            return { ok: outcome.ok, reason: outcome.reason };
        await clock.sleep(POLL_INTERVAL_MS);
    }
}
