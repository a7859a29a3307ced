import { strict as assert } from "node:assert";
import { ProgramRun, runProgram, runProgramExpectingError } from "../evaluation/program";
import { PLACEHOLDER_MARK } from "../evaluation/mocks";
import { readStackSettings } from "../config/stackFile";
import { defaultSlurmImage } from "../config/slurmImage";
import { isKubeObject, validateKubeObject } from "./kubeSchema";

const types = (run: ProgramRun) => new Set(run.resources.map((r) => r.type));

/**
 * Every registered Kubernetes object is valid, and no generated secret sits outside a Secret or the stack's secret
 * outputs.
 */
function assertSafeAndValid(run: ProgramRun): void {
    for (const r of run.resources.filter((r) => isKubeObject(r.type))) validateKubeObject(r);
    for (const r of run.resources) {
        if (
            r.type === "kubernetes:core/v1:Secret" ||
            r.type.startsWith("random:") ||
            r.type === "pulumi:providers:kubernetes"
        )
            continue;
        if (r.type === "pulumi-nodejs:dynamic:Resource") continue; // The Kind cluster's kubeconfig output, not an input.
        assert.ok(!JSON.stringify(r.inputs).includes(PLACEHOLDER_MARK), `${r.type} ${r.name} holds a generated secret`);
    }
    for (const [name, value] of Object.entries(run.outputs)) {
        if (JSON.stringify(value ?? null).includes(PLACEHOLDER_MARK)) {
            assert.ok(run.secretOutputs.includes(name), `stack output ${name} holds a secret but is not marked secret`);
        }
    }
}

