import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../config/schema";
import type { SlurmSettings } from "../../config/schema";
import { SlinkySlurm } from "../../components/slinky/SlinkySlurm";
import {
    CERT_MANAGER_CHART_VERSION,
    SLINKY_CHART_REGISTRY,
    certManagerInputs,
    slinkyConnection,
    slinkyOperatorValues,
    slinkySlurmValues,
} from "../../components/slinky/values";
import { leafPaths, loadChartJson, loadChartYaml, unknownValueKeys } from "./chartValues";
import { MockEngine, dependencyRecorder, installMocks, kinds, settle, valueOf } from "./pulumiMocks";

const OPERATOR_VALUES = "slinky-slurm-operator-1.2.1.values.yaml";
const SLURM_VALUES = "slinky-slurm-1.2.1.values.yaml";
const CERT_MANAGER_SCHEMA = "pulumi-kubernetes-cert-manager-0.2.0.schema.json";
/** Map-valued keys of the slurm chart whose entries take the shape of another upstream value. */
const SLURM_TEMPLATES = { nodesets: "nodesetDefaults", loginsets: "loginsetDefaults", partitions: "partitions.all" };

/** Validated `slurm` settings in slinky mode, with the project's defaults for what `raw` leaves out. */
function settings(raw: Record<string, unknown> = {}, gpus = false): SlurmSettings {
    return parseStackConfig({
        cluster: { type: "existing" },
        slurm: { mode: "slinky", ...raw },
        ...(gpus ? { gpuOperator: { enabled: true } } : {}),
    }).slurm;
}

describe("slinkySlurmValues", () => {
    it("maps compute replicas and shape onto the one NodeSet", () => {
        const values = slinkySlurmValues(settings({ compute: { replicas: 5, cpus: 2, memoryMiB: 3000 } }));
        assert.deepEqual(Object.keys(values.nodesets), ["compute"]);
        const compute = values.nodesets.compute;
        assert.equal(compute.replicas, 5);
        assert.deepEqual(compute.slurmd.resources, {
            requests: { cpu: "2", memory: "3000Mi" },
            limits: { cpu: "2", memory: "3000Mi" },
        });
        assert.deepEqual(compute.extraConfMap, { CPUs: "2", RealMemory: "3000" });
        assert.equal(compute.oversubscribeNode, true);
        assert.deepEqual(values.configFiles, {});
    });

    it("asks for GPUs through the device plugin and declares them as GRES", () => {
        const values = slinkySlurmValues(settings({ compute: { gpus: 2 } }, true));
        const compute = values.nodesets.compute;
        assert.equal(compute.slurmd.resources.limits["nvidia.com/gpu"], "2");
        assert.equal(compute.slurmd.resources.requests["nvidia.com/gpu"], undefined);
        assert.deepEqual(compute.extraConfMap.Gres, ["gpu:2"]);
        assert.equal(values.configFiles["gres.conf"], "AutoDetect=nvidia\n");
    });

    it("turns each partition into a partition over the compute NodeSet", () => {
        const values = slinkySlurmValues(
            settings({ partitions: [{ name: "batch" }, { name: "debug", default: true, maxTimeMinutes: 30 }] }),
        );
        assert.deepEqual(values.partitions, {
            batch: { enabled: true, nodesets: ["compute"], configMap: { Default: "NO", MaxTime: "UNLIMITED" } },
            debug: { enabled: true, nodesets: ["compute"], configMap: { Default: "YES", MaxTime: "30" } },
        });
    });

    it("makes the first partition the default when none is named", () => {
        const values = slinkySlurmValues(settings());
        assert.deepEqual(Object.keys(values.partitions), ["batch"]);
        assert.equal(values.partitions.batch.configMap.Default, "YES");
    });

    it("sets the cluster name, the state volume and a ClusterIP login", () => {
        const values = slinkySlurmValues(settings({ clusterName: "hpc", storage: { stateSizeGiB: 3, storageClassName: "fast" } }));
        assert.equal(values.clusterName, "hpc");
        assert.deepEqual(values.controller.persistence, { storageClassName: "fast", resources: { requests: { storage: "3Gi" } } });
        assert.deepEqual(values.loginsets, { slinky: { enabled: true, service: { spec: { type: "ClusterIP" } } } });
        assert.equal("storageClassName" in slinkySlurmValues(settings()).controller.persistence, false);
    });

    it("sets only keys that exist in the slurm chart's values.yaml", function () {
        const upstream = loadChartYaml(SLURM_VALUES);
        const values = slinkySlurmValues(
            settings({ compute: { gpus: 1 }, partitions: [{ name: "batch" }, { name: "gpu", maxTimeMinutes: 60 }], storage: { storageClassName: "standard" } }, true),
        );
        assert.deepEqual(unknownValueKeys(values, upstream, SLURM_TEMPLATES), []);
        assert.ok(leafPaths(values).includes("nodesets.compute.replicas"));
        // The check can fail: a key the NodeSet shape does not have, and one the chart does not have at all.
        assert.deepEqual(
            unknownValueKeys({ nodesets: { compute: { replica: 1 } }, nodeset: {} }, upstream, SLURM_TEMPLATES),
            ["nodesets.compute.replica", "nodeset"],
        );
    });
});

