/**
 * Issue 17, item 13: a bad setting's value is shown JSON-escaped, a stray newline included; only a value that looks
 * like credentials (kubeconfig contents, a PEM block, a token) is hidden, and the message says which kind it is.
 */
import { strict as assert } from "node:assert";
import { REDACTED, redact, redacted } from "../../config/errors";
import { credentialsIn, looksLikeKubeconfigContents } from "../../config/rules";
import { problemsOf } from "./helpers";

/** A setting given `value`, as a stack file would hold it; one per setting that was hidden before. */
const WITH_NEWLINE: Record<string, (value: string) => Record<string, unknown>> = {
    "cluster.name": (name) => ({ cluster: { name } }),
    "slurm.namespace": (namespace) => ({ slurm: { namespace } }),
    "slurm.clusterName": (clusterName) => ({ slurm: { clusterName } }),
    "slurm.partitions[0].name": (name) => ({ slurm: { partitions: [{ name }] } }),
    "slurm.image": (image) => ({ slurm: { image } }),
    "slurm.storage.storageClassName": (storageClassName) => ({ slurm: { storage: { storageClassName } } }),
    "vcluster.tenants[0].name": (name) => ({ vcluster: { tenants: [{ name }] } }),
    "cluster.portMappings[0].listenAddress": (listenAddress) => ({
        cluster: { portMappings: [{ containerPort: 30080, hostPort: 8080, listenAddress }] },
    }),
};

const PEM =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
const JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl";
const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster: {server: https://10.0.0.1:6443}\n";

describe("a bad setting's value in the message", () => {
    for (const [setting, raw] of Object.entries(WITH_NEWLINE)) {
        it(`${setting} with a newline is shown JSON-escaped, not called kubeconfig contents`, () => {
            const value = setting.endsWith("listenAddress") ? "127.0.0.1\n" : "lab\n";
            const problems = problemsOf(raw(value));
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.ok(problems[0].startsWith(`${setting} = ${JSON.stringify(value)}: must be`), problems[0]);
            assert.ok(!problems[0].includes("not shown"), problems[0]);
        });
    }

    it("still hides kubeconfig contents, PEM blocks and tokens, saying which it looks like", () => {
        const cases: [string, string, string][] = [
            ["cluster.name", KUBECONFIG, REDACTED],
            ["slurm.image", PEM, "(not shown: it looks like a PEM block (a private key or certificate))"],
            ["vcluster.tenants[0].name", JWT, "(not shown: it looks like a token, key or password)"],
            ["slurm.namespace", "token: abcdef0123456789", "(not shown: it looks like a token, key or password)"],
        ];
        for (const [setting, value, shown] of cases) {
            const [line] = problemsOf(WITH_NEWLINE[setting](value));
            assert.ok(line.startsWith(`${setting} = ${JSON.stringify(shown)}: must be`), line);
            for (const secret of ["10.0.0.1", "b3BlbnNzaC1rZXkt", "eyJzdWIi", "abcdef0123456789"])
                assert.ok(!line.includes(secret), line);
        }
        // A whole object (a setting given where a number belongs) is judged by its JSON text.
        const [object] = problemsOf({ slurm: { compute: { replicas: { "client-key-data": "QUJD" } } } });
        assert.ok(object.startsWith(`slurm.compute.replicas = "(not shown: it looks like a token`), object);
    });

    it("a kubeconfig path with a newline is still refused as not a path, and shown", () => {
        assert.ok(looksLikeKubeconfigContents("/home/me/.kube/config\n"), "a path is one line");
        const [line] = problemsOf({ cluster: { type: "existing", kubeconfigPath: "/home/me/.kube/config\n" } });
        assert.ok(line.startsWith('cluster.kubeconfigPath = "/home/me/.kube/config\\n": must be the path'), line);
    });

    it("recognises credentials only, not other text", () => {
        assert.equal(credentialsIn('{"apiVersion":"v1","clusters":[]}'), "kubeconfig");
        assert.equal(credentialsIn(PEM), "pem");
        assert.equal(credentialsIn(JWT), "token");
        assert.equal(credentialsIn(`pul-${"0a".repeat(20)}`), "token");
        assert.equal(credentialsIn(`ghp_${"A1".repeat(18)}`), "token");
        assert.equal(credentialsIn("Authorization: Bearer abcdefgh12345678"), "token");
        for (const plain of ["lab\n", "a\r\nb", "{}", "[1, 2]", "users", "my-token-bucket", 5, undefined, null])
            assert.equal(credentialsIn(plain), undefined, JSON.stringify(plain));
        assert.equal(redact("lab\n"), "lab\n");
        assert.equal(redact(42), 42);
        assert.equal(redacted("kubeconfig"), REDACTED);
    });
});