describe("the program (index.ts) under mocks", () => {
    describe("dev stack", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram(readStackSettings("dev"), "dev");
        });

        it("creates a Kind cluster, the static Slurm stack and one vCluster tenant, and no GPU operator", () => {
            for (const type of [
                "hyperscaler:cluster:KindCluster",
                "pulumi-nodejs:dynamic:Resource",
                "pulumi:providers:kubernetes",
                "hyperscaler:slurm:StaticSlurm",
                "hyperscaler:tenancy:VirtualCluster",
                "random:index/randomBytes:RandomBytes",
                "random:index/randomPassword:RandomPassword",
                "kubernetes:core/v1:Namespace",
                "kubernetes:core/v1:ConfigMap",
                "kubernetes:core/v1:Secret",
                "kubernetes:core/v1:Service",
                "kubernetes:apps/v1:StatefulSet",
                "kubernetes:apps/v1:Deployment",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                "kubernetes:helm.sh/v3:Release",
            ]) {
                assert.ok(types(run).has(type), `dev registers no ${type}`);
            }
            assert.ok(!types(run).has("hyperscaler:gpu:GpuOperator"));
            assert.ok(!types(run).has("hyperscaler:slurm:SlinkySlurm"));
        });

        it("sizes the cluster and Slurm from Pulumi.dev.yaml", () => {
            const kind = run.get("pulumi-nodejs:dynamic:Resource", "lab");
            assert.equal(kind.inputs.clusterName, "ai-hyperscaler-dev");
            assert.deepEqual(
                kind.inputs.images,
                [defaultSlurmImage()],
                "the Slurm image, tagged by content, is loaded into Kind",
            );
            assert.equal((kind.inputs.configYaml.match(/role: worker/g) ?? []).length, 2);
            assert.equal(run.get("kubernetes:apps/v1:StatefulSet", "slurm-compute").inputs.spec.replicas, 2);
            assert.match(
                run.get("kubernetes:core/v1:ConfigMap", "slurm-slurm-config").inputs.data["slurm.conf"],
                /^PartitionName=debug .*MaxTime=30/m,
            );
        });

        it("gives every Kubernetes object a valid schema and keeps secrets out of plaintext", () =>
            assertSafeAndValid(run));

        it("uses the Kind cluster's provider for every Kubernetes resource", () => {
            const provider = run.get("pulumi:providers:kubernetes", "lab");
            assert.ok(provider.inputs.kubeconfig, "the provider gets the Kind kubeconfig");
        });

        it("exports connection info in the clear and kubeconfigs as secrets", () => {
            assert.equal(run.outputs.clusterName, "ai-hyperscaler-dev");
            assert.ok(run.secretOutputs.includes("kubeconfig"));
            assert.ok(run.secretOutputs.includes("tenantInfo"));
            assert.ok(!run.secretOutputs.includes("slurmInfo"));
            const slurm = run.outputs.slurmInfo as { commands: Record<string, string> };
            assert.equal(slurm.commands.sinfo, "kubectl -n slurm exec deploy/login -- sinfo");
            assert.deepEqual(Object.keys(run.outputs.tenantInfo as object), ["team-a"]);
        });
    });

    describe("gpu stack", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram(readStackSettings("gpu"), "gpu");
        });

        it("adds the NVIDIA GPU Operator and GPU mounts on the Kind worker", () => {
            assert.ok(types(run).has("hyperscaler:gpu:GpuOperator"));
            const release = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "gpu-operator");
            assert.ok(release, "gpu-operator Helm release");
            assert.match(release.inputs.version, /^v\d+\.\d+\.\d+$/);
            assert.ok(release.inputs.repositoryOpts.repo);
            assert.match(
                run.get("pulumi-nodejs:dynamic:Resource", "lab").inputs.configYaml,
                /nvidia-container-devices/,
            );
        });

        it("offers one GPU per Slurm compute node", () => {
            const compute = run.get("kubernetes:apps/v1:StatefulSet", "slurm-compute").inputs.spec.template.spec
                .containers[0];
            assert.equal(compute.resources.limits["nvidia.com/gpu"], "1");
            assert.match(
                run.get("kubernetes:core/v1:ConfigMap", "slurm-slurm-config").inputs.data["gres.conf"],
                /Name=gpu Count=1/,
            );
        });

        it("gives every Kubernetes object a valid schema and keeps secrets out of plaintext", () =>
            assertSafeAndValid(run));

        it("leaves RuntimeClass nvidia to the GPU operator: Pulumi registers none, so it has one owner", () => {
            // gpu-operator v26.7.0 creates `nvidia` in its first state (pre-requisites, before any of its pods) and
            // updates an existing one with a controller ownerReference to its ClusterPolicy
            // (controllers/object_controls.go, transformRuntimeClass): a second owner's copy would be taken over
            // and garbage-collected with the operator.
            assert.deepEqual(run.ofType("kubernetes:node.k8s.io/v1:RuntimeClass"), []);
            const release = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "gpu-operator");
            assert.equal(release!.inputs.values.operator.runtimeClass, "nvidia");
            // With cdi.nriPluginEnabled the operator skips that state and deletes nvidia (clearRuntimeClasses).
            assert.notEqual(release!.inputs.values.cdi.nriPluginEnabled, true);
        });

        it("hands the node setup the Kind cluster's identity, so a cluster made anew is prepared again", () => {
            const setup = run.get("pulumi-nodejs:dynamic:Resource", "gpu-nodes-nodes");
            assert.match(setup.inputs.clusterIdentity, /^[0-9a-f]{16}$/);
        });
    });

    it("has the node setup register RuntimeClass nvidia on a GPU Kind stack without the GPU operator", async () => {
        const run = await runProgram({
            cluster: { type: "kind", workers: 1, gpuWorkers: 1 },
            slurm: { mode: "none" },
        });
        const classes = run.ofType("kubernetes:node.k8s.io/v1:RuntimeClass");
        assert.deepEqual(
            classes.map((r) => [r.name, r.inputs.metadata.name, r.inputs.handler]),
            [["gpu-nodes-runtime-class", "nvidia", "nvidia"]],
        );
    });

    it("targets an existing cluster without creating Kind", async () => {
        const run = await runProgram({ cluster: { type: "existing", context: "prod" }, slurm: { mode: "none" } });
        assert.ok(types(run).has("hyperscaler:cluster:ExistingCluster"));
        assert.ok(!types(run).has("pulumi-nodejs:dynamic:Resource"));
        assert.equal(run.get("pulumi:providers:kubernetes", "lab").inputs.context, "prod");
        assert.ok(!types(run).has("hyperscaler:slurm:StaticSlurm"));
        assert.equal(run.outputs.clusterName, "prod");
    });

    it("deploys Slinky instead of the static stack when slurm.mode is slinky", async () => {
        const run = await runProgram({ cluster: { type: "existing" }, slurm: { mode: "slinky" } });
        assert.ok(types(run).has("hyperscaler:slurm:SlinkySlurm"));
        // cert-manager through the @pulumi/kubernetes-cert-manager component, a remote component under the mocks.
        assert.equal(
            run.get("kubernetes-cert-manager:index:CertManager", "slurm-cert-manager").inputs.helmOptions.chart,
            "cert-manager",
        );
        assert.ok(!types(run).has("hyperscaler:slurm:StaticSlurm"));
        assertSafeAndValid(run);
    });

    it("stops on a bad setting before creating anything, naming it", async () => {
        const { error, resources } = await runProgramExpectingError({
            slurm: { compute: { replicas: -1 } },
            cluster: { type: "kind", workers: 1, gpuWorkers: 3 },
        });
        assert.match(error.message, /slurm\.compute\.replicas = -1: must be a whole number from 0 to 100000/);
        assert.deepEqual(resources, []);
    });

    it("refuses bad users (a root uid, a key that is not one) before creating anything", async () => {
        const { error, resources } = await runProgramExpectingError({
            slurm: {
                users: [
                    { name: "alice", uid: 0 },
                    { name: "bob", uid: 1002, sshAuthorizedKeys: ["ssh-ed25519 bm90IGEga2V5"] },
                ],
            },
        });
        assert.match(error.message, /slurm\.users\[0\]\.uid = 0: must be a whole number from 1000 to 60000/);
        assert.match(error.message, /slurm\.users\[1\]\.sshAuthorizedKeys\[0\] = "ssh-ed25519 bm90IGEga2V5"/);
        assert.deepEqual(resources, []);
    });

    it("refuses a setting it does not know, before creating anything", async () => {
        const { error, resources } = await runProgramExpectingError({ slurmm: { mode: "static" } });
        assert.match(error.message, /slurmm: unknown setting; allowed here: cluster, slurm, gpuOperator, vcluster/);
        assert.deepEqual(resources, []);
    });

    it("refuses a structured setting set as plain text", async () => {
        const { error, resources } = await runProgramExpectingError({ slurm: "static" });
        assert.match(
            error.message,
            /slurm = "static": must be an object; set its fields with `pulumi config set --path slurm.<field> <value>`/,
        );
        assert.deepEqual(resources, []);
    });
});

