import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    DEFAULT_VCLUSTER_CHART_VERSION,
    VCLUSTER_CHART_REPO,
    VirtualCluster,
    kubeconfigSecretRef,
    vclusterValues,
} from "../../components/VirtualCluster";
import { leafPaths, loadChartJson, loadChartYaml, schemaProblems, unknownValueKeys } from "./chartValues";
import { MockEngine, dependencyRecorder, installMocks, kinds, settle, valueOf } from "./pulumiMocks";

const UPSTREAM_VALUES = "vcluster-0.36.1.values.yaml";
const UPSTREAM_SCHEMA = "vcluster-0.36.1.values.schema.json";

const KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: vcluster-team-a, cluster: {server: 'https://localhost:8443'}}]",
    "contexts: [{name: vcluster-team-a, context: {cluster: vcluster-team-a, user: vcluster-team-a}}]",
    "current-context: vcluster-team-a",
    "users: [{name: vcluster-team-a, user: {client-key-data: c2VjcmV0}}]",
    "",
].join("\n");

describe("vclusterValues", () => {
    it("names the exported kubeconfig context after the tenant and changes nothing else", () => {
        assert.deepEqual(vclusterValues({ tenantName: "team-a" }), { exportKubeConfig: { context: "vcluster-team-a" } });
    });

    it("sets only keys that exist in the chart's values.yaml", function () {
        const upstream = loadChartYaml(UPSTREAM_VALUES);
        const values = vclusterValues({ tenantName: "team-a" });
        assert.deepEqual(unknownValueKeys(values, upstream), []);
        assert.deepEqual(leafPaths(values), ["exportKubeConfig.context"]);
    });

    it("validates against the chart's values.schema.json", function () {
        const schema = loadChartJson(UPSTREAM_SCHEMA) as Record<string, unknown>;
        assert.deepEqual(schemaProblems(vclusterValues({ tenantName: "team-a" }), schema), []);
        // The schema is strict (additionalProperties: false), so the check can fail:
        assert.deepEqual(schemaProblems({ exportKubeConfig: { contxt: "x" } }, schema), ["exportKubeConfig.contxt: not allowed by the schema"]);
        assert.deepEqual(schemaProblems({ exportKubeConfig: { context: 1 } }, schema), ['exportKubeConfig.context: expected string, got 1']);
    });

    it("hands the kubeconfig Secret name vCluster exports, vc-<name>, and its key", () => {
        assert.deepEqual(kubeconfigSecretRef("team-a"), { name: "vc-team-a", key: "config" });
    });
});

describe("VirtualCluster", () => {
    let engine: MockEngine;
    before(async () => {
        engine = await installMocks();
    });
    beforeEach(() => {
        engine.reset();
        engine.reads.set("kubernetes:core/v1:Secret vcluster-team-a/vc-team-a", {
            data: { config: Buffer.from(KUBECONFIG).toString("base64") },
        });
    });

    async function build(args: ConstructorParameters<typeof VirtualCluster>[1], opts?: pulumi.ComponentResourceOptions) {
        const component = new VirtualCluster(args.tenantName, args, opts);
        await settle();
        return component;
    }

    it("registers the component, a namespace, one Helm release and reads one Secret, nothing else", async () => {
        await build({ tenantName: "team-a" });
        assert.deepEqual(kinds(engine.resources), [
            "hyperscaler:tenancy:VirtualCluster",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Secret",
            "kubernetes:helm.sh/v3:Release",
        ]);
        assert.equal(engine.resources.length, 4);
    });

    it("puts the tenant in the namespace vcluster-<tenant>", async () => {
        const tenant = await build({ tenantName: "team-a" });
        const ns = engine.named("kubernetes:core/v1:Namespace", "team-a-namespace");
        assert.equal(ns.inputs.metadata.name, "vcluster-team-a");
        assert.equal(ns.inputs.metadata.labels["hyperscaler/tenant"], "team-a");
        assert.equal(await valueOf(tenant.namespace), "vcluster-team-a");
        assert.equal(tenant.tenantName, "team-a");
    });

    it("installs the pinned vcluster chart from charts.loft.sh, named after the tenant", async () => {
        await build({ tenantName: "team-a" });
        const release = engine.named("kubernetes:helm.sh/v3:Release", "team-a-release");
        assert.equal(release.inputs.chart, "vcluster");
        assert.equal(release.inputs.version, DEFAULT_VCLUSTER_CHART_VERSION);
        assert.equal(release.inputs.version, "0.36.1");
        assert.deepEqual(release.inputs.repositoryOpts, { repo: VCLUSTER_CHART_REPO });
        assert.equal(VCLUSTER_CHART_REPO, "https://charts.loft.sh");
        assert.equal(release.inputs.name, "team-a");
        assert.equal(release.inputs.namespace, "vcluster-team-a");
        assert.deepEqual(release.inputs.values, vclusterValues({ tenantName: "team-a" }));
    });

    it("honours chartVersion", async () => {
        await build({ tenantName: "team-a", chartVersion: "0.30.0" });
        assert.equal(engine.named("kubernetes:helm.sh/v3:Release", "team-a-release").inputs.version, "0.30.0");
    });

    it("reads the kubeconfig from the Secret vc-<release> in the tenant namespace and marks it secret", async () => {
        const tenant = await build({ tenantName: "team-a" });
        const [read] = engine.ofType("kubernetes:core/v1:Secret");
        assert.equal(read.readId, "vcluster-team-a/vc-team-a");
        assert.equal(await pulumi.isSecret(tenant.kubeconfig), true);
        assert.equal(await valueOf(tenant.kubeconfig), KUBECONFIG);
    });

    it("reads the Secret only after the release, and the release only needs its namespace", async () => {
        const deps = dependencyRecorder();
        await build({ tenantName: "team-a" }, { transformations: [deps.transformation] });
        assert.deepEqual(deps.dependsOn("team-a-kubeconfig"), ["team-a-release"]);
        assert.deepEqual(deps.dependsOn("team-a-release"), []);
    });

    it("gives its children the Kubernetes provider from its options", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        await build({ tenantName: "team-a" }, { provider });
        for (const type of ["kubernetes:core/v1:Namespace", "kubernetes:helm.sh/v3:Release", "kubernetes:core/v1:Secret"]) {
            const [child] = engine.ofType(type);
            assert.match(child.provider ?? "", /pulumi:providers:kubernetes::lab::/, `${type} should use the provider "lab"`);
        }
    });

    it("rejects a tenant name that is not a DNS label, naming the argument and the value", () => {
        assert.throws(() => new VirtualCluster("x", { tenantName: "Team_A" }), /VirtualCluster x: args\.tenantName = "Team_A": must be a DNS-1123 label/);
    });

    it("rejects a tenant name longer than a Helm release name may be", () => {
        assert.throws(() => new VirtualCluster("x", { tenantName: "a".repeat(54) }), /at most 53 characters/);
    });

    it("registers nothing when its arguments are bad", async () => {
        assert.throws(() => new VirtualCluster("x", { tenantName: "team-a", chartVersion: "~0.36" }), /args\.chartVersion = "~0\.36": must be an exact chart version/);
        await settle();
        assert.deepEqual(engine.resources, []);
    });
});
