/**
 * The cluster identity: a hash of the CA of the cluster a kubeconfig selects, in kind's kubeconfig layout
 * (`kind get kubeconfig`: one cluster, context and user named `kind-<name>`).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { clusterIdentity } from "../../../components/cluster/identity";

/** A kubeconfig as kind writes it, with the CA `ca` (base64 in the file) and the API on `port`. */
function kindKubeconfig(ca: string, port = 41235, name = "lab"): string {
    return [
        "apiVersion: v1",
        "clusters:",
        "- cluster:",
        `    certificate-authority-data: ${Buffer.from(ca).toString("base64")}`,
        `    server: https://127.0.0.1:${port}`,
        `  name: kind-${name}`,
        "contexts:",
        "- context:",
        `    cluster: kind-${name}`,
        `    user: kind-${name}`,
        `  name: kind-${name}`,
        `current-context: kind-${name}`,
        "kind: Config",
        "preferences: {}",
        "users:",
        `- name: kind-${name}`,
        "  user:",
        "    client-certificate-data: Y2VydA==",
        "    client-key-data: a2V5",
        "",
    ].join("\n");
}

describe("clusterIdentity", () => {
    it("is the first 16 hex digits of the SHA-256 of the current cluster's certificate-authority-data", () => {
        const config = kindKubeconfig("CA one");
        const data = Buffer.from("CA one").toString("base64");
        assert.equal(clusterIdentity(config), createHash("sha256").update(data).digest("hex").slice(0, 16));
    });

    it("changes with the CA (a cluster made anew) and with nothing else: port and credentials do not count", () => {
        assert.notEqual(clusterIdentity(kindKubeconfig("CA one")), clusterIdentity(kindKubeconfig("CA two")));
        const rotated = kindKubeconfig("CA one", 50000).replace("a2V5", "bmV3a2V5");
        assert.equal(clusterIdentity(rotated), clusterIdentity(kindKubeconfig("CA one")));
    });

    it("follows current-context when the kubeconfig holds several clusters", () => {
        const two = kindKubeconfig("CA one").replace(
            "clusters:\n",
            "clusters:\n- cluster: {certificate-authority-data: b3RoZXI=}\n  name: other\n",
        );
        assert.equal(clusterIdentity(two), clusterIdentity(kindKubeconfig("CA one")));
    });

    it("refuses a kubeconfig that selects no cluster with a CA, rather than inventing an identity", () => {
        for (const text of [
            "apiVersion: v1\nkind: Config\n",
            kindKubeconfig("").replace(/certificate-authority-data: .*\n/, ""),
        ]) {
            assert.throws(
                () => clusterIdentity(text),
                /^Error: the kubeconfig names no current cluster with certificate-authority-data/,
            );
        }
    });
});
