/**
 * The tenant Secret wait against a real API server (testbed/controlplane) and the real kubectl of the toolchain:
 * the dynamic provider's methods called directly, as Pulumi's dynamic provider host calls them. The Secrets are
 * made and deleted by this test with kubectl as the control plane's components' user, so the user of the wait's
 * kubeconfig (USER) has only the wait's requests in the audit log: "a poll found no Secret" is an audit entry, and
 * the test creates the Secret once it is there, while the wait goes on polling.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    SecretWaitInputs,
    SecretWaitOutputs,
    secretWaitProvider as provider,
} from "../../../components/tenancy/secretWaitProvider";
import {
    ControlPlane,
    freePort,
    startControlPlane,
    stopControlPlane,
    userAuditEntries,
    userRequests,
} from "../../../testbed/controlplane/controlplane";
import { serializedCopy } from "../gpu/serialized";

/** Resolves once `condition` holds, checking every 100 ms; rejects naming `what` after `timeoutMs`. */
async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** A create's result, its outputs there (a dynamic provider's create may leave them out; this one never does). */
async function withOutputs(
    result: Promise<{ id: string; outs?: SecretWaitOutputs }>,
): Promise<{ id: string; outs: SecretWaitOutputs }> {
    const { id, outs } = await result;
    assert.ok(outs, "create returned outputs");
    return { id, outs };
}

