/**
 * The Secret wait: the polling loop with an injected clock, and the dynamic provider's methods called directly
 * against the fake kubectl (tests/fakes/kubectl) first on PATH.
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
/** The uid the fake kubectl gives the Secret unless FAKE_SECRET_UID says otherwise. */
const DEFAULT_UID = "6f9619ff-8b86-4d01-b42d-00c04fc964ff";

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

describe("secretWaitProvider (against the fake kubectl)", () => {
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

    it("returns once the Secret appears on the third poll, with the id Secret.get takes and its uid", async () => {
        process.env.FAKE_SECRET_AFTER = "3";
        const result = await secretWaitProvider.create!(inputs);
        assert.equal(result.id, "vcluster-team-a/vc-team-a");
        assert.deepEqual(result.outs, {
            namespace: "vcluster-team-a",
            secretName: "vc-team-a",
            secretId: "vcluster-team-a/vc-team-a",
            secretUid: DEFAULT_UID,
            polls: 3,
        });
        assert.equal(calls().length, 3);
        assert.deepEqual(calls()[0], [
            "--namespace",
            "vcluster-team-a",
            "get",
            "secret",
            "vc-team-a",
            "-o",
            "jsonpath={.metadata.uid}",
            "--request-timeout=10s",
        ]);
    });

    it("fails with the timeout message when the Secret never appears", async () => {
        process.env.FAKE_SECRET_AFTER = "0";
        await assert.rejects(
            secretWaitProvider.create!({ ...inputs, timeoutSeconds: 0, hint: "vCluster team-a writes it." }),
            (error: Error) => {
                assert.equal(
                    error.message,
                    "timed out after 0 s (1 polls) waiting for the Secret vcluster-team-a/vc-team-a. " +
                        "vCluster team-a writes it. Last answer: " +
                        'Error from server (NotFound): secrets "vc-team-a" not found',
                );
                return true;
            },
        );
        assert.equal(calls().length, 1);
    });

    it("hands kubectl the kubeconfig in a private file, removed afterwards, and the context", async () => {
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

    it("passes a kubeconfig path as it is, and with neither lets kubectl find its own", async () => {
        await secretWaitProvider.create!({ ...inputs, kubeconfigPath: "/home/me/.kube/lab" });
        await secretWaitProvider.create!(inputs);
        assert.deepEqual(calls()[0].slice(0, 2), ["--kubeconfig", "/home/me/.kube/lab"]);
        assert.equal(calls()[1][0], "--namespace");
    });

    it("reads and decodes readKey once the Secret exists, never asking for the whole Secret", async () => {
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

    it("fails naming the key when the Secret has no such key", async () => {
        await assert.rejects(
            secretWaitProvider.create!({ ...inputs, readKey: "password" }),
            /the Secret vcluster-team-a\/vc-team-a has no key "password"/,
        );
    });

    it("fails at once, saying how to install it, when kubectl is not there", async () => {
        await assert.rejects(
            secretWaitProvider.create!({ ...inputs, kubectlPath: path.join(dir, "no-kubectl") }),
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

    it("deletes nothing (the Secret is not its own)", async () => {
        await secretWaitProvider.delete!("a/b", { namespace: "a", secretName: "b", secretId: "a/b", polls: 1 });
        assert.equal(fs.existsSync(path.join(dir, "calls.log")), false);
    });
});
