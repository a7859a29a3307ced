/**
 * verify's user checks with an in-memory transport that answers as ssh-keyscan, id, sbatch (through setpriv),
 * sacct and the REST script would, and a clock that only moves when a check sleeps.
 */
import assert from "node:assert/strict";
import { Clock, runChecks } from "../../verify/checks";
import { ExecResult, ExecTransport } from "../../verify/transport";
import { userChecks } from "../../verify/userChecks";
import { planFromStack } from "../../verify/plan";
import { parseStackConfig } from "../../config/schema";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG56HN0psLeP0Tr0xVmP7/TvKpcWbjym8uT7/M2AUFvx";
const expect = {
    user: "alice",
    hostKey: `${HOST_KEY} login`,
    sshPort: 2222,
    restUrl: "http://restapi:6820",
    restVersion: "v0.0.41",
};
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

function fakeClock(): Clock {
    let now = 1_000_000;
    return { now: () => now, sleep: async (ms) => void (now += ms) };
}

/** Answers by the command's words; `override` replaces the answer to a command whose argv contains its key. */
function transport(override: Record<string, ExecResult> = {}) {
    const calls: string[][] = [];
    const t: ExecTransport = {
        async exec(_target, argv) {
            calls.push([...argv]);
            const text = argv.join(" ");
            for (const [key, answer] of Object.entries(override)) if (text.includes(key)) return answer;
            if (argv[0] === "ssh-keyscan") return ok(`[127.0.0.1]:2222 ${HOST_KEY}\n`);
            if (argv[0] === "id") return ok("1001\n");
            if (text.includes("sbatch")) return ok("7\n");
            if (argv[0] === "sacct") return ok("COMPLETED|alice\n");
            if (text.includes("scontrol token")) return ok("200\n1\n");
            return { code: 127, stdout: "", stderr: "not found" };
        },
    };
    return { t, calls };
}

const run = async (override?: Record<string, ExecResult>) => {
    const { t, calls } = transport(override);
    return { report: await runChecks("test", userChecks(expect, t, fakeClock()), fakeClock()), calls };
};

describe("verify: the user checks", () => {
    it("pass against a healthy login pod, each saying what it saw", async () => {
        const { report, calls } = await run();
        assert.deepEqual(
            report.checks.map((c) => [c.name, c.ok, c.reason]),
            [
                ["slurm: SSH login as alice", true, "sshd has the stack's host key; alice is uid 1001"],
                [
                    "slurm: job as alice completes, shown by sacct -u alice",
                    true,
                    "job 7 of alice COMPLETED (sacct -u alice)",
                ],
                ["slurm: REST API answers with a token", true, "GET /slurm/v0.0.41/jobs as alice: HTTP 200"],
            ],
        );
        const submit = calls.find((c) => c.join(" ").includes("sbatch"))!;
        assert.match(submit[2], /setpriv --reuid=alice --regid="\$\(id -g alice\)" --init-groups/);
        assert.ok(calls.some((c) => c[0] === "sacct" && c.includes("--user=alice") && c.includes("--jobs=7")));
    });

    it("fail when sshd serves another host key, or none, or the user does not resolve", async () => {
        const other = await run({ "ssh-keyscan": ok("[127.0.0.1]:2222 ssh-ed25519 AAAAother\n") });
        assert.equal(other.report.checks[0].reason, "sshd answers with another host key than the stack's");
        const none = await run({ "ssh-keyscan": { code: 1, stdout: "", stderr: "connect refused" } });
        assert.equal(none.report.checks[0].reason, "sshd does not answer on port 2222: connect refused");
        const noUser = await run({ "id -u": { code: 1, stdout: "", stderr: "id: 'alice': no such user" } });
        assert.match(
            noUser.report.checks[0].reason,
            /alice does not resolve in the login pod: id: 'alice': no such user/,
        );
    });

    it("fail a job that ends FAILED or that sacct lists as another user's, and keep polling a pending one", async () => {
        assert.equal(
            (await run({ sacct: ok("FAILED|alice\n") })).report.checks[1].reason,
            "job 7 of alice ended FAILED",
        );
        const other = await run({ sacct: ok("COMPLETED|root\n") });
        assert.equal(other.report.checks[1].ok, false);
        assert.match(other.report.checks[1].reason, /is COMPLETED$/);
        const pending = await run({ sacct: ok("PENDING|alice\n") });
        assert.equal(pending.report.checks[1].reason, "job 7 of alice is PENDING");
        assert.ok(pending.calls.filter((c) => c[0] === "sacct").length > 2, "polled until the deadline");
    });

    it("fail the REST check on a refused token or no token, and never print the token", async () => {
        const refused = await run({ "scontrol token": ok("401\n0\n") });
        assert.equal(refused.report.checks[2].reason, "GET /slurm/v0.0.41/jobs: HTTP 401");
        const noToken = await run({ "scontrol token": { code: 3, stdout: "", stderr: "Invalid user" } });
        assert.equal(noToken.report.checks[2].reason, "scontrol token failed: Invalid user");
        const script = refused.calls.find((c) => c.join(" ").includes("scontrol token"))!.join(" ");
        assert.match(script, /-o \/tmp\/verify-rest\.json/, "the answer goes to a file, not to the report");
        assert.doesNotMatch(script, /echo "?\$t/, "the token is never echoed");
    });
});

describe("verify: which stacks get the user checks", () => {
    const settings = parseStackConfig({
        cluster: { type: "existing" },
        slurm: { image: "r.example/slurm:1", users: [{ name: "alice", uid: 1001 }] },
    });
    const plan = (outputs: Record<string, unknown>) => planFromStack(settings, outputs, () => "/dev/null").slurm;

    it("a static stack with users whose outputs have the host key: the first user, the host key after the host", () => {
        const knownHosts = `[127.0.0.1]:30084 ${HOST_KEY}`;
        assert.deepEqual(plan({ slurmInfo: { knownHosts } })?.users, {
            user: "alice",
            hostKey: HOST_KEY,
            sshPort: 2222,
            restUrl: "http://restapi:6820",
            restVersion: "v0.0.41",
        });
    });

    it("none for a stack brought up before this version (no knownHosts output), or without users", () => {
        assert.equal(plan({ slurmInfo: {} })?.users, undefined);
        const none = parseStackConfig({ cluster: { type: "existing" }, slurm: { image: "r.example/slurm:1" } });
        assert.equal(planFromStack(none, { slurmInfo: { knownHosts: "x y z" } }, () => "").slurm?.users, undefined);
    });
});
