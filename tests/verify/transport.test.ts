import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandRunner, kubectlArgv, kubectlTransport, processRunner } from "../../verify/transport";

const FAKE_KUBECTL = path.resolve(__dirname, "..", "fakes", "kubectl");

describe("kubectlTransport", () => {
    const recording = () => {
        const seen: { argv: readonly string[]; timeoutMs: number }[] = [];
        const runner: CommandRunner = {
            run: async (argv, options) => (
                seen.push({ argv, timeoutMs: options.timeoutMs }),
                { code: 0, stdout: "", stderr: "" }
            ),
        };
        return { runner, seen };
    };

    it("runs the command in the target's workload, with the cluster's kubeconfig and the time limit", async () => {
        const { runner, seen } = recording();
        const transport = kubectlTransport(runner, {
            kubeconfigPath: "/k",
            namespace: "slurm",
            targets: { login: "deploy/login" },
        });
        await transport.exec("login", ["srun", "-N2", "hostname"], { timeoutMs: 5000 });
        assert.deepEqual(seen, [
            {
                argv: [
                    "kubectl",
                    "--kubeconfig",
                    "/k",
                    "--namespace",
                    "slurm",
                    "exec",
                    "deploy/login",
                    "--",
                    "srun",
                    "-N2",
                    "hostname",
                ],
                timeoutMs: 5000,
            },
        ]);
    });

    it("answers an unknown target with a failure, running nothing", async () => {
        const { runner, seen } = recording();
        const result = await kubectlTransport(runner, { namespace: "slurm", targets: {} }).exec("login", ["sinfo"], {
            timeoutMs: 1,
        });
        assert.deepEqual(result, { code: 2, stdout: "", stderr: 'no workload is known for the target "login"' });
        assert.equal(seen.length, 0);
    });

    it("leaves kubeconfig and context to kubectl when none is given", () => {
        assert.deepEqual(kubectlArgv({}, ["get", "--raw", "/readyz"]), ["kubectl", "get", "--raw", "/readyz"]);
        assert.deepEqual(kubectlArgv({ kubectl: "/opt/kubectl", context: "c" }, ["x"]), [
            "/opt/kubectl",
            "--context",
            "c",
            "x",
        ]);
    });
});

describe("processRunner", () => {
    let dir: string;
    const savedDir = process.env.FAKE_KUBECTL_DIR;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-test-"));
        process.env.FAKE_KUBECTL_DIR = dir;
    });
    afterEach(() => {
        process.env.FAKE_KUBECTL_DIR = savedDir;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("hands back code and output, through the fake kubectl and the kubectl transport", async () => {
        const transport = kubectlTransport(processRunner, {
            kubectl: FAKE_KUBECTL,
            namespace: "slurm",
            targets: { login: "deploy/login" },
        });
        assert.deepEqual(await transport.exec("login", ["srun", "-N2", "hostname"], { timeoutMs: 10_000 }), {
            code: 0,
            stdout: "compute-0\ncompute-1\n",
            stderr: "",
        });
        const failed = await transport.exec("login", ["srun", "-N3", "hostname"], { timeoutMs: 10_000 });
        assert.equal(failed.code, 1);
        assert.match(failed.stderr, /Requested node configuration is not available/);
    });

    it("answers 127 for a program that is not there", async () => {
        assert.deepEqual(await processRunner.run([path.join(dir, "missing")], { timeoutMs: 1000 }), {
            code: 127,
            stdout: "",
            stderr: `${path.join(dir, "missing")} was not found on PATH`,
        });
    });

    it("stops a program at its time limit with code 124", async () => {
        const result = await processRunner.run(["sleep", "30"], { timeoutMs: 100 });
        assert.deepEqual(result, { code: 124, stdout: "", stderr: "sleep stopped after 0.1 s (time limit)" });
    });
});
