import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    DEFAULT_VCLUSTER_CHART_VERSION,
    VCLUSTER_CHART_REPO,
    VirtualCluster,
    vclusterValues,
} from "../../../components/tenancy/VirtualCluster";
import { MockEngine, dependencyRecorder, installMocks, kinds, settle, valueOf } from "../../../evaluation/mocks";

const KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: vcluster-team-a, cluster: {server: 'https://127.0.0.1:31443', " +
        "certificate-authority-data: Q0E=}}]",
    "contexts: [{name: vcluster-team-a, context: {cluster: vcluster-team-a, user: vcluster-team-a}}]",
    "current-context: vcluster-team-a",
    "users: [{name: vcluster-team-a, user: {client-key-data: c2VjcmV0}}]",
    "",
].join("\n");
const DYNAMIC = "pulumi-nodejs:dynamic:Resource";

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

    async function build(
        args: ConstructorParameters<typeof VirtualCluster>[1],
        opts?: pulumi.ComponentResourceOptions,
    ) {
        const component = new VirtualCluster(args.tenantName, args, opts);
        await settle();
        return component;
    }

    it("registers the vCluster, the kubeconfig wait and read, Argo CD, its provider and password wait", async () => {
        await build({ tenantName: "team-a" });
        assert.deepEqual(kinds(engine.resources), [
            "hyperscaler:tenancy:VirtualCluster",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Secret",
            "kubernetes:helm.sh/v3:Release",
            "pulumi-nodejs:dynamic:Resource",
            "pulumi:providers:kubernetes",
        ]);
        assert.deepEqual(
            engine
                .ofType(DYNAMIC)
                .map((r) => r.name)
                .sort(),
            ["team-a-argocd-password", "team-a-kubeconfig-wait"],
        );
        assert.deepEqual(
            engine
                .ofType("kubernetes:helm.sh/v3:Release")
                .map((r) => r.name)
                .sort(),
            ["team-a-argocd", "team-a-release"],
        );
        assert.equal(engine.resources.length, 8);
    });

    it("without Argo CD registers no tenant provider, no argo-cd release and no password wait", async () => {
        const tenant = await build({ tenantName: "team-a", argocd: false });
        assert.equal(engine.ofType("pulumi:providers:kubernetes").length, 0);
        assert.deepEqual(
            engine.ofType("kubernetes:helm.sh/v3:Release").map((r) => r.name),
            ["team-a-release"],
        );
        assert.deepEqual(
            engine.ofType(DYNAMIC).map((r) => r.name),
            ["team-a-kubeconfig-wait"],
        );
        assert.equal(tenant.argocd, undefined);
        assert.equal((await valueOf(tenant.access)).commands.argocdUi, undefined);
    });

    it("puts the tenant in the namespace vcluster-<tenant>", async () => {
        const tenant = await build({ tenantName: "team-a" });
        const ns = engine.named("kubernetes:core/v1:Namespace", "team-a-namespace");
        assert.equal(ns.inputs.metadata.name, "vcluster-team-a");
        assert.deepEqual(ns.inputs.metadata.labels, {
            "app.kubernetes.io/part-of": "ai-hyperscaler",
            "hyperscaler/tenant": "team-a",
            // Tenant pods run here: baseline keeps privileged pods and host namespaces out.
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "baseline",
            "pod-security.kubernetes.io/audit": "restricted",
        });
        assert.equal(await valueOf(tenant.namespace), "vcluster-team-a");
        assert.equal(tenant.tenantName, "team-a");
    });

    it("installs the pinned vcluster chart as NodePort 31443 at https://127.0.0.1:31443 by default", async () => {
        const tenant = await build({ tenantName: "team-a" });
        const release = engine.named("kubernetes:helm.sh/v3:Release", "team-a-release");
        assert.equal(release.inputs.chart, "vcluster");
        assert.equal(release.inputs.version, DEFAULT_VCLUSTER_CHART_VERSION);
        assert.deepEqual(release.inputs.repositoryOpts, { repo: VCLUSTER_CHART_REPO });
        assert.equal(release.inputs.name, "team-a");
        assert.equal(release.inputs.namespace, "vcluster-team-a");
        assert.deepEqual(
            release.inputs.values,
            vclusterValues({
                tenantName: "team-a",
                serviceType: "NodePort",
                port: 31443,
                kubeletPort: 30000,
                server: "https://127.0.0.1:31443",
            }),
        );
        assert.equal((await valueOf(tenant.access)).server, "https://127.0.0.1:31443");
    });

    it("passes port, server and service type through to the values", async () => {
        const tenant = await build({
            tenantName: "team-a",
            serviceType: "LoadBalancer",
            port: 31444,
            server: "https://vc.example.com",
        });
        const values = engine.named("kubernetes:helm.sh/v3:Release", "team-a-release").inputs.values;
        assert.deepEqual(values.controlPlane.service, { spec: { type: "LoadBalancer" } });
        assert.deepEqual(values.controlPlane.proxy.extraSANs, ["vc.example.com"]);
        assert.equal(values.exportKubeConfig.server, "https://vc.example.com");
        assert.equal((await valueOf(tenant.access)).server, "https://vc.example.com");
    });

    it("pins the kubelet NodePort: the default for the port's slot, or the one given", async () => {
        await build({ tenantName: "team-a", port: 31445 });
        const service = () =>
            engine.named("kubernetes:helm.sh/v3:Release", "team-a-release").inputs.values.controlPlane.service;
        assert.deepEqual(service(), { spec: { type: "NodePort" }, httpsNodePort: 31445, kubeletNodePort: 30002 });
        engine.reset();
        await build({ tenantName: "team-a", port: 32000, kubeletPort: 30050 });
        assert.equal(service().kubeletNodePort, 30050);
    });

    it("refuses a kubelet port it cannot pin: none for a port past the default slots, or the API's own", async () => {
        assert.throws(
            () => new VirtualCluster("x", { tenantName: "a", port: 32000 }),
            /kubeletPort = \(missing\): must be set for port 32000: the default, 30000 \+ \(port - 31443\), is outside 30000-30085/,
        );
        assert.throws(
            () => new VirtualCluster("x", { tenantName: "a", port: 31443, kubeletPort: 31443 }),
            /kubeletPort = 31443: must differ from port, the API's NodePort/,
        );
        assert.throws(
            () => new VirtualCluster("x", { tenantName: "a", kubeletPort: 80 }),
            /kubeletPort = 80: must be a whole number from 30000 to 32767/,
        );
        // A LoadBalancer Service has no kubelet port, so any API port goes.
        assert.doesNotThrow(
            () =>
                new VirtualCluster("lb", {
                    tenantName: "lb",
                    port: 32000,
                    serviceType: "LoadBalancer",
                    server: "https://lb.example.com",
                }),
        );
        await settle();
    });

    it("honours chartVersion", async () => {
        await build({ tenantName: "team-a", chartVersion: "0.30.0" });
        assert.equal(engine.named("kubernetes:helm.sh/v3:Release", "team-a-release").inputs.version, "0.30.0");
    });

    it("waits for vc-<tenant> with the host kubeconfig (secret), then reads it as a secret", async () => {
        const tenant = await build({
            tenantName: "team-a",
            host: { kubeconfig: "HOST-KUBECONFIG", context: "kind-lab" },
            wait: { timeoutSeconds: 42 },
        });
        const wait = engine.named(DYNAMIC, "team-a-kubeconfig-wait");
        assert.equal(wait.inputs.namespace, "vcluster-team-a");
        assert.equal(wait.inputs.secretName, "vc-team-a");
        assert.equal(wait.inputs.kubeconfig, "HOST-KUBECONFIG");
        assert.ok(wait.secretPaths.includes("kubeconfig"), "the host kubeconfig must travel as a secret");
        assert.equal(wait.inputs.context, "kind-lab");
        assert.equal(wait.inputs.timeoutSeconds, 42);
        assert.match(wait.inputs.hint, /kubectl --namespace vcluster-team-a logs statefulset\/team-a/);
        assert.equal(typeof wait.inputs.__provider, "string", "the provider must have been serialized");
        const [read] = engine.ofType("kubernetes:core/v1:Secret");
        assert.equal(read.readId, "vcluster-team-a/vc-team-a");
        assert.equal(await pulumi.isSecret(tenant.kubeconfig), true);
        assert.equal(await valueOf(tenant.kubeconfig), KUBECONFIG);
    });

    it("ties each wait to what writes its Secret: the namespace's uid, then the kubeconfig Secret's uid", async () => {
        await build({ tenantName: "team-a" });
        const namespaceUid = "team-a-namespace-uid"; // The mocks' uid for the Namespace team-a-namespace.
        assert.equal(engine.named(DYNAMIC, "team-a-kubeconfig-wait").inputs.source, namespaceUid);
        // The mocks' uid for the Secret the kubeconfig wait saw: a new vCluster install writes a new one.
        assert.equal(
            engine.named(DYNAMIC, "team-a-argocd-password").inputs.source,
            "team-a-kubeconfig-wait-secret-uid",
        );
    });

    it("orders release -> wait -> read, and marks the waits' kubeconfig and value outputs secret", async () => {
        const deps = dependencyRecorder();
        await build({ tenantName: "team-a" }, { transformations: [deps.transformation] });
        assert.deepEqual(deps.dependsOn("team-a-release"), []);
        assert.deepEqual(deps.dependsOn("team-a-kubeconfig-wait"), ["team-a-release"]);
        assert.deepEqual(deps.dependsOn("team-a-kubeconfig"), ["team-a-kubeconfig-wait"]);
        assert.deepEqual(deps.dependsOn("team-a-argocd-password"), ["team-a-argocd"]);
        assert.deepEqual(
            (deps.options("team-a-argocd-password") as pulumi.CustomResourceOptions).additionalSecretOutputs,
            ["kubeconfig", "value"],
        );
        assert.deepEqual(
            (deps.options("team-a-kubeconfig-wait") as pulumi.CustomResourceOptions).additionalSecretOutputs,
            ["kubeconfig", "value"],
        );
    });

    it("installs argo-cd 10.1.1 inside the tenant, through a provider built from the tenant kubeconfig", async () => {
        const deps = dependencyRecorder();
        await build({ tenantName: "team-a" }, { transformations: [deps.transformation] });
        const provider = engine.named("pulumi:providers:kubernetes", "team-a-tenant");
        assert.equal(provider.inputs.kubeconfig, KUBECONFIG);
        assert.equal(provider.inputs.deleteUnreachable, undefined, "a tenant still starting must not lose Argo CD");
        assert.ok(provider.secretPaths.includes("kubeconfig"));
        const argocd = engine.named("kubernetes:helm.sh/v3:Release", "team-a-argocd");
        assert.equal(argocd.inputs.chart, "argo-cd");
        assert.equal(argocd.inputs.version, "10.1.1");
        assert.deepEqual(argocd.inputs.repositoryOpts, { repo: "https://argoproj.github.io/argo-helm" });
        assert.equal(argocd.inputs.namespace, "argocd");
        assert.equal(argocd.inputs.createNamespace, true);
        assert.deepEqual(argocd.inputs.values, { fullnameOverride: "argocd", dex: { enabled: false } });
        assert.match(argocd.provider ?? "", /pulumi:providers:kubernetes::team-a-tenant::/);
    });

    it("reads the admin password once from argocd-initial-admin-secret in the tenant, as a secret", async () => {
        const tenant = await build({ tenantName: "team-a" });
        const wait = engine.named(DYNAMIC, "team-a-argocd-password");
        assert.deepEqual(
            { namespace: wait.inputs.namespace, secretName: wait.inputs.secretName, readKey: wait.inputs.readKey },
            { namespace: "argocd", secretName: "argocd-initial-admin-secret", readKey: "password" },
        );
        assert.equal(wait.inputs.kubeconfig, KUBECONFIG, "it polls inside the tenant");
        assert.ok(wait.secretPaths.includes("kubeconfig"));
        assert.equal(await pulumi.isSecret(tenant.argocd!.adminPassword), true);
        assert.equal(tenant.argocd!.namespace, "argocd");
    });

    it("gives the access output ready-to-paste commands and no secret", async () => {
        const tenant = await build({ tenantName: "team-a" });
        assert.equal(await pulumi.isSecret(tenant.access), false);
        const access = await valueOf(tenant.access);
        assert.equal(
            access.commands.argocdUi.split("   #")[0],
            "kubectl --kubeconfig team-a.kubeconfig --namespace argocd port-forward svc/argocd-server 8080:443",
        );
        assert.doesNotMatch(JSON.stringify(access), /c2VjcmV0|client-key/);
    });

    it("gives the host cluster's provider to the vCluster's objects, and the tenant's to Argo CD only", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        await build({ tenantName: "team-a" }, { provider });
        for (const name of ["team-a-namespace", "team-a-release", "team-a-kubeconfig"]) {
            const child = engine.resources.find((r) => r.name === name)!;
            assert.match(
                child.provider ?? "",
                /pulumi:providers:kubernetes::lab::/,
                `${name} should use the provider "lab"`,
            );
        }
        assert.match(
            engine.named("kubernetes:helm.sh/v3:Release", "team-a-argocd").provider ?? "",
            /::team-a-tenant::/,
        );
    });

    it("rejects bad arguments with one message naming each, and registers nothing", async () => {
        assert.throws(
            () =>
                new VirtualCluster("x", {
                    tenantName: "Team_A",
                    port: 8443,
                    server: "http://127.0.0.1:31443",
                    serviceType: "ClusterIP" as "NodePort",
                    chartVersion: "~0.36",
                    argocd: "yes" as unknown as boolean,
                }),
            (error: Error) => {
                assert.match(error.message, /^VirtualCluster "x" has invalid arguments:/);
                assert.match(error.message, /tenantName = "Team_A": must be a DNS-1123 label of at most 53 characters/);
                assert.match(error.message, /port = 8443: must be a whole number from 30000 to 32767/);
                assert.match(error.message, /server = "http:\/\/127\.0\.0\.1:31443": must be an https URL with a host/);
                assert.match(error.message, /serviceType = "ClusterIP": must be one of NodePort, LoadBalancer/);
                assert.match(error.message, /chartVersion = "~0\.36": must be an exact chart version/);
                assert.match(error.message, /argocd = "yes": must be true or false/);
                return true;
            },
        );
        assert.throws(() => new VirtualCluster("x", { tenantName: "a".repeat(54) }), /at most 53 characters/);
        assert.throws(() => new VirtualCluster("x", { tenantName: "a", server: "not a url" }), /server = "not a url"/);
        await settle();
        assert.deepEqual(engine.resources, []);
    });
});
