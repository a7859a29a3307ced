/**
 * `npm run verify` as a user runs it: the script spawned with a PATH that holds only fakes (tests/fakes/kubectl,
 * tests/fakes/pulumi) and the few tools they use, so no real Pulumi CLI or cluster is reached. Each run gets a fresh
 * file backend in the test's temporary folder (PULUMI_BACKEND_URL), holding the dev stack's file, so nothing is
 * written into the repository (no project-local state or passphrase). Fakes, because these cases need what no
 * cluster here has (a Slurm login pod that runs sinfo/srun/sbatch, a tenant's Argo CD: kwok runs no process), a
 * stack with the outputs of a Kind `up` (kind's nodes need privileged containers, which Docker refuses here), or a
 * CLI that fails without a word. Where verify stops before any cluster (no state, no passphrase, no such stack) it
 * runs with the real CLI in script.real.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const TOKEN = "HOSTTOKEN0123456789abcdef";
const TENANT_KEY = "VEVOQU5US0VZMDEyMzQ1Njc4OQ==";
const OUTPUTS = {
    clusterName: "ai-hyperscaler-dev",
    kubeconfig: `apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: ${TOKEN}}}]\n`,
    tenantInfo: {
        "team-a": {
            namespace: "vcluster-team-a",
            kubeconfig: `apiVersion: v1\nkind: Config\nusers: [{name: t, user: {client-key-data: ${TENANT_KEY}}}]\n`,
        },
    },
};

describe("npm run verify (the script, against fake pulumi and kubectl)", function () {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-script-"));
        for (const sub of ["bin", "bin-no-pulumi", "kubectl"]) fs.mkdirSync(path.join(dir, sub));
        // Only what the fakes and node need: a real kubectl or pulumi elsewhere on PATH must not be reached.
        for (const bin of ["bin", "bin-no-pulumi"]) {
            for (const tool of ["bash", "cat", "base64", "stat", "tr"])
                fs.symlinkSync(`/usr/bin/${tool}`, path.join(dir, bin, tool));
            fs.symlinkSync(process.execPath, path.join(dir, bin, "node"));
            fs.symlinkSync(path.join(ROOT, "tests", "fakes", "kubectl"), path.join(dir, bin, "kubectl"));
        }
        fs.symlinkSync(path.join(ROOT, "tests", "fakes", "pulumi"), path.join(dir, "bin", "pulumi"));
        fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(OUTPUTS));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The fake pulumi's state folder (pulumi.calls) and the file backend's folder, made afresh for each run. */
    const pulumiState = () => path.join(dir, "pulumi");
    const backend = () => path.join(dir, "backend");

    function verify(args: string[], env: Record<string, string | undefined> = {}, bin = "bin") {
        fs.rmSync(path.join(dir, "kubectl", "calls.log"), { force: true });
        for (const folder of [pulumiState(), backend()]) {
            fs.rmSync(folder, { recursive: true, force: true });
            fs.mkdirSync(folder);
        }
        // Where a file backend keeps the stack that `npm run up` created; verify only selects it.
        const stacks = path.join(backend(), ".pulumi", "stacks", "ai-hyperscaler");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(stacks, "dev.json"), '{"version": 3}');
        const result = spawnSync(process.execPath, ["-r", "ts-node/register", "scripts/verify.ts", ...args], {
            cwd: ROOT,
            encoding: "utf8",
            env: {
                PATH: path.join(dir, bin),
                HOME: dir,
                TS_NODE_TRANSPILE_ONLY: "1",
                FAKE_KUBECTL_DIR: path.join(dir, "kubectl"),
                FAKE_CLI_STATE: pulumiState(),
                PULUMI_BACKEND_URL: `file://${backend()}`,
                PULUMI_CONFIG_PASSPHRASE: "",
                FAKE_PULUMI_OUTPUTS: path.join(dir, "outputs.json"),
                ...env,
            },
        });
        const all = `${result.stdout}${result.stderr}`;
        assert.ok(!all.includes(TOKEN) && !all.includes(TENANT_KEY), `a credential was printed:\n${all}`);
        return result;
    }

    it("passes every check of the dev stack on a healthy cluster, exit code 0", () => {
        const result = verify(["dev"]);
        assert.equal(result.status, 0, result.stderr);
        const lines = result.stdout.trim().split("\n");
        assert.deepEqual(
            lines.map((l) => l.replace(/\s+\d+\.\d s\s.*$/, "").replace(/\s+/g, " ")),
            [
                "PASS cluster: API answers",
                "PASS slurm: compute nodes idle",
                "PASS slurm: srun -N2 hostname",
                "PASS slurm: sbatch job completes, shown by sacct",
                "PASS tenant team-a: API answers",
                "PASS tenant team-a: Argo CD server ready",
                "all 6 checks passed",
            ],
        );
        const calls = fs.readFileSync(path.join(dir, "kubectl", "calls.log"), "utf8");
        assert.match(
            calls,
            /--kubeconfig\t\S+\/tenant-team-a\.kubeconfig\t--namespace\targocd\tget\tdeployment\targocd-server/,
        );
        // The stack is only selected (never created) in the backend the user chose, so no local state appears.
        const pulumi = (file: string) =>
            fs
                .readFileSync(path.join(pulumiState(), file), "utf8")
                .trimEnd()
                .split("\n")
                .map((l) => l.split("\t"));
        assert.deepEqual(pulumi("pulumi.calls"), [
            ["version"],
            ["stack", "select", "--stack", "dev", "--non-interactive"],
            ["stack", "output", "--json", "--stack", "dev", "--non-interactive"],
            ["stack", "output", "--json", "--show-secrets", "--stack", "dev", "--non-interactive"],
        ]);
        for (const env of pulumi("pulumi.env")) {
            assert.deepEqual(env.slice(0, 3), [
                `PULUMI_BACKEND_URL=file://${backend()}`,
                "PULUMI_CONFIG_PASSPHRASE=set",
                "PULUMI_CONFIG_PASSPHRASE_FILE=",
            ]);
        }
    });

    it("fails fast with no cluster: JSON report, API check failed, the rest not run, exit code 1", () => {
        const result = verify(["dev", "--json"], { FAKE_KUBECTL_MODE: "down" });
        assert.equal(result.status, 1);
        const report = JSON.parse(result.stdout);
        assert.equal(report.stack, "dev");
        assert.equal(report.ok, false);
        assert.deepEqual(report.checks[0], {
            name: "cluster: API answers",
            ok: false,
            reason: "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?",
            seconds: report.checks[0].seconds,
        });
        assert.ok(
            report.checks
                .slice(1)
                .every((c: { ok: boolean; reason: string }) => !c.ok && c.reason.startsWith("not run:")),
        );
        assert.equal(
            fs
                .readFileSync(path.join(dir, "kubectl", "calls.log"), "utf8")
                .trim()
                .split("\n").length,
            1,
            "one kubectl call only",
        );
    });

    it("fails when kubectl answers nothing at all", () => {
        const result = verify(["dev"], { FAKE_KUBECTL_MODE: "silent" });
        assert.equal(result.status, 1);
        assert.match(result.stdout, /^FAIL {2}cluster: API answers .* exit code 1 and no output$/m);
    });

    it("never prints a credential, even when kubectl echoes its kubeconfig", () => {
        const result = verify(["dev", "--json"], { FAKE_KUBECTL_MODE: "leaky" });
        assert.equal(result.status, 1);
        assert.match(JSON.parse(result.stdout).checks[0].reason, /token: \[redacted\]/);
    });

    it("exits 2 saying the Pulumi CLI is missing, with a JSON error for pipelines", () => {
        const result = verify(["dev", "--json"], {}, "bin-no-pulumi");
        assert.equal(result.status, 2);
        assert.match(
            result.stderr,
            /^verify dev: the Pulumi CLI was not found on PATH; install it \(https:\/\/www\.pulumi\.com\/docs\/install/,
        );
        assert.deepEqual(JSON.parse(result.stdout), {
            stack: "dev",
            ok: false,
            error: result.stderr.trim().replace(/^verify dev: /, ""),
            checks: [],
        });
    });

    it("exits 2 when the Pulumi CLI fails without a word, naming the command that failed", () => {
        const result = verify(["dev"], { FAKE_PULUMI_MODE: "silent" });
        assert.equal(result.status, 2);
        assert.equal(
            result.stderr.trim(),
            `verify dev: could not read the outputs of the stack "dev": Command failed with exit code 1: pulumi version`,
        );
        assert.equal(result.stdout, "");
    });

    it("exits 2 on bad arguments and on a stack with no settings file, before calling Pulumi", () => {
        const calls = () => fs.existsSync(path.join(pulumiState(), "pulumi.calls"));
        assert.equal(verify([]).status, 2);
        assert.equal(calls(), false);
        const unknown = verify(["dev", "--yaml"]);
        assert.match(unknown.stderr, /unknown option --yaml; usage: npm run verify -- <stack> \[--json\]/);
        assert.equal(calls(), false);
        const missing = verify(["nosuch"]);
        assert.equal(missing.status, 2);
        assert.match(missing.stderr, /no stack "nosuch": there is no Pulumi\.nosuch\.yaml/);
        assert.equal(calls(), false);
    });
});