describe("the program with cluster.engine podman and local images (under mocks)", () => {
    const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
    const imageOf = (run: ProgramRun, statefulSet: string) =>
        run.get("kubernetes:apps/v1:StatefulSet", statefulSet).inputs.spec.template.spec.containers[0].image;

    it("runs kind on Podman and loads the localhost/ Slurm and MariaDB images, which the pods ask for by that name", async () => {
        const run = await runProgram({
            cluster: { engine: "podman" },
            slurm: { mariadbImage: "localhost/mariadb:11.8" },
        });
        const kind = run.get(DYNAMIC, "lab");
        assert.equal(kind.inputs.engine, "podman");
        const slurmImage = `localhost/${defaultSlurmImage()}`;
        assert.deepEqual(kind.inputs.images, [slurmImage, "localhost/mariadb:11.8"]);
        assert.equal(imageOf(run, "slurm-slurmctld"), slurmImage);
        assert.equal(imageOf(run, "slurm-mariadb"), "localhost/mariadb:11.8");
    });

    it("lets the nodes pull a mirror's MariaDB image rather than loading it", async () => {
        const run = await runProgram({ slurm: { mariadbImage: "registry.example/library/mariadb:11.8" } });
        assert.equal(run.get(DYNAMIC, "lab").inputs.engine, "docker");
        assert.deepEqual(run.get(DYNAMIC, "lab").inputs.images, [defaultSlurmImage()]);
        assert.equal(imageOf(run, "slurm-mariadb"), "registry.example/library/mariadb:11.8");
    });
});
