/**
 * The Secret waits when what writes the Secret is made anew, against the fake kubectl (tests/fakes/kubectl), which
 * answers as kubectl does: the Secret's uid from `-o jsonpath={.metadata.uid}`, kubectl's NotFound line for a
 * missing Secret, "connection refused" for a cluster that is down. vCluster writes `vc-<name>` with CreateOrPatch
 * (pkg/util/kubeconfig/kubeconfig.go), owned by its StatefulSet: its uid lasts as long as the install, and a new
 * install writes a new Secret, a little after its API answers.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    SecretWaitInputs,
    SecretWaitOutputs,
    secretWaitProvider as provider,
} from "../../../components/tenancy/secretWaitProvider";
import { serializedCopy } from "../gpu/serialized";

const FAKES = path.resolve(__dirname, "..", "..", "fakes");

describe("secretWaitProvider when the writer is made anew, and on refresh (fake kubectl)", () => {
    let dir: string;
    const savedEnv = { ...process.env };
    /** Sets the fake's answers: the Secret appears from poll `after` (0: never), with `uid` and `value`. */
    const secret = (answer: { after?: number; uid?: string; value?: string; mode?: string }) => {
        fs.rmSync(path.join(dir, "polls"), { force: true });
        process.env.FAKE_SECRET_AFTER = String(answer.after ?? 1);
        for (const [key, value] of [
            ["FAKE_SECRET_UID", answer.uid],
            ["FAKE_SECRET_VALUE", answer.value],
            ["FAKE_KUBECTL_MODE", answer.mode],
        ] as const) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
    };
    const calls = () => {
        const log = path.join(dir, "calls.log");
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    };
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "secret-wait-again-"));
        process.env.FAKE_KUBECTL_DIR = dir;
        process.env.PATH = `${FAKES}${path.delimiter}${savedEnv.PATH}`;
        secret({});
    });
    afterEach(() => {
        process.env = { ...savedEnv };
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const host = { kubeconfig: "apiVersion: v1\nkind: Config\n# host\n", pollIntervalMs: 0, timeoutSeconds: 60 };
    const kubeconfigWait = (namespaceUid: string): SecretWaitInputs => ({
        ...host,
        namespace: "vcluster-team-a",
        secretName: "vc-team-a",
        source: namespaceUid,
    });
    const passwordWait = (kubeconfigSecretUid: string): SecretWaitInputs => ({
        ...host,
        namespace: "argocd",
        secretName: "argocd-initial-admin-secret",
        readKey: "password",
        source: kubeconfigSecretUid,
    });

    it("after the host cluster is made anew, waits again for vc-<name> and reads the new Argo CD password", async () => {
        secret({ uid: "vc-secret-1", value: "first-install-password" });
        const kubeconfig1 = await provider.create!(kubeconfigWait("ns-uid-1"));
        const password1 = await provider.create!(passwordWait(kubeconfig1.outs!.secretUid!));
        assert.equal(password1.outs!.value, "first-install-password");

        // The cluster is made anew: a new namespace (new uid), and the new vCluster writes its Secret only on the
        // third poll, after its API answers.
        secret({ after: 3, uid: "vc-secret-2", value: "second-install-password" });
        const kubeconfigDiff = await provider.diff!(kubeconfig1.id, kubeconfig1.outs!, kubeconfigWait("ns-uid-2"));
        assert.deepEqual(kubeconfigDiff, { changes: true, replaces: ["source"] });
        const kubeconfig2 = await provider.create!(kubeconfigWait("ns-uid-2"));
        assert.equal(kubeconfig2.outs!.polls, 3, "the wait ran again and waited for the Secret");
        assert.equal(kubeconfig2.outs!.secretUid, "vc-secret-2");

        const passwordDiff = await provider.diff!(password1.id, password1.outs!, passwordWait("vc-secret-2"));
        assert.deepEqual(passwordDiff, { changes: true, replaces: ["source"] });
        const password2 = await provider.create!(passwordWait("vc-secret-2"));
        assert.equal(password2.outs!.value, "second-install-password");
    });

    it("with the same writer, nothing changes and nothing waits again", async () => {
        const created = await provider.create!(kubeconfigWait("ns-uid-1"));
        assert.deepEqual(await provider.diff!(created.id, created.outs!, kubeconfigWait("ns-uid-1")), {
            changes: false,
            replaces: [],
        });
    });

    it("keeps on record what a refresh needs to find the Secret, the kubeconfig among them", async () => {
        secret({ value: "p" });
        const created = await provider.create!({ ...passwordWait("u"), context: "kind-lab", kubectlPath: "kubectl" });
        const outs = created.outs as SecretWaitOutputs;
        assert.deepEqual(
            {
                kubeconfig: outs.kubeconfig,
                context: outs.context,
                kubectlPath: outs.kubectlPath,
                readKey: outs.readKey,
            },
            { kubeconfig: host.kubeconfig, context: "kind-lab", kubectlPath: "kubectl", readKey: "password" },
        );
        assert.equal(outs.source, "u");
    });

    describe("read (refresh)", () => {
        it("keeps a Secret of the same uid as it is, without reading the key again", async () => {
            secret({ uid: "u-1", value: "p-1" });
            const created = await provider.create!(passwordWait("vc-1"));
            const before = calls().length;
            assert.deepEqual(await provider.read!(created.id, created.outs!), { id: created.id, props: created.outs });
            assert.deepEqual(calls().slice(before).length, 1, "one look at the uid, no read of the key");
        });

        it("records the new uid and reads the key again when the Secret was made anew", async () => {
            secret({ uid: "u-1", value: "p-1" });
            const created = await provider.create!(passwordWait("vc-1"));
            secret({ uid: "u-2", value: "p-2" });
            const read = await provider.read!(created.id, created.outs!);
            assert.equal(read.id, created.id);
            assert.equal(read.props!.secretUid, "u-2");
            assert.equal(read.props!.value, "p-2");
        });

        it("drops a wait whose Secret is gone, so the next up waits again; keeps a password already read", async () => {
            const kubeconfig = await provider.create!(kubeconfigWait("ns-1"));
            secret({ value: "p-1" });
            const password = await provider.create!(passwordWait("vc-1"));
            secret({ after: 0 });
            assert.deepEqual(await provider.read!(kubeconfig.id, kubeconfig.outs!), {});
            // Argo CD advises deleting argocd-initial-admin-secret once the password is changed.
            assert.deepEqual(await provider.read!(password.id, password.outs!), {
                id: password.id,
                props: password.outs,
            });
        });

        it("keeps everything when the cluster does not answer: a refresh never drops what may still exist", async () => {
            const created = await provider.create!(kubeconfigWait("ns-1"));
            secret({ mode: "down" });
            assert.deepEqual(await provider.read!(created.id, created.outs!), { id: created.id, props: created.outs });
        });

        it("leaves a wait recorded before uids alone, asking no cluster (it knows none)", async () => {
            const legacy = { namespace: "a", secretName: "b", secretId: "a/b", polls: 1 };
            assert.deepEqual(await provider.read!("a/b", legacy), { id: "a/b", props: legacy });
            assert.deepEqual(calls(), []);
        });
    });

    it("takes a first source in place for a wait recorded without one, waiting for nothing", async () => {
        const legacy: SecretWaitOutputs = { namespace: "a", secretName: "b", secretId: "a/b", polls: 1 };
        const news = { ...kubeconfigWait("ns-1"), namespace: "a", secretName: "b" };
        assert.deepEqual(await provider.diff!("a/b", legacy, news), { changes: true, replaces: [] });
        secret({ uid: "u-9" });
        const updated = await provider.update!("a/b", legacy, news);
        assert.deepEqual(updated.outs, { ...legacy, kubeconfig: host.kubeconfig, secretUid: "u-9", source: "ns-1" });
        assert.equal(calls().length, 1, "one look at the uid");
        assert.deepEqual(await provider.diff!("a/b", updated.outs!, news), { changes: false, replaces: [] });
    });

    it("keeps a password read before this version: its wait is updated in place, never waits again", async () => {
        // What the earlier provider recorded: no readKey, uid, source or connection in the outputs.
        const legacy: SecretWaitOutputs = {
            namespace: "argocd",
            secretName: "argocd-initial-admin-secret",
            secretId: "argocd/argocd-initial-admin-secret",
            polls: 2,
            value: "old-password",
        };
        const news = passwordWait("vc-1");
        assert.deepEqual(await provider.diff!(legacy.secretId, legacy, news), { changes: true, replaces: [] });
        // The user deleted the initial password Secret, as Argo CD advises.
        secret({ after: 0 });
        const updated = await provider.update!(legacy.secretId, legacy, news);
        assert.equal(updated.outs!.value, "old-password");
        assert.deepEqual(await provider.diff!(legacy.secretId, updated.outs!, news), { changes: false, replaces: [] });
        // Dropping the key is still another wait (which key it read, the earlier outputs do not say).
        assert.deepEqual((await provider.diff!(legacy.secretId, legacy, { ...news, readKey: undefined })).replaces, [
            "readKey",
        ]);
    });

    it("survives serialization: the copy Pulumi would run waits, diffs and refreshes", async () => {
        const { text, copy } = await serializedCopy(provider, dir);
        assert.doesNotMatch(text, /require\("yaml"\)|@pulumi\/pulumi/);
        secret({ uid: "u-1" });
        const created = await copy.create!(kubeconfigWait("ns-1"));
        assert.equal(created.outs!.secretUid, "u-1");
        assert.deepEqual((await copy.diff!(created.id, created.outs!, kubeconfigWait("ns-2"))).replaces, ["source"]);
        secret({ uid: "u-2" });
        assert.equal((await copy.read!(created.id, created.outs!)).props!.secretUid, "u-2");
    });
});
