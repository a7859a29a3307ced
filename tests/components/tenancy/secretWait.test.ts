/**
 * The Secret wait: the polling loop with an injected clock; what no API server can show, against the fake kubectl
 * (tests/fakes/kubectl) first on PATH: the exact command line (only the uid or the one key is asked for, never the
 * whole Secret) and the private kubeconfig file's mode while kubectl runs. What the API server answers (a Secret
 * made later, the timeout, a key, refresh of a Secret made anew or gone, an unreachable cluster) runs against a
 * real one in secretWait.real.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    PollResult,
    SecretWaitInputs,
    secretWaitProvider,
    waitForSecret,
} from "../../../components/tenancy/secretWaitProvider";

const FAKES = path.resolve(__dirname, "..", "..", "fakes");

/** A clock that only moves when the loop sleeps: no real time passes. */
function fakeClock() {
    let now = 0;
    const sleeps: number[] = [];
    return {
        sleeps,
        now: () => now,
        sleep: async (ms: number) => {
            sleeps.push(ms);
            now += ms;
        },
    };
}

describe("waitForSecret (the loop)", () => {
    const target = { namespace: "vcluster-team-a", secretName: "vc-team-a" };

    it("returns after the poll that finds the Secret, with its uid, sleeping the interval between polls", async () => {
        const clock = fakeClock();
        let calls = 0;
        const poll = async (): Promise<PollResult> =>
            ++calls >= 3 ? { found: true, uid: "u-1" } : { found: false, reason: "NotFound" };
        assert.deepEqual(await waitForSecret({ ...target, pollIntervalMs: 500, timeoutSeconds: 60 }, poll, clock), {
            polls: 3,
            uid: "u-1",
        });
        assert.deepEqual(clock.sleeps, [500, 500]);
    });

    it("times out with a message naming the Secret, the time, the hint and the last answer", async () => {
        const clock = fakeClock();
        const poll = async (): Promise<PollResult> => ({ found: false, reason: 'secrets "vc-team-a" not found' });
        await assert.rejects(
            waitForSecret(
                { ...target, timeoutSeconds: 10, pollIntervalMs: 2000, hint: "Look at the pods." },
                poll,
                clock,
            ),
            (error: Error) => {
                assert.equal(
                    error.message,
                    "timed out after 10 s (6 polls) waiting for the Secret vcluster-team-a/vc-team-a. " +
                        "Look at the pods. " +
                        'Last answer: secrets "vc-team-a" not found',
                );
                return true;
            },
        );
        assert.equal(clock.sleeps.length, 5);
    });

    it("defaults to 300 s and 2 s between polls", async () => {
        const clock = fakeClock();
        const poll = async (): Promise<PollResult> => ({ found: false, reason: "no" });
        await assert.rejects(waitForSecret(target, poll, clock), /timed out after 300 s \(151 polls\)/);
        assert.ok(clock.sleeps.every((ms) => ms === 2000));
    });

    it("stops at once on a fatal answer (kubectl missing)", async () => {
        const clock = fakeClock();
        const poll = async (): Promise<PollResult> => ({
            found: false,
            fatal: true,
            reason: "the kubectl CLI was not found",
        });
        await assert.rejects(waitForSecret(target, poll, clock), /^Error: the kubectl CLI was not found$/);
        assert.deepEqual(clock.sleeps, []);
    });
});

