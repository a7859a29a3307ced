import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    DEFAULT_GPU_OPERATOR_CHART_VERSION,
    GPU_OPERATOR_CHART_REPO,
    GpuOperator,
    KIND_GPU_OPERATOR_SETTINGS,
    gpuOperatorValues,
} from "../../components/GpuOperator";
import { leafPaths, loadChartYaml, unknownValueKeys } from "./chartValues";
import { MockEngine, installMocks, kinds, settle, valueOf } from "../../evaluation/mocks";

const UPSTREAM_VALUES = "gpu-operator-v26.7.0.values.yaml";

describe("gpuOperatorValues", () => {
    it("on Kind are NVIDIA's Kind test values: driver, toolkit and DCGM exporter off, NFD and CDI on", () => {
        assert.deepEqual(gpuOperatorValues(KIND_GPU_OPERATOR_SETTINGS), {
            driver: { enabled: false },
            toolkit: { enabled: false },
            dcgmExporter: { enabled: false },
            nfd: { enabled: true },
            cdi: { enabled: true },
            operator: { runtimeClass: "nvidia" },
        });
    });

    it("lets the operator install driver and toolkit, and keeps the DCGM exporter, when driverEnabled is true", () => {
        const values = gpuOperatorValues({ driverEnabled: true });
        assert.equal(values.driver.enabled, true);
        assert.equal(values.toolkit.enabled, true);
        assert.equal(values.dcgmExporter.enabled, true);
    });

    it("takes toolkitEnabled and dcgmExporterEnabled over the defaults when given", () => {
        assert.equal(gpuOperatorValues({ driverEnabled: false, toolkitEnabled: true }).toolkit.enabled, true);
        assert.equal(gpuOperatorValues({ driverEnabled: true, toolkitEnabled: false }).toolkit.enabled, false);
        assert.equal(gpuOperatorValues({ driverEnabled: false }).dcgmExporter.enabled, true);
        assert.equal(
            gpuOperatorValues({ driverEnabled: true, dcgmExporterEnabled: false }).dcgmExporter.enabled,
            false,
        );
    });

    it("sets only keys that exist in the chart's values.yaml, with the types the chart has there", function () {
        const upstream = loadChartYaml(UPSTREAM_VALUES) as Record<string, Record<string, unknown>>;
        const values = gpuOperatorValues(KIND_GPU_OPERATOR_SETTINGS);
        assert.deepEqual(unknownValueKeys(values, upstream), []);
        const paths = leafPaths(values).sort();
        assert.deepEqual(paths, [
            "cdi.enabled",
            "dcgmExporter.enabled",
            "driver.enabled",
            "nfd.enabled",
            "operator.runtimeClass",
            "toolkit.enabled",
        ]);
        for (const dotted of paths) {
            const [section, key] = dotted.split(".");
            const ours = (values as unknown as Record<string, Record<string, unknown>>)[section][key];
            assert.equal(typeof ours, typeof upstream[section][key], `${dotted}: chart has ${upstream[section][key]}`);
        }
    });

    it("restates chart defaults (NFD, CDI, RuntimeClass); turns off only what the Kind test does", () => {
        const upstream = loadChartYaml(UPSTREAM_VALUES) as Record<string, Record<string, unknown>>;
        const values = gpuOperatorValues(KIND_GPU_OPERATOR_SETTINGS) as unknown as Record<
            string,
            Record<string, unknown>
        >;
        const differing = leafPaths(values)
            .filter((dotted) => {
                const [section, key] = dotted.split(".");
                return values[section][key] !== upstream[section][key];
            })
            .sort();
        assert.deepEqual(differing, ["dcgmExporter.enabled", "driver.enabled", "toolkit.enabled"]);
    });

    it("the key check itself catches a misspelt key", function () {
        const upstream = loadChartYaml(UPSTREAM_VALUES);
        assert.deepEqual(unknownValueKeys({ driver: { enabeld: true }, tookit: {} }, upstream), [
            "driver.enabeld",
            "tookit",
        ]);
    });
});

