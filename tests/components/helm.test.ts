import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { chartProblems, namespacedRelease, pinnedRelease, podSecurityNamespace } from "../../components/helm";
import { registeredUrns, underMocks } from "../../evaluation/mocks";
import { runProgram } from "../../evaluation/program";

const GOOD = {
    chart: "gpu-operator",
    version: "v26.7.0",
    repo: "https://helm.ngc.nvidia.com/nvidia",
    releaseName: "gpu-operator",
};

describe("Helm helper", () => {
    describe("chartProblems", () => {
        it("accepts a pinned chart from an https repository, and an oci:// chart without one", () => {
            assert.deepEqual(chartProblems("args", GOOD), []);
            assert.deepEqual(
                chartProblems("args", { chart: "oci://ghcr.io/slinkyproject/charts/slurm", version: "1.2.1" }),
                [],
            );
        });

        it("refuses ranges, a missing or http repository, a repository beside oci://, long release names", () => {
            assert.deepEqual(chartProblems("args", { ...GOOD, version: "^1.2.0" }), [
                'args.version = "^1.2.0": must be an exact chart version such as 1.2.3 or v1.2.3, not a range',
            ]);
            assert.match(
                chartProblems("args", { ...GOOD, repo: undefined }).join(),
                /args\.repo = \(missing\): must be the chart repository's https:\/\/ URL/,
            );
            assert.match(
                chartProblems("args", { ...GOOD, repo: "http://example.com" }).join(),
                /args\.repo = "http:\/\/example\.com"/,
            );
            assert.match(
                chartProblems("args", { chart: "oci://ghcr.io/x/y", version: "1.0.0", repo: "https://x" }).join(),
                /args\.repo = "https:\/\/x": must be absent for an oci:\/\/ chart/,
            );
            assert.match(
                chartProblems("args", { ...GOOD, chart: "" }).join(),
                /args\.chart = "": must be a chart name or an oci:\/\/ reference/,
            );
            assert.match(
                chartProblems("args", { ...GOOD, releaseName: "a".repeat(54) }).join(),
                /args\.releaseName = .*at most 53 characters/,
            );
            assert.deepEqual(chartProblems("args", { ...GOOD, releaseName: "a".repeat(53) }), []);
        });
    });

    it("registers a labelled namespace and a pinned release in it, in that order", async () => {
        const { resources, result, error } = await underMocks(() =>
            namespacedRelease(
                "gpu",
                {
                    ...GOOD,
                    namespace: { name: "gpu-operator", enforce: "privileged" },
                    values: { driver: { enabled: false } },
                    timeoutSeconds: 900,
                },
                {},
            ),
        );
        assert.ifError(error);
        const [namespace, release] = resources;
        assert.equal(namespace.type, "kubernetes:core/v1:Namespace");
        assert.equal(namespace.name, "gpu-namespace");
        assert.deepEqual(namespace.inputs.metadata, {
            name: "gpu-operator",
            labels: {
                "app.kubernetes.io/part-of": "ai-hyperscaler",
                "pod-security.kubernetes.io/enforce": "privileged",
                "pod-security.kubernetes.io/warn": "privileged",
                "pod-security.kubernetes.io/audit": "privileged",
            },
        });
        assert.equal(release.type, "kubernetes:helm.sh/v3:Release");
        assert.equal(release.name, "gpu-release");
        // `compat` is the Kubernetes SDK's own marker on every Release.
        assert.deepEqual(release.inputs, {
            compat: "true",
            name: "gpu-operator",
            chart: "gpu-operator",
            repositoryOpts: { repo: "https://helm.ngc.nvidia.com/nvidia" },
            version: "v26.7.0",
            namespace: "gpu-operator",
            values: { driver: { enabled: false } },
            timeout: 900,
        });
        assert.ok(result!.release instanceof pulumi.CustomResource);
    });

    it("lets Helm create the namespace only when asked, and passes no repository for an oci:// chart", async () => {
        const { resources } = await underMocks(() => {
            pinnedRelease("a", { chart: "oci://ghcr.io/x/y", version: "1.0.0", releaseName: "y", namespace: "x" }, {});
            pinnedRelease("b", { ...GOOD, namespace: "cert-manager", createNamespace: true }, {});
        });
        assert.deepEqual(resources[0].inputs, {
            compat: "true",
            name: "y",
            chart: "oci://ghcr.io/x/y",
            version: "1.0.0",
            namespace: "x",
            values: {},
        });
        assert.equal(resources[1].inputs.createNamespace, true);
    });

    it("refuses a bad chart or namespace name before registering it", async () => {
        const { resources, error } = await underMocks(() =>
            pinnedRelease("r", { ...GOOD, version: "latest", namespace: "x" }, {}),
        );
        assert.match(error?.message ?? "", /pinnedRelease r: r\.version = "latest"/);
        const bad = await underMocks(() => podSecurityNamespace("n", { name: "Not_A_Label", enforce: "baseline" }, {}));
        assert.match(
            bad.error?.message ?? "",
            /podSecurityNamespace n: namespace name = "Not_A_Label": must be a DNS-1123 label/,
        );
        assert.deepEqual([...resources, ...bad.resources], []);
    });
});

describe("components on the Helm helper", () => {
    const PREFIX = "urn:pulumi:test::ai-hyperscaler::hyperscaler:";
    // The URNs the GPU operator and the tenants had before they used the helper: unchanged, so no stack replaces them.
    const URNS_BEFORE_THE_HELPER = [
        "gpu:GpuOperator::gpu-operator",
        "gpu:GpuOperator$kubernetes:core/v1:Namespace::gpu-operator-namespace",
        "gpu:GpuOperator$kubernetes:helm.sh/v3:Release::gpu-operator-release",
        "tenancy:VirtualCluster::team-a",
        "tenancy:VirtualCluster::team-b",
        "tenancy:VirtualCluster$kubernetes:core/v1:Namespace::team-a-namespace",
        "tenancy:VirtualCluster$kubernetes:core/v1:Namespace::team-b-namespace",
        "tenancy:VirtualCluster$kubernetes:core/v1:Secret::team-a-kubeconfig",
        "tenancy:VirtualCluster$kubernetes:core/v1:Secret::team-b-kubeconfig",
        "tenancy:VirtualCluster$kubernetes:helm.sh/v3:Release::team-a-argocd",
        "tenancy:VirtualCluster$kubernetes:helm.sh/v3:Release::team-a-release",
        "tenancy:VirtualCluster$kubernetes:helm.sh/v3:Release::team-b-release",
        "tenancy:VirtualCluster$pulumi-nodejs:dynamic:Resource::team-a-argocd-password",
        "tenancy:VirtualCluster$pulumi-nodejs:dynamic:Resource::team-a-kubeconfig-wait",
        "tenancy:VirtualCluster$pulumi-nodejs:dynamic:Resource::team-b-kubeconfig-wait",
        "tenancy:VirtualCluster$pulumi:providers:kubernetes::team-a-tenant",
    ].map((urn) => PREFIX + urn);

    it("give the GPU operator's and the tenants' resources the URNs they had before", async () => {
        await runProgram({
            cluster: { type: "kind", gpuWorkers: 1 },
            gpuOperator: { enabled: true },
            slurm: { mode: "none" },
            vcluster: { tenants: [{ name: "team-a" }, { name: "team-b", argocd: false }] },
        });
        const urns = registeredUrns().filter((urn) => /hyperscaler:(gpu:GpuOperator|tenancy:VirtualCluster)/.test(urn));
        assert.deepEqual(urns.sort(), [...URNS_BEFORE_THE_HELPER].sort());
    });
});