describe("slinkyOperatorValues", () => {
    it("keeps the CRDs out of the operator release and uses cert-manager", () => {
        assert.deepEqual(slinkyOperatorValues(), { crds: { enabled: false }, certManager: { enabled: true } });
    });

    it("sets only keys that exist in the slurm-operator chart's values.yaml", function () {
        const upstream = loadChartYaml(OPERATOR_VALUES);
        assert.deepEqual(unknownValueKeys(slinkyOperatorValues(), upstream), []);
        assert.deepEqual(unknownValueKeys({ certmanager: { enabled: true } }, upstream), ["certmanager"]);
    });
});

describe("certManagerInputs", () => {
    it("installs the CRDs and pins the chart in the cert-manager namespace", () => {
        assert.deepEqual(certManagerInputs(), {
            installCRDs: true,
            helmOptions: { name: "cert-manager", namespace: "cert-manager", createNamespace: true, version: CERT_MANAGER_CHART_VERSION },
        });
    });

    it("uses only inputs the component's schema declares", function () {
        const schema = loadChartJson(CERT_MANAGER_SCHEMA) as any;
        const inputs = certManagerInputs();
        const declared = schema.resources["kubernetes-cert-manager:index:CertManager"].inputProperties;
        assert.deepEqual(Object.keys(inputs).filter((k) => !(k in declared)), []);
        assert.equal(declared.installCRDs.type, "boolean");
        const release = schema.types["kubernetes-cert-manager:index:Release"].properties;
        assert.deepEqual(Object.keys(inputs.helmOptions).filter((k) => !(k in release)), []);
    });
});

describe("slinkyConnection", () => {
    it("points at Slinky's controller service and login deployment, and names Secrets only", () => {
        const info = slinkyConnection({ namespace: "hpc" });
        assert.equal(info.namespace, "hpc");
        assert.equal(info.controllerAddress, "slurm-controller.hpc.svc.cluster.local:6817");
        assert.equal(info.commands.sinfo, "kubectl --namespace hpc exec deployment/slurm-login-slinky -- sinfo");
        assert.deepEqual(info.secretNames, ["slurm-auth-slurm", "slurm-auth-jwt"]);
    });
});

