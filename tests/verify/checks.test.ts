/**
 * The verify checks with an in-memory transport that answers like the Slurm commands would, and a clock that
 * only moves when a check sleeps.
 */
import assert from "node:assert/strict";
import {
    Check,
    Clock,
    POLL_INTERVAL_MS,
    apiCheck,
    argocdCheck,
    formatReport,
    nodesIdle,
    redactor,
    runChecks,
    slurmChecks,
} from "../../verify/checks";
import { CommandRunner, ExecResult, ExecTransport } from "../../verify/transport";

function fakeClock(): Clock & { sleeps: number[] } {
    let now = 1_000_000;
    const sleeps: number[] = [];
    return { sleeps, now: () => now, sleep: async (ms) => void (sleeps.push(ms), (now += ms)) };
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const fail = (stderr: string, code = 1): ExecResult => ({ code, stdout: "", stderr });

/** A transport whose answers come from `answer(argv, call number of that command)`; it records every call. */
function scripted(answer: (argv: readonly string[], nth: number) => ExecResult) {
    const calls: { target: string; argv: readonly string[]; timeoutMs: number }[] = [];
    const counts = new Map<string, number>();
    const transport: ExecTransport = {
        async exec(target, argv, options) {
            calls.push({ target, argv, timeoutMs: options.timeoutMs });
            const n = (counts.get(argv[0]) ?? 0) + 1;
            counts.set(argv[0], n);
            return answer(argv, n);
        },
    };
    return { transport, calls };
}

const healthy = (argv: readonly string[]): ExecResult => {
    switch (argv[0]) {
        case "sinfo":
            return ok("compute-0 idle\ncompute-1 idle\ncompute-0 idle\n");
        case "srun":
            return argv.includes("nvidia-smi")
                ? ok("GPU 0: NVIDIA A100 (UUID: GPU-1234)\n")
                : ok("compute-0\ncompute-1\n");
        case "sbatch":
            return ok("42\n");
        case "sacct":
            return ok("COMPLETED\n");
        default:
            return fail(`${argv[0]}: command not found`, 127);
    }
};

async function runAll(checks: Check[], clock: Clock) {
    return runChecks("test", checks, clock);
}

describe("slurmChecks", () => {
    it("passes on a healthy cluster, running every command on the target login", async () => {
        const clock = fakeClock();
        const { transport, calls } = scripted(healthy);
        const report = await runAll(slurmChecks({ nodes: 2, gpus: 1, accounting: true }, transport, clock), clock);
        assert.deepEqual(
            report.checks.map((c) => [c.name, c.ok, c.reason]),
            [
                ["slurm: compute nodes idle", true, "2 of 2 nodes idle"],
                ["slurm: srun -N2 hostname", true, "ran on compute-0, compute-1"],
                ["slurm: sbatch job completes, shown by sacct", true, "job 42 COMPLETED (sacct)"],
                ["slurm: srun --gres=gpu:1 nvidia-smi -L", true, "GPU 0: NVIDIA A100"],
            ],
        );
        assert.equal(report.ok, true);
        assert.ok(calls.every((c) => c.target === "login"));
        assert.deepEqual(
            calls.map((c) => c.argv.join(" ")),
            [
                "sinfo --noheader --Node --format=%N %T",
                "srun -N2 --time=1 hostname",
                "sbatch --parsable --time=1 --chdir=/tmp --output=/tmp/verify-%j.out --wrap hostname",
                "sacct --noheader --allocations --parsable2 --jobs=42 --format=State",
                "srun -N1 --gres=gpu:1 --time=1 nvidia-smi -L",
            ],
        );
        assert.ok(
            calls.every((c) => c.timeoutMs > 0 && c.timeoutMs <= 120_000),
            "each command is bounded by its check's time left",
        );
    });

    it("has no GPU check without GPUs, and asks scontrol instead of sacct without accounting", async () => {
        const clock = fakeClock();
        const { transport, calls } = scripted((argv) =>
            argv[0] === "scontrol" ? ok("JobId=42 JobName=wrap\n   JobState=COMPLETED Reason=None\n") : healthy(argv),
        );
        const report = await runAll(slurmChecks({ nodes: 2, gpus: 0, accounting: false }, transport, clock), clock);
        assert.deepEqual(
            report.checks.map((c) => c.name),
            ["slurm: compute nodes idle", "slurm: srun -N2 hostname", "slurm: sbatch job completes"],
        );
        assert.equal(report.checks[2].reason, "job 42 COMPLETED");
        assert.ok(calls.some((c) => c.argv.join(" ") === "scontrol show job 42"));
        assert.ok(!calls.some((c) => c.argv[0] === "sacct"));
    });

    it("waits for nodes that register late, polling every 2 s", async () => {
        const clock = fakeClock();
        const { transport } = scripted((argv, n) =>
            argv[0] === "sinfo" && n < 3 ? ok("compute-0 idle\ncompute-1 unknown*\n") : healthy(argv),
        );
        const [idle] = slurmChecks({ nodes: 2, gpus: 0, accounting: true }, transport, clock);
        const report = await runAll([idle], clock);
        assert.equal(report.checks[0].ok, true);
        assert.deepEqual(clock.sleeps, [POLL_INTERVAL_MS, POLL_INTERVAL_MS]);
    });

    it("fails, bounded, naming the nodes that never became idle", async () => {
        const clock = fakeClock();
        const { transport, calls } = scripted((argv) =>
            argv[0] === "sinfo" ? ok("compute-0 idle\ncompute-1 down*\n") : healthy(argv),
        );
        const [idle] = slurmChecks({ nodes: 2, gpus: 0, accounting: true }, transport, clock);
        const report = await runAll([idle], clock);
        assert.deepEqual(
            [report.checks[0].ok, report.checks[0].reason],
            [false, "1 of 2 nodes idle; not idle: compute-1 down*"],
        );
        assert.equal(calls.length, 60, "120 s of polls, 2 s apart");
        assert.equal(report.checks[0].seconds, 118);
    });

    it("fails when srun reaches fewer hosts than nodes, or fails", async () => {
        const clock = fakeClock();
        const one = scripted((argv) => (argv[0] === "srun" ? ok("compute-0\ncompute-0\n") : healthy(argv)));
        const [, srun] = slurmChecks({ nodes: 2, gpus: 0, accounting: true }, one.transport, clock);
        assert.deepEqual(await srun.run(clock.now() + 60_000), {
            ok: false,
            reason: "expected 2 distinct hosts, got 1: compute-0",
        });
        const broken = scripted((argv) =>
            argv[0] === "srun"
                ? fail("srun: error: Unable to allocate resources: Invalid node name specified")
                : healthy(argv),
        );
        const [, srun2] = slurmChecks({ nodes: 2, gpus: 0, accounting: true }, broken.transport, clock);
        assert.deepEqual(await srun2.run(clock.now() + 60_000), {
            ok: false,
            reason: "srun failed: srun: error: Unable to allocate resources: Invalid node name specified",
        });
    });

    it("reports a job that failed at once, and one sacct never lists", async () => {
        const clock = fakeClock();
        const failed = scripted((argv) => (argv[0] === "sacct" ? ok("FAILED\n") : healthy(argv)));
        const batch = slurmChecks({ nodes: 2, gpus: 0, accounting: true }, failed.transport, clock)[2];
        assert.deepEqual(await batch.run(clock.now() + 120_000), { ok: false, reason: "job 42 ended FAILED" });
        assert.equal(failed.calls.filter((c) => c.argv[0] === "sacct").length, 1);
        const unlisted = scripted((argv) => (argv[0] === "sacct" ? ok("") : healthy(argv)));
        const batch2 = slurmChecks({ nodes: 2, gpus: 0, accounting: true }, unlisted.transport, clock)[2];
        assert.deepEqual(await batch2.run(clock.now() + 10_000), { ok: false, reason: "job 42 is not listed yet" });
        const refused = scripted((argv) =>
            argv[0] === "sbatch"
                ? fail("sbatch: error: Batch job submission failed: Invalid partition name specified")
                : healthy(argv),
        );
        const batch3 = slurmChecks({ nodes: 2, gpus: 0, accounting: true }, refused.transport, clock)[2];
        assert.match(
            (await batch3.run(clock.now() + 10_000)).reason,
            /^sbatch failed: sbatch: error: Batch job submission failed/,
        );
    });

    it("fails the GPU check when nvidia-smi lists no GPU", async () => {
        const clock = fakeClock();
        const { transport } = scripted((argv) =>
            argv.includes("nvidia-smi") ? ok("No devices found.\n") : healthy(argv),
        );
        const gpu = slurmChecks({ nodes: 1, gpus: 1, accounting: true }, transport, clock)[3];
        assert.deepEqual(await gpu.run(clock.now() + 60_000), { ok: false, reason: "nvidia-smi -L listed no GPU" });
    });
});

describe("nodesIdle", () => {
    it("counts each node once, across partitions", () => {
        assert.deepEqual(nodesIdle("a idle\nb idle\na idle\n", 2), { ok: true, reason: "2 of 2 nodes idle" });
    });
    it("fails on a missing node, or a node in another state", () => {
        assert.deepEqual(nodesIdle("a idle\n", 2), { ok: false, reason: "expected 2 nodes, sinfo lists 1: a" });
        assert.deepEqual(nodesIdle("", 1), { ok: false, reason: "expected 1 nodes, sinfo lists 0: none" });
        assert.deepEqual(nodesIdle("a idle\nb mixed\n", 2), {
            ok: false,
            reason: "1 of 2 nodes idle; not idle: b mixed",
        });
    });
});

describe("apiCheck and argocdCheck", () => {
    const runner = (result: ExecResult, seen: (readonly string[])[] = []): CommandRunner => ({
        async run(argv) {
            seen.push(argv);
            return result;
        },
    });

    it("asks /readyz with the kubeconfig and context given", async () => {
        const seen: (readonly string[])[] = [];
        const check = apiCheck("cluster: API answers", runner(ok("ok"), seen), {
            kubeconfigPath: "/tmp/k",
            context: "kind-lab",
        });
        assert.deepEqual(await check.run(0), { ok: true, reason: "/readyz answered ok" });
        assert.deepEqual(seen[0], [
            "kubectl",
            "--kubeconfig",
            "/tmp/k",
            "--context",
            "kind-lab",
            "get",
            "--raw",
            "/readyz",
            "--request-timeout=15s",
        ]);
    });

    it("fails with kubectl's last line", async () => {
        const check = apiCheck(
            "x",
            runner(fail("E1 memcache.go\nThe connection to the server 127.0.0.1:6443 was refused")),
            {},
        );
        assert.deepEqual(await check.run(0), {
            ok: false,
            reason: "The connection to the server 127.0.0.1:6443 was refused",
        });
    });

    it("passes Argo CD with a ready replica, fails without", async () => {
        assert.equal((await argocdCheck("a", runner(ok("1")), {}, "t").run(0)).ok, true);
        assert.deepEqual(await argocdCheck("a", runner(ok("")), {}, "t").run(0), {
            ok: false,
            reason: "argocd-server has no ready replica",
        });
        assert.deepEqual(
            await argocdCheck(
                "a",
                runner(fail('Error from server (NotFound): deployments.apps "argocd-server" not found')),
                {},
                "t",
            ).run(0),
            {
                ok: false,
                reason: 'Error from server (NotFound): deployments.apps "argocd-server" not found',
            },
        );
    });
});

describe("runChecks and the report", () => {
    const check = (name: string, outcome: { ok: boolean; reason: string }, requires?: string): Check => ({
        name,
        requires,
        timeoutMs: 1000,
        run: async () => outcome,
    });

    it("is ok only when every check passed, and skips checks whose prerequisite failed", async () => {
        let ran = false;
        const report = await runChecks("dev", [
            check("api", { ok: false, reason: "connection refused" }),
            {
                ...check("slurm", { ok: true, reason: "" }, "api"),
                run: async () => ((ran = true), { ok: true, reason: "" }),
            },
        ]);
        assert.equal(report.ok, false);
        assert.equal(ran, false);
        assert.deepEqual(report.checks[1], { name: "slurm", ok: false, reason: 'not run: "api" failed', seconds: 0 });
        assert.equal((await runChecks("dev", [check("a", { ok: true, reason: "fine" })])).ok, true);
        assert.equal((await runChecks("dev", [])).ok, false, "an empty report proves nothing");
    });

    it("stops a check at its time limit", async () => {
        const hung: Check = { name: "hung", timeoutMs: 5, run: () => new Promise(() => undefined) };
        const report = await runChecks("dev", [hung]);
        assert.deepEqual([report.checks[0].ok, report.checks[0].reason], [false, "no answer within 0.005 s"]);
    });

    it("turns a thrown error into a failure, and keeps one line of each reason", async () => {
        const report = await runChecks("dev", [
            { name: "boom", timeoutMs: 1000, run: async () => Promise.reject(new Error("first\nsecond")) },
            check("long", { ok: false, reason: "x".repeat(400) }),
        ]);
        assert.equal(report.checks[0].reason, "second");
        assert.equal(report.checks[1].reason.length, 300);
    });

    it("prints one PASS/FAIL line per check and a summary", async () => {
        const report = await runChecks("dev", [
            check("cluster: API answers", { ok: true, reason: "/readyz answered ok" }),
            check("b", { ok: false, reason: "no" }),
        ]);
        assert.equal(
            formatReport(report),
            [
                "PASS  cluster: API answers    0.0 s  /readyz answered ok",
                "FAIL  b                       0.0 s  no",
                "1 of 2 checks failed",
                "",
            ].join("\n"),
        );
    });

    it("hides kubeconfig credentials from every reason", async () => {
        const kubeconfig = "apiVersion: v1\nusers: [{name: u, user: {token: abcdefghijklmnop0123456789}}]\n";
        const report = await runChecks(
            "dev",
            [check("leak", { ok: false, reason: "error: bad token abcdefghijklmnop0123456789 for u" })],
            undefined,
            redactor([kubeconfig]),
        );
        assert.equal(report.checks[0].reason, "error: bad token [redacted] for u");
    });
});
