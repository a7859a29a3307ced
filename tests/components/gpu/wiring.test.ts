/**
 * The GPU pieces wired as index.ts is meant to wire them on Kind (cluster -> node setup -> operator -> wait), under
 * Pulumi mocks: everything registers, on the cluster's provider, the node setup gets the cluster's identity and
 * leaves RuntimeClass nvidia to the operator, and the wait gets the cluster's kubeconfig secret.
 */
import assert from "node:assert/strict";
import { GpuNodeSetup } from "../../../components/cluster/GpuNodeSetup";
import { KindCluster } from "../../../components/cluster/KindCluster";
import { GpuOperator, KIND_GPU_OPERATOR_SETTINGS } from "../../../components/GpuOperator";
import { GpusReady } from "../../../components/gpu/GpusReady";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";
import { MockEngine, installMocks, settle, valueOf } from "../../../evaluation/mocks";

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";

describe("GPU wiring on Kind (Pulumi mocks)", () => {
    let engine: MockEngine;
    before(async () => {
        engine = await installMocks();
    });
    beforeEach(() => engine.reset());

    it("registers cluster, node setup, operator and wait, each where it belongs; the operator owns nvidia", async () => {
        const cluster = new KindCluster("lab", {
            clusterName: "lab",
            workers: 2,
            gpuWorkers: 1,
            nodeImage: DEFAULT_KIND_NODE_IMAGE,
            portMappings: [],
        });
        const gpuNodes = new GpuNodeSetup(
            "gpu-nodes",
            {
                clusterName: cluster.clusterName,
                gpuWorkers: 1,
                clusterIdentity: cluster.identity,
                createRuntimeClass: false,
            },
            { provider: cluster.provider, dependsOn: [cluster] },
        );
        const operator = new GpuOperator(
            "gpu-operator",
            { namespace: "gpu-operator", ...KIND_GPU_OPERATOR_SETTINGS },
            { provider: cluster.provider, dependsOn: [gpuNodes] },
        );
        new GpusReady(
            "gpus",
            {
                kubeconfig: cluster.kubeconfig,
                operatorNamespace: operator.namespace,
                kindClusterName: cluster.clusterName,
            },
            { dependsOn: [operator] },
        );
        await settle();

        const dynamic = engine.ofType(DYNAMIC).map((r) => r.name);
        assert.deepEqual(dynamic.sort(), ["gpu-nodes-nodes", "gpus-wait", "lab"]);
        assert.equal(engine.named(DYNAMIC, "gpu-nodes-nodes").inputs.clusterName, "lab");
        assert.equal(engine.named(DYNAMIC, "gpu-nodes-nodes").inputs.clusterIdentity, await valueOf(cluster.identity));
        assert.deepEqual(engine.ofType("kubernetes:node.k8s.io/v1:RuntimeClass"), [], "the GPU operator makes nvidia");
        const wait = engine.named(DYNAMIC, "gpus-wait");
        assert.equal(wait.inputs.operatorNamespace, "gpu-operator");
        assert.equal(wait.inputs.kindClusterName, "lab");
        assert.match(wait.inputs.kubeconfig, /kubeconfig of lab/);
        assert.deepEqual(wait.secretPaths, ["kubeconfig"]);
        for (const [type, name] of [["kubernetes:helm.sh/v3:Release", "gpu-operator-release"]]) {
            assert.match(engine.named(type, name).provider ?? "", /pulumi:providers:kubernetes::lab::/, name);
        }
        assert.equal(
            engine.named("kubernetes:helm.sh/v3:Release", "gpu-operator-release").inputs.values.toolkit.enabled,
            false,
        );
    });
});