describe("SlinkySlurm", () => {
    let engine: MockEngine;
    before(async () => {
        engine = await installMocks();
    });
    beforeEach(() => engine.reset());

    async function build(args: SlurmSettings, opts?: pulumi.ComponentResourceOptions) {
        const component = new SlinkySlurm("slurm", args, opts);
        await settle();
        return component;
    }
    const release = (name: string) => engine.named("kubernetes:helm.sh/v3:Release", name);

    it("registers cert-manager, two namespaces and three Helm releases, nothing else", async () => {
        await build(settings());
        assert.deepEqual(kinds(engine.resources), [
            "hyperscaler:slurm:SlinkySlurm",
            "kubernetes-cert-manager:index:CertManager",
            "kubernetes:core/v1:Namespace",
            "kubernetes:helm.sh/v3:Release",
        ]);
        assert.equal(engine.ofType("kubernetes:core/v1:Namespace").length, 2);
        assert.deepEqual(engine.ofType("kubernetes:helm.sh/v3:Release").map((r) => r.name).sort(), [
            "slurm-operator",
            "slurm-operator-crds",
            "slurm-slurm",
        ]);
        assert.equal(engine.resources.length, 7);
    });

    it("registers the cert-manager component with its inputs", async () => {
        await build(settings());
        const certManager = engine.named("kubernetes-cert-manager:index:CertManager", "slurm-cert-manager");
        assert.equal(certManager.inputs.installCRDs, true);
        assert.deepEqual(certManager.inputs.helmOptions, certManagerInputs().helmOptions);
    });

    it("pins every Slinky chart to 1.2.1 from Slinky's OCI registry", async () => {
        await build(settings());
        const expected: Record<string, { chart: string; name: string; namespace: string }> = {
            "slurm-operator-crds": { chart: "slurm-operator-crds", name: "slurm-operator-crds", namespace: "slinky" },
            "slurm-operator": { chart: "slurm-operator", name: "slurm-operator", namespace: "slinky" },
            "slurm-slurm": { chart: "slurm", name: "slurm", namespace: "slurm" },
        };
        for (const [resource, want] of Object.entries(expected)) {
            const r = release(resource);
            assert.equal(r.inputs.chart, `oci://ghcr.io/slinkyproject/charts/${want.chart}`, resource);
            assert.ok(r.inputs.chart.startsWith(`${SLINKY_CHART_REGISTRY}/`), resource);
            assert.equal(r.inputs.version, "1.2.1", resource);
            assert.equal(r.inputs.name, want.name, resource);
            assert.equal(r.inputs.namespace, want.namespace, resource);
        }
        assert.deepEqual(release("slurm-operator").inputs.values, slinkyOperatorValues());
    });

    it("installs the slurm chart into args.namespace, with nodeset replicas following compute.replicas", async () => {
        const args = settings({ namespace: "hpc", compute: { replicas: 6, cpus: 4, memoryMiB: 8192 } });
        await build(args);
        const slurm = release("slurm-slurm");
        assert.equal(slurm.inputs.namespace, "hpc");
        assert.equal(slurm.inputs.values.nodesets.compute.replicas, 6);
        assert.deepEqual(slurm.inputs.values, slinkySlurmValues(args));
        const namespaces = engine.ofType("kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name).sort();
        assert.deepEqual(namespaces, ["hpc", "slinky"]);
    });

    it("labels the Slurm namespace for privileged slurmd pods", async () => {
        await build(settings());
        const ns = engine.named("kubernetes:core/v1:Namespace", "slurm-namespace");
        assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
    });

    it("orders operator after cert-manager and the CRDs, and the slurm chart after the operator", async () => {
        const deps = dependencyRecorder();
        await build(settings(), { transformations: [deps.transformation] });
        assert.deepEqual(deps.dependsOn("slurm-operator"), ["slurm-cert-manager", "slurm-operator-crds"]);
        assert.deepEqual(deps.dependsOn("slurm-slurm"), ["slurm-operator", "slurm-operator-crds"]);
        assert.deepEqual(deps.dependsOn("slurm-operator-crds"), []);
        assert.deepEqual(deps.dependsOn("slurm-cert-manager"), []);
    });

    it("exposes the connection: namespace, controller address, sinfo through the login pod, Secret names", async () => {
        const slurm = await build(settings({ namespace: "hpc" }));
        assert.deepEqual(await valueOf(slurm.connection), slinkyConnection({ namespace: "hpc" }));
    });

    it("gives its children the Kubernetes provider from its options", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        await build(settings(), { provider });
        for (const r of [...engine.ofType("kubernetes:core/v1:Namespace"), ...engine.ofType("kubernetes:helm.sh/v3:Release")]) {
            assert.match(r.provider ?? "", /pulumi:providers:kubernetes::lab::/, `${r.type} ${r.name} should use the provider "lab"`);
        }
    });

    it("hands its Kubernetes provider to the remote cert-manager component explicitly", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        const deps = dependencyRecorder();
        await build(settings(), { provider, transformations: [deps.transformation] });
        // The SDK may have turned the list into a map by package by the time transformations see it.
        const providers = (deps.options("slurm-cert-manager") as pulumi.ComponentResourceOptions).providers ?? [];
        assert.ok(Object.values(providers).includes(provider), "CertManager should get providers: [lab]");
    });

    it("rejects settings for another mode", () => {
        assert.throws(() => new SlinkySlurm("s", { ...settings(), mode: "static" }), /SlinkySlurm s: args\.mode = "static": must be "slinky"/);
    });

    it("rejects a namespace the operator or cert-manager uses", () => {
        assert.throws(() => new SlinkySlurm("s", settings({ namespace: "slinky" })), /args\.namespace = "slinky": is used by the Slinky operator/);
    });

    it("rejects a fractional replica count, naming the setting", () => {
        const bad = { ...settings(), compute: { ...settings().compute, replicas: 1.5 } };
        assert.throws(() => new SlinkySlurm("s", bad), /args\.compute\.replicas = 1\.5: must be a whole number >= 0/);
    });

    it("registers nothing when its arguments are bad", async () => {
        assert.throws(() => new SlinkySlurm("s", { ...settings(), partitions: [] }), /args\.partitions = \[\]: must list at least one partition/);
        await settle();
        assert.deepEqual(engine.resources, []);
    });
});
