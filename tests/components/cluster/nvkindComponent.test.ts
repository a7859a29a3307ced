/**
 * GpuNodeSetup under Pulumi mocks: what it registers (the serialized node setup provider and the RuntimeClass
 * `nvidia`), in which order, on which provider; and bad arguments refused before anything is registered.
 */
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GpuNodeSetup } from "../../../components/cluster/GpuNodeSetup";
import { MockEngine, dependencyRecorder, installMocks, settle, valueOf } from "../../../evaluation/mocks";

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const RUNTIME_CLASS = "kubernetes:node.k8s.io/v1:RuntimeClass";

describe("GpuNodeSetup (Pulumi mocks)", () => {
    let engine: MockEngine;
    before(async () => {
        engine = await installMocks();
    });
    beforeEach(() => engine.reset());

    it("registers the node setup with its serialized provider, then the RuntimeClass nvidia after it", async () => {
        const deps = dependencyRecorder();
        const setup = new GpuNodeSetup(
            "gpu-nodes",
            { clusterName: "lab", gpuWorkers: 1 },
            { transformations: [deps.transformation] },
        );
        await settle();

        assert.deepEqual(
            engine.resources.map((r) => r.type).sort(),
            [DYNAMIC, "hyperscaler:cluster:GpuNodeSetup", RUNTIME_CLASS].sort(),
        );
        const { __provider, ...inputs } = engine.named(DYNAMIC, "gpu-nodes-nodes").inputs;
        assert.deepEqual(inputs, { clusterName: "lab", gpuWorkers: 1, dockerPath: "docker" });
        assert.match(__provider, /exports\.handler/);
        assert.match(__provider, /nvidia-ctk/, "the serialized provider carries the setup's commands");

        const runtimeClass = engine.named(RUNTIME_CLASS, "gpu-nodes-runtime-class");
        assert.deepEqual(runtimeClass.inputs.metadata, { name: "nvidia" });
        assert.equal(runtimeClass.inputs.handler, "nvidia");
        assert.deepEqual(deps.dependsOn("gpu-nodes-runtime-class"), ["gpu-nodes-nodes"]);
        // Left in the cluster when dropped from the program (the GPU operator turned on adopts it).
        assert.equal(deps.options("gpu-nodes-runtime-class").retainOnDelete, true);
        assert.equal(await valueOf(setup.runtimeClassName), "nvidia");
    });

    it("takes the cluster name and identity from outputs (the KindCluster's) and passes dockerPath through", async () => {
        new GpuNodeSetup("gpu-nodes", {
            clusterName: pulumi.output("lab2"),
            gpuWorkers: 3,
            dockerPath: "/usr/local/bin/docker",
            clusterIdentity: pulumi.output("0123456789abcdef"),
        });
        await settle();
        const { clusterName, gpuWorkers, dockerPath, clusterIdentity } = engine.named(
            DYNAMIC,
            "gpu-nodes-nodes",
        ).inputs;
        assert.deepEqual(
            { clusterName, gpuWorkers, dockerPath, clusterIdentity },
            {
                clusterName: "lab2",
                gpuWorkers: 3,
                dockerPath: "/usr/local/bin/docker",
                clusterIdentity: "0123456789abcdef",
            },
        );
    });

    it("registers no RuntimeClass when the GPU operator owns it (createRuntimeClass false), naming it all the same", async () => {
        const setup = new GpuNodeSetup("gpu-nodes", { clusterName: "lab", gpuWorkers: 1, createRuntimeClass: false });
        await settle();
        assert.deepEqual(engine.ofType(RUNTIME_CLASS), []);
        assert.equal(engine.ofType(DYNAMIC).length, 1, "the node setup itself still runs");
        assert.equal(await valueOf(setup.runtimeClassName), "nvidia");
    });

    it("puts the RuntimeClass on the cluster's Kubernetes provider from its options", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        new GpuNodeSetup("gpu-nodes", { clusterName: "lab", gpuWorkers: 1 }, { provider });
        await settle();
        assert.match(
            engine.named(RUNTIME_CLASS, "gpu-nodes-runtime-class").provider ?? "",
            /pulumi:providers:kubernetes::lab::/,
        );
    });

    it("refuses bad arguments before registering anything, naming each", async () => {
        assert.throws(
            () => new GpuNodeSetup("bad", { clusterName: "Lab_1", gpuWorkers: 0, dockerPath: "" }),
            (e: Error) =>
                e.message.startsWith('GpuNodeSetup "bad" has invalid arguments:') &&
                e.message.includes('clusterName = "Lab_1": must be a DNS-1123 label of at most 32 characters') &&
                e.message.includes("gpuWorkers = 0: must be a whole number from 1 to 100") &&
                e.message.includes('dockerPath = "": must be the docker binary\'s name on PATH or its path'),
        );
        assert.throws(
            () =>
                new GpuNodeSetup("bad2", {
                    clusterName: "lab",
                    gpuWorkers: 1,
                    createRuntimeClass: "no" as unknown as boolean,
                }),
            /createRuntimeClass = "no": must be true, false or left out/,
        );
        await settle();
        assert.deepEqual(engine.resources, []);
    });
});