describe("secretWaitProvider: what kubectl is handed (against the fake kubectl)", () => {
    let dir: string;
    const savedEnv = { ...process.env };
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "secret-wait-test-"));
        process.env.FAKE_KUBECTL_DIR = dir;
        process.env.PATH = `${FAKES}${path.delimiter}${savedEnv.PATH}`;
        delete process.env.FAKE_SECRET_AFTER;
        delete process.env.FAKE_SECRET_VALUE;
        delete process.env.FAKE_KUBECTL_MODE;
    });
    afterEach(() => {
        process.env = { ...savedEnv };
        fs.rmSync(dir, { recursive: true, force: true });
    });
    const calls = () =>
        fs
            .readFileSync(path.join(dir, "calls.log"), "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split("\t"));
    const inputs: SecretWaitInputs = {
        namespace: "vcluster-team-a",
        secretName: "vc-team-a",
        pollIntervalMs: 0,
        timeoutSeconds: 60,
    };

    it("asks only for the uid, in the Secret's namespace, each call bounded by --request-timeout", async () => {
        process.env.FAKE_SECRET_AFTER = "2";
        await secretWaitProvider.create!(inputs);
        const ask = [
            "--namespace",
            "vcluster-team-a",
            "get",
            "secret",
            "vc-team-a",
            "-o",
            "jsonpath={.metadata.uid}",
            "--request-timeout=10s",
        ];
        assert.deepEqual(calls(), [ask, ask]);
    });

    it("hands kubectl the kubeconfig in an owner-only file, removed afterwards, and the context", async () => {
        await secretWaitProvider.create!({
            ...inputs,
            kubeconfig: "apiVersion: v1\nkind: Config\n",
            context: "kind-lab",
        });
        const [call] = calls();
        assert.equal(call[0], "--kubeconfig");
        assert.deepEqual(call.slice(2, 4), ["--context", "kind-lab"]);
        assert.equal(
            fs.readFileSync(path.join(dir, "kubeconfig-seen"), "utf8"),
            "apiVersion: v1\nkind: Config\nmode=600\n",
        );
        assert.equal(fs.existsSync(call[1]), false, "the temporary kubeconfig must be removed");
    });

    it("reads readKey with a jsonpath of that key alone, never asking for the whole Secret", async () => {
        process.env.FAKE_SECRET_VALUE = "s3cr3t-Pa55";
        const result = await secretWaitProvider.create!({
            ...inputs,
            namespace: "argocd",
            secretName: "argocd-initial-admin-secret",
            readKey: "password",
        });
        assert.equal(result.outs?.value, "s3cr3t-Pa55");
        assert.deepEqual(calls()[1].slice(2, 7), [
            "get",
            "secret",
            "argocd-initial-admin-secret",
            "-o",
            "jsonpath={.data.password}",
        ]);
        assert.ok(calls().every((c) => !c.includes("yaml") && !c.includes("json")));
    });
});

describe("secretWaitProvider without a cluster", () => {
    const inputs: SecretWaitInputs = { namespace: "vcluster-team-a", secretName: "vc-team-a", pollIntervalMs: 0 };

    it("fails at once, saying how to install it, when kubectl is not there", async () => {
        const missing = path.join(os.tmpdir(), "no-such-dir-for-secret-wait", "no-kubectl");
        await assert.rejects(
            secretWaitProvider.create!({ ...inputs, kubectlPath: missing }),
            /the kubectl CLI was not found at .*no-kubectl; install it from https:\/\/kubernetes\.io/,
        );
    });

    it("replaces on another Secret or key, updates a new kubeconfig in place, ignores a new timeout", async () => {
        const olds = { namespace: "a", secretName: "b", secretId: "a/b", polls: 1 };
        assert.deepEqual(
            await secretWaitProvider.diff!("a/b", olds, { namespace: "a", secretName: "b", timeoutSeconds: 5 }),
            { changes: false, replaces: [] },
        );
        // A refresh reaches the Secret with the recorded kubeconfig: keep it current, without waiting again.
        assert.deepEqual(
            await secretWaitProvider.diff!("a/b", olds, { namespace: "a", secretName: "b", kubeconfig: "new" }),
            { changes: true, replaces: [] },
        );
        assert.deepEqual(await secretWaitProvider.diff!("a/b", olds, { namespace: "a", secretName: "c" }), {
            changes: true,
            replaces: ["secretName"],
        });
        assert.deepEqual(
            await secretWaitProvider.diff!("a/b", olds, { namespace: "a", secretName: "b", readKey: "k" }),
            { changes: true, replaces: ["readKey"] },
        );
    });
});