describe("secretWaitProvider (real kubectl, real API server)", function () {
    this.timeout(300_000);
    let cp: ControlPlane;
    let tmp: string;
    /** kubectl as the components' admin: the test's own requests, apart from the wait's in the audit log. */
    const admin = (...args: string[]): string =>
        execFileSync("kubectl", ["--kubeconfig", path.join(cp.dir, "components.kubeconfig"), ...args], {
            encoding: "utf8",
        });
    /** Creates Secret `name` in `namespace` with these keys; resolves to its uid. */
    const createSecret = (namespace: string, name: string, data: Record<string, string> = {}): string => {
        const literals = Object.entries(data).map(([k, v]) => `--from-literal=${k}=${v}`);
        admin("-n", namespace, "create", "secret", "generic", name, ...literals);
        return admin("-n", namespace, "get", "secret", name, "-o", "jsonpath={.metadata.uid}");
    };
    const deleteSecret = (namespace: string, name: string): void => {
        admin("-n", namespace, "delete", "secret", name, "--wait=true");
    };
    /** The wait's answered requests for Secret `name` with this HTTP status, from the audit log. */
    const answered = (verb: string, name: string, code: number): number =>
        userAuditEntries(cp).filter(
            (e) =>
                e.stage === "ResponseComplete" &&
                e.verb === verb &&
                e.objectRef?.resource === "secrets" &&
                e.objectRef?.name === name &&
                e.responseStatus?.code === code,
        ).length;

    before(async () => {
        cp = await startControlPlane({ nodes: 1 });
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "secret-wait-real-"));
        for (const namespace of ["vcluster-team-a", "argocd"]) admin("create", "namespace", namespace);
    });
    after(async () => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        if (cp) await stopControlPlane(cp.dir);
    });
    afterEach(() => {
        for (const namespace of ["vcluster-team-a", "argocd"]) admin("-n", namespace, "delete", "secrets", "--all");
    });

    /** The vCluster kubeconfig wait, with the host cluster's kubeconfig passed as contents (as the stack does). */
    const kubeconfigWait = (source = "ns-uid-1"): SecretWaitInputs => ({
        namespace: "vcluster-team-a",
        secretName: "vc-team-a",
        kubeconfig: fs.readFileSync(cp.kubeconfig, "utf8"),
        pollIntervalMs: 200,
        timeoutSeconds: 120,
        source,
    });
    /** The Argo CD initial password wait. */
    const passwordWait = (source = "vc-uid-1"): SecretWaitInputs => ({
        namespace: "argocd",
        secretName: "argocd-initial-admin-secret",
        kubeconfigPath: cp.kubeconfig,
        readKey: "password",
        pollIntervalMs: 200,
        timeoutSeconds: 120,
        source,
    });

    it("waits for a Secret made while it polls, returning its id and real uid, leaving no kubeconfig file", async () => {
        const savedTmp = process.env.TMPDIR;
        const privateTmp = fs.mkdtempSync(path.join(tmp, "tmpdir-"));
        // The provider's private kubeconfig files go here for this call (os.tmpdir() reads TMPDIR each time).
        process.env.TMPDIR = privateTmp;
        const notFoundBefore = answered("get", "vc-team-a", 404);
        const waiting = withOutputs(provider.create!(kubeconfigWait()));
        // Settled either way, so a failure below leaves no unhandled rejection while the wait polls on.
        waiting.catch(() => undefined);
        let uid: string;
        try {
            await until("a poll of the wait found no Secret", () => answered("get", "vc-team-a", 404) > notFoundBefore);
            uid = createSecret("vcluster-team-a", "vc-team-a", { config: "apiVersion: v1" });
        } finally {
            // Restored once the wait found the Secret (or failed): it writes its files in TMPDIR until then.
            await waiting.then(
                () => undefined,
                () => undefined,
            );
            if (savedTmp === undefined) delete process.env.TMPDIR;
            else process.env.TMPDIR = savedTmp;
        }
        const result = await waiting;
        assert.equal(result.id, "vcluster-team-a/vc-team-a");
        assert.equal(result.outs.secretId, "vcluster-team-a/vc-team-a");
        assert.equal(result.outs.secretUid, uid);
        assert.ok(result.outs.polls >= 2, `found on poll ${result.outs.polls}, after a poll that found nothing`);
        assert.equal(answered("get", "vc-team-a", 200), 1, "one poll found it; no key was read");
        assert.deepEqual(fs.readdirSync(privateTmp), [], "the private kubeconfig files are removed");
    });

    it("times out with its message, naming the Secret, the hint and the API server's NotFound answer", async () => {
        const before = answered("get", "vc-team-a", 404);
        let message = "";
        await assert.rejects(
            provider.create!({ ...kubeconfigWait(), timeoutSeconds: 1, hint: "vCluster team-a writes it." }),
            (error: Error) => {
                message = error.message;
                return true;
            },
        );
        assert.match(
            message,
            /^timed out after 1 s \((\d+) polls\) waiting for the Secret vcluster-team-a\/vc-team-a\. vCluster team-a writes it\. Last answer: Error from server \(NotFound\): secrets "vc-team-a" not found$/,
        );
        const polls = Number(/\((\d+) polls\)/.exec(message)![1]);
        assert.ok(polls >= 2, `${polls} polls in 1 s at 200 ms`);
        // The audit log's last entry may trail kubectl's answer by a moment.
        await until(`the audit log shows ${polls} polls`, () => answered("get", "vc-team-a", 404) - before >= polls);
        assert.equal(answered("get", "vc-team-a", 404) - before, polls, "each poll asked the API server");
    });

    it("reads and decodes readKey of an existing Secret, found on the first poll", async () => {
        const uid = createSecret("argocd", "argocd-initial-admin-secret", { password: "s3cr3t-Pa55 with spaces" });
        const result = await withOutputs(provider.create!(passwordWait()));
        assert.equal(result.outs.value, "s3cr3t-Pa55 with spaces");
        assert.equal(result.outs.secretUid, uid);
        assert.equal(result.outs.polls, 1);
        assert.equal(result.outs.readKey, "password");
        assert.equal(result.outs.kubeconfigPath, cp.kubeconfig, "kept for a refresh");
    });

    it("fails naming the key when the Secret has no such key", async () => {
        createSecret("argocd", "argocd-initial-admin-secret", { other: "x" });
        await assert.rejects(
            provider.create!(passwordWait()),
            /^Error: the Secret argocd\/argocd-initial-admin-secret has no key "password"$/,
        );
    });

    it("with neither kubeconfig nor kubeconfigPath, uses kubectl's own lookup ($KUBECONFIG) and the context", async () => {
        createSecret("vcluster-team-a", "vc-team-a");
        const saved = process.env.KUBECONFIG;
        process.env.KUBECONFIG = cp.kubeconfig;
        try {
            const { kubeconfig: _k, ...rest } = kubeconfigWait();
            const result = await withOutputs(provider.create!({ ...rest, context: "controlplane" }));
            assert.equal(result.outs.polls, 1);
            // What a refresh needs to find the Secret again is on record: here the context, and no kubeconfig.
            assert.equal(result.outs.context, "controlplane");
            assert.equal(result.outs.kubeconfig, undefined);
            await assert.rejects(
                provider.create!({ ...rest, context: "no-such-context", timeoutSeconds: 0 }),
                /Last answer: error: context "no-such-context" does not exist/,
            );
        } finally {
            if (saved === undefined) delete process.env.KUBECONFIG;
            else process.env.KUBECONFIG = saved;
        }
    });

    describe("read (refresh)", () => {
        it("keeps a Secret of the same uid as it is, without reading the key again", async () => {
            createSecret("argocd", "argocd-initial-admin-secret", { password: "p-1" });
            const created = await withOutputs(provider.create!(passwordWait()));
            const reads = answered("get", "argocd-initial-admin-secret", 200);
            assert.deepEqual(await provider.read!(created.id, created.outs), { id: created.id, props: created.outs });
            assert.equal(answered("get", "argocd-initial-admin-secret", 200) - reads, 1, "one look at the uid");
        });

        it("records the new uid and reads the key again when the Secret was made anew", async () => {
            const first = createSecret("argocd", "argocd-initial-admin-secret", { password: "p-1" });
            const created = await withOutputs(provider.create!(passwordWait()));
            assert.equal(created.outs.value, "p-1");
            deleteSecret("argocd", "argocd-initial-admin-secret");
            const second = createSecret("argocd", "argocd-initial-admin-secret", { password: "p-2" });
            assert.notEqual(second, first);
            const read = await provider.read!(created.id, created.outs);
            assert.equal(read.id, created.id);
            assert.deepEqual(read.props, { ...created.outs, secretUid: second, value: "p-2" });
        });

        it("records the new uid of a wait without a key", async () => {
            createSecret("vcluster-team-a", "vc-team-a");
            const created = await withOutputs(provider.create!(kubeconfigWait()));
            deleteSecret("vcluster-team-a", "vc-team-a");
            const second = createSecret("vcluster-team-a", "vc-team-a");
            assert.deepEqual(await provider.read!(created.id, created.outs), {
                id: created.id,
                props: { ...created.outs, secretUid: second },
            });
        });

        it("drops a wait whose Secret is gone, so the next up waits again; keeps a password already read", async () => {
            createSecret("vcluster-team-a", "vc-team-a");
            createSecret("argocd", "argocd-initial-admin-secret", { password: "p-1" });
            const kubeconfig = await withOutputs(provider.create!(kubeconfigWait()));
            const password = await withOutputs(provider.create!(passwordWait()));
            deleteSecret("vcluster-team-a", "vc-team-a");
            // Argo CD advises deleting argocd-initial-admin-secret once the password is changed.
            deleteSecret("argocd", "argocd-initial-admin-secret");
            assert.deepEqual(await provider.read!(kubeconfig.id, kubeconfig.outs), {});
            assert.deepEqual(await provider.read!(password.id, password.outs), {
                id: password.id,
                props: password.outs,
            });
        });

        it("keeps everything when the cluster does not answer (a closed port): a refresh never drops what may exist", async () => {
            createSecret("vcluster-team-a", "vc-team-a");
            const created = await withOutputs(provider.create!(kubeconfigWait()));
            const port = await freePort(); // nothing listens on it
            const unreachable = {
                ...created.outs,
                kubeconfig: created.outs.kubeconfig!.replace(cp.server, `https://127.0.0.1:${port}`),
            };
            assert.notEqual(unreachable.kubeconfig, created.outs.kubeconfig);
            // The Secret is gone too: only the cluster's silence keeps the wait.
            deleteSecret("vcluster-team-a", "vc-team-a");
            assert.deepEqual(await provider.read!(created.id, unreachable), { id: created.id, props: unreachable });
            // The same wait on the cluster that answers is dropped: the closed port is what kept it.
            assert.deepEqual(await provider.read!(created.id, created.outs), {});
        });

        it("leaves a wait recorded before uids alone, asking no cluster (it knows none)", async () => {
            const legacy = {
                namespace: "a",
                secretName: "b",
                secretId: "a/b",
                polls: 1,
                kubeconfigPath: cp.kubeconfig,
            };
            const before = userRequests(cp);
            assert.deepEqual(await provider.read!("a/b", legacy), { id: "a/b", props: legacy });
            assert.equal(userRequests(cp), before);
        });
    });

    it("update of a wait recorded without a source or uid looks the uid up once and never waits", async () => {
        const uid = createSecret("vcluster-team-a", "vc-team-a");
        const legacy = {
            namespace: "vcluster-team-a",
            secretName: "vc-team-a",
            secretId: "vcluster-team-a/vc-team-a",
            polls: 1,
        };
        const news = kubeconfigWait("ns-1");
        assert.deepEqual(await provider.diff!(legacy.secretId, legacy, news), { changes: true, replaces: [] });
        const looks = answered("get", "vc-team-a", 200);
        const updated = await provider.update!(legacy.secretId, legacy, news);
        assert.deepEqual(updated.outs, { ...legacy, kubeconfig: news.kubeconfig, secretUid: uid, source: "ns-1" });
        assert.equal(answered("get", "vc-team-a", 200) - looks, 1, "one look at the uid");
        assert.deepEqual(await provider.diff!(legacy.secretId, updated.outs!, news), { changes: false, replaces: [] });
    });

    it("update keeps a password read before this version when its Secret was deleted", async () => {
        const legacy = {
            namespace: "argocd",
            secretName: "argocd-initial-admin-secret",
            secretId: "argocd/argocd-initial-admin-secret",
            polls: 2,
            value: "old-password",
        };
        const news = passwordWait();
        const updated = await provider.update!(legacy.secretId, legacy, news);
        assert.equal(updated.outs!.value, "old-password");
        assert.equal(updated.outs!.secretUid, undefined, "no Secret, no uid");
        assert.equal(answered("get", "argocd-initial-admin-secret", 404) > 0, true, "it asked the API server");
        assert.deepEqual(await provider.diff!(legacy.secretId, updated.outs!, news), { changes: false, replaces: [] });
    });

    it("deletes nothing, and asks the API server nothing (the Secret is not its own)", async () => {
        const uid = createSecret("vcluster-team-a", "vc-team-a");
        const created = await withOutputs(provider.create!(kubeconfigWait()));
        const before = userRequests(cp);
        await provider.delete!(created.id, created.outs);
        assert.equal(userRequests(cp), before);
        assert.equal(
            admin("-n", "vcluster-team-a", "get", "secret", "vc-team-a", "-o", "jsonpath={.metadata.uid}"),
            uid,
        );
    });

    it("survives serialization: the copy Pulumi would run waits, diffs and refreshes against the API server", async () => {
        const { text, copy } = await serializedCopy(provider, tmp);
        assert.doesNotMatch(text, /require\("yaml"\)|@pulumi\/pulumi/);
        const first = createSecret("vcluster-team-a", "vc-team-a");
        const created = await withOutputs(copy.create!(kubeconfigWait("ns-1")));
        assert.equal(created.outs.secretUid, first);
        assert.deepEqual((await copy.diff!(created.id, created.outs, kubeconfigWait("ns-2"))).replaces, ["source"]);
        deleteSecret("vcluster-team-a", "vc-team-a");
        const second = createSecret("vcluster-team-a", "vc-team-a");
        assert.equal((await copy.read!(created.id, created.outs)).props!.secretUid, second);
    });
});
