/**
 * The Secret wait's diff when what writes the Secret is made anew: pure, no kubectl. vCluster writes `vc-<name>`
 * with CreateOrPatch (pkg/util/kubeconfig/kubeconfig.go), owned by its StatefulSet: its uid lasts as long as the
 * install, and a new install writes a new Secret, a little after its API answers. What create, update and read
 * (refresh) do against a cluster runs against a real API server in secretWait.real.ts.
 */
import assert from "node:assert/strict";
import {
    SecretWaitInputs,
    SecretWaitOutputs,
    secretWaitProvider as provider,
} from "../../../components/tenancy/secretWaitProvider";

describe("secretWaitProvider's diff when the writer is made anew", () => {
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
    /** What create records for `inputs` (see secretWait.real.ts). */
    const recorded = (inputs: SecretWaitInputs, uid: string): SecretWaitOutputs => ({
        kubeconfig: inputs.kubeconfig,
        namespace: inputs.namespace,
        secretName: inputs.secretName,
        secretId: `${inputs.namespace}/${inputs.secretName}`,
        secretUid: uid,
        polls: 1,
        ...(inputs.readKey ? { readKey: inputs.readKey, value: "p" } : {}),
        source: inputs.source,
    });

    it("after the host cluster is made anew, replaces the vc-<name> wait and then the Argo CD password's", async () => {
        const kubeconfig1 = recorded(kubeconfigWait("ns-uid-1"), "vc-secret-1");
        assert.deepEqual(await provider.diff!(kubeconfig1.secretId, kubeconfig1, kubeconfigWait("ns-uid-2")), {
            changes: true,
            replaces: ["source"],
        });
        const password1 = recorded(passwordWait("vc-secret-1"), "pw-1");
        assert.deepEqual(await provider.diff!(password1.secretId, password1, passwordWait("vc-secret-2")), {
            changes: true,
            replaces: ["source"],
        });
    });

    it("with the same writer, nothing changes and nothing waits again", async () => {
        const outs = recorded(kubeconfigWait("ns-uid-1"), "u");
        assert.deepEqual(await provider.diff!(outs.secretId, outs, kubeconfigWait("ns-uid-1")), {
            changes: false,
            replaces: [],
        });
    });

    it("takes a first source in place for a wait recorded without one", async () => {
        const legacy: SecretWaitOutputs = { namespace: "a", secretName: "b", secretId: "a/b", polls: 1 };
        const news = { ...kubeconfigWait("ns-1"), namespace: "a", secretName: "b" };
        assert.deepEqual(await provider.diff!("a/b", legacy, news), { changes: true, replaces: [] });
        const updated = { ...legacy, kubeconfig: host.kubeconfig, secretUid: "u-9", source: "ns-1" };
        assert.deepEqual(await provider.diff!("a/b", updated, news), { changes: false, replaces: [] });
    });

    it("updates in place a password wait recorded before readKey was kept; dropping the key replaces it", async () => {
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
        const updated = { ...legacy, kubeconfig: host.kubeconfig, readKey: "password", source: "vc-1" };
        assert.deepEqual(await provider.diff!(legacy.secretId, updated, news), { changes: false, replaces: [] });
        // Dropping the key is still another wait (which key it read, the earlier outputs do not say).
        assert.deepEqual((await provider.diff!(legacy.secretId, legacy, { ...news, readKey: undefined })).replaces, [
            "readKey",
        ]);
    });
});