describe("GpuOperator", () => {
    let engine: MockEngine;
    before(async () => {
        engine = await installMocks();
    });
    beforeEach(() => engine.reset());

    async function build(args: ConstructorParameters<typeof GpuOperator>[1], opts?: pulumi.ComponentResourceOptions) {
        const component = new GpuOperator("gpu-operator", args, opts);
        await settle();
        return component;
    }

    it("registers the component, a namespace and one Helm release, nothing else", async () => {
        await build({ namespace: "gpu-operator", driverEnabled: false });
        assert.deepEqual(kinds(engine.resources), [
            "hyperscaler:gpu:GpuOperator",
            "kubernetes:core/v1:Namespace",
            "kubernetes:helm.sh/v3:Release",
        ]);
        assert.equal(engine.resources.length, 3);
    });

    it("labels the namespace for privileged pods", async () => {
        await build({ namespace: "gpus", driverEnabled: false });
        const ns = engine.named("kubernetes:core/v1:Namespace", "gpu-operator-namespace");
        assert.equal(ns.inputs.metadata.name, "gpus");
        assert.deepEqual(ns.inputs.metadata.labels, {
            "app.kubernetes.io/part-of": "ai-hyperscaler",
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/audit": "privileged",
            "pod-security.kubernetes.io/warn": "privileged",
        });
    });

    it("installs the pinned gpu-operator chart from NGC into that namespace with the typed values", async () => {
        const component = await build({ namespace: "gpus", driverEnabled: false });
        const release = engine.named("kubernetes:helm.sh/v3:Release", "gpu-operator-release");
        assert.equal(release.inputs.chart, "gpu-operator");
        assert.equal(release.inputs.version, DEFAULT_GPU_OPERATOR_CHART_VERSION);
        assert.equal(release.inputs.version, "v26.7.0");
        assert.deepEqual(release.inputs.repositoryOpts, { repo: GPU_OPERATOR_CHART_REPO });
        assert.equal(GPU_OPERATOR_CHART_REPO, "https://helm.ngc.nvidia.com/nvidia");
        assert.equal(release.inputs.namespace, "gpus");
        assert.notEqual(release.inputs.createNamespace, true);
        assert.deepEqual(release.inputs.values, gpuOperatorValues({ driverEnabled: false }));
        assert.equal(await valueOf(component.namespace), "gpus");
    });

    it("passes driverEnabled and chartVersion through", async () => {
        await build({ namespace: "gpu-operator", driverEnabled: true, chartVersion: "v25.10.1" });
        const release = engine.named("kubernetes:helm.sh/v3:Release", "gpu-operator-release");
        assert.equal(release.inputs.version, "v25.10.1");
        assert.equal(release.inputs.values.driver.enabled, true);
        assert.equal(release.inputs.values.toolkit.enabled, true);
    });

    it("gives its children the Kubernetes provider from its options", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        await build({ namespace: "gpu-operator", driverEnabled: false }, { provider });
        for (const type of ["kubernetes:core/v1:Namespace", "kubernetes:helm.sh/v3:Release"]) {
            const [child] = engine.ofType(type);
            assert.match(
                child.provider ?? "",
                /pulumi:providers:kubernetes::lab::/,
                `${type} should use the provider "lab"`,
            );
        }
    });

    it("rejects a namespace that is not a DNS label, naming the argument and the value", () => {
        assert.throws(
            () => new GpuOperator("bad", { namespace: "GPU_Operator", driverEnabled: false }),
            /GpuOperator "bad" has invalid arguments:\n {2}- namespace = "GPU_Operator": must be a DNS-1123 label/,
        );
    });

    it("rejects a chart version that is not exact", () => {
        assert.throws(
            () => new GpuOperator("bad", { namespace: "gpu-operator", driverEnabled: false, chartVersion: "latest" }),
            /chartVersion = "latest": must be an exact chart version/,
        );
    });

    it("registers nothing when its arguments are bad", async () => {
        assert.throws(() => new GpuOperator("bad", { namespace: "", driverEnabled: false }), /namespace = "":/);
        await settle();
        assert.deepEqual(engine.resources, []);
    });

    it("passes the Kind settings through to the release values", async () => {
        await build({ namespace: "gpu-operator", ...KIND_GPU_OPERATOR_SETTINGS });
        const release = engine.named("kubernetes:helm.sh/v3:Release", "gpu-operator-release");
        assert.deepEqual(release.inputs.values, gpuOperatorValues(KIND_GPU_OPERATOR_SETTINGS));
        assert.equal(release.inputs.values.dcgmExporter.enabled, false);
    });

    it("rejects a dcgmExporterEnabled that is not a boolean", () => {
        assert.throws(
            () =>
                new GpuOperator("bad", {
                    namespace: "gpu-operator",
                    driverEnabled: false,
                    dcgmExporterEnabled: 0 as unknown as boolean,
                }),
            /dcgmExporterEnabled = 0: must be true, false or left out/,
        );
    });

    it("rejects a driverEnabled that is not a boolean", () => {
        assert.throws(
            () => new GpuOperator("bad", { namespace: "gpu-operator", driverEnabled: "yes" as unknown as boolean }),
            /driverEnabled = "yes": must be true or false/,
        );
    });
});
