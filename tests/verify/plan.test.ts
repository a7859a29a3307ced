import assert from "node:assert/strict";
import { parseStackConfig } from "../../config/schema";
import { readStackSettings } from "../../config/stackFile";
import { checksFor, loginWorkload, planFromStack } from "../../verify/plan";
import { CommandRunner } from "../../verify/transport";

const HOST_KUBECONFIG = "apiVersion: v1\nkind: Config\n# host\n";
const TENANT_KUBECONFIG = "apiVersion: v1\nkind: Config\n# team-a\n";
const OUTPUTS = {
    kubeconfig: HOST_KUBECONFIG,
    tenantInfo: { "team-a": { namespace: "vcluster-team-a", kubeconfig: TENANT_KUBECONFIG } },
};

function files() {
    const written = new Map<string, string>();
    return {
        written,
        write: (name: string, contents: string) => (written.set(name, contents), `/private/${name}.kubeconfig`),
    };
}

const noRunner: CommandRunner = { run: async () => ({ code: 1, stdout: "", stderr: "unused" }) };

describe("planFromStack", () => {
    it("plans dev: the Kind kubeconfig, static Slurm with accounting on 2 nodes, team-a with Argo CD", () => {
        const f = files();
        const plan = planFromStack(parseStackConfig(readStackSettings("dev")), OUTPUTS, f.write);
        assert.deepEqual(plan.cluster, { kubeconfigPath: "/private/cluster.kubeconfig" });
        assert.deepEqual(plan.slurm, {
            namespace: "slurm",
            login: "deploy/login",
            nodes: 2,
            gpus: 0,
            accounting: true,
        });
        assert.deepEqual(plan.tenants, [
            { name: "team-a", access: { kubeconfigPath: "/private/tenant-team-a.kubeconfig" }, argocd: true },
        ]);
        assert.deepEqual(
            [...f.written],
            [
                ["cluster", HOST_KUBECONFIG],
                ["tenant-team-a", TENANT_KUBECONFIG],
            ],
        );
        assert.deepEqual(plan.secrets, [HOST_KUBECONFIG, TENANT_KUBECONFIG]);
        assert.deepEqual(
            checksFor(plan, noRunner).map((c) => [c.name, c.requires]),
            [
                ["cluster: API answers", undefined],
                ["slurm: compute nodes idle", "cluster: API answers"],
                ["slurm: srun -N2 hostname", "cluster: API answers"],
                ["slurm: sbatch job completes, shown by sacct", "cluster: API answers"],
                ["tenant team-a: API answers", "cluster: API answers"],
                ["tenant team-a: Argo CD server ready", "tenant team-a: API answers"],
            ],
        );
    });

    it("adds the GPU check on the gpu stack", () => {
        const plan = planFromStack(parseStackConfig(readStackSettings("gpu")), OUTPUTS, files().write);
        assert.ok(checksFor(plan, noRunner).some((c) => c.name === "slurm: srun --gres=gpu:1 nvidia-smi -L"));
        assert.equal(plan.slurm?.nodes, 1);
    });

    it("uses an existing cluster's kubeconfig and context, Slinky with accounting, a tenant without Argo CD", () => {
        const f = files();
        const settings = parseStackConfig({
            cluster: { type: "existing", kubeconfigPath: "/home/me/.kube/config", context: "lab" },
            slurm: { mode: "slinky" },
        });
        const plan = planFromStack(
            { ...settings, vcluster: { tenants: [{ name: "team-a", argocd: false }] } },
            { tenantInfo: OUTPUTS.tenantInfo },
            f.write,
        );
        assert.deepEqual(plan.cluster, { kubeconfigPath: "/home/me/.kube/config", context: "lab" });
        assert.deepEqual(plan.slurm, {
            namespace: "slurm",
            login: "deployment/slurm-login-slinky",
            nodes: 2,
            gpus: 0,
            accounting: true,
        });
        assert.deepEqual([...f.written.keys()], ["tenant-team-a"]);
        const names = checksFor(plan, noRunner).map((c) => c.name);
        assert.ok(names.includes("slurm: sbatch job completes, shown by sacct"));
        assert.ok(!names.some((n) => n.includes("Argo CD")));
    });

    it("has no Slurm checks with slurm.mode none", () => {
        const plan = planFromStack(
            parseStackConfig({ cluster: { type: "existing" }, slurm: { mode: "none" } }),
            {},
            files().write,
        );
        assert.equal(plan.slurm, undefined);
        assert.deepEqual(
            checksFor(plan, noRunner).map((c) => c.name),
            ["cluster: API answers"],
        );
    });

    it("says what is missing when the stack was not brought up", () => {
        const settings = parseStackConfig(readStackSettings("dev"));
        assert.throws(
            () => planFromStack(settings, {}, files().write),
            /the stack has no output `kubeconfig`: bring it up first \(npm run up -- <stack>\)/,
        );
        assert.throws(
            () => planFromStack(settings, { kubeconfig: HOST_KUBECONFIG, tenantInfo: {} }, files().write),
            /the stack output tenantInfo has no kubeconfig for the tenant "team-a"/,
        );
    });
});

describe("loginWorkload", () => {
    it("names the login Deployment of each mode", () => {
        assert.equal(loginWorkload("static"), "deploy/login");
        assert.equal(loginWorkload("slinky"), "deployment/slurm-login-slinky");
    });
});
