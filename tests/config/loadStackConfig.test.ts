import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadStackConfig } from "../../config";

/** loadStackConfig's problems with `config` as the stack's Pulumi config, or its result. */
function load(config: Record<string, string>): {
    problems?: readonly string[];
    result?: ReturnType<typeof loadStackConfig>;
} {
    pulumi.runtime.setAllConfig(config);
    try {
        return { result: loadStackConfig() };
    } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        return { problems: error.problems };
    } finally {
        pulumi.runtime.setAllConfig({});
    }
}

describe("loadStackConfig (config/index.ts)", () => {
    it("reads the four settings as JSON, Pulumi's `default: {}` included", () => {
        const { result } = load({
            "ai-hyperscaler:cluster": "{}",
            "ai-hyperscaler:slurm": JSON.stringify({ compute: { replicas: 3 } }),
            "kubernetes:context": "not ours",
        });
        assert.equal(result?.cluster.type, "kind");
        assert.equal(result?.slurm.compute.replicas, 3);
    });

    it("refuses unknown settings of this project and bare strings, all at once, without echoing kubeconfigs", () => {
        const { problems } = load({
            "ai-hyperscaler:slurmm": "{}",
            "ai-hyperscaler:vcluster": "team-a",
            "ai-hyperscaler:cluster": "apiVersion: v1\nusers: [{token: s3cr3t}]",
            "ai-hyperscaler:gpuOperator": JSON.stringify({ enabled: "yes" }),
        });
        assert.equal(problems?.length, 4, problems?.join("\n"));
        assert.ok(
            problems?.some((p) =>
                p.startsWith(
                    'vcluster = "team-a": must be an object; set its fields with ' +
                        "`pulumi config set --path vcluster.<field>",
                ),
            ),
        );
        assert.ok(problems?.some((p) => p.startsWith("slurmm: unknown setting")));
        assert.ok(problems?.some((p) => p.startsWith('gpuOperator.enabled = "yes"')));
        assert.ok(!problems?.join("\n").includes("s3cr3t"));
    });

    it("checks that the kubeconfig path is a readable file", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfig-"));
        try {
            const file = path.join(dir, "config");
            fs.writeFileSync(file, "apiVersion: v1\n");
            const settings = (kubeconfigPath: string) => ({
                "ai-hyperscaler:cluster": JSON.stringify({ type: "existing", kubeconfigPath }),
                "ai-hyperscaler:slurm": JSON.stringify({ mode: "none" }),
            });
            assert.equal(load(settings(file)).result?.cluster.type, "existing");
            const missing = path.join(dir, "missing");
            assert.deepEqual(load(settings(missing)).problems, [
                `cluster.kubeconfigPath = ${JSON.stringify(missing)}: ` +
                    `must be a readable kubeconfig file; ${missing} does not exist`,
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
