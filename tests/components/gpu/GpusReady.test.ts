/** GpusReady under Pulumi mocks: the wait resource, its defaults, the kubeconfig kept secret, bad arguments. */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { GpusReady } from "../../../components/gpu/GpusReady";
import { MockEngine, installMocks, settle } from "../../../evaluation/mocks";

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const KUBECONFIG = "apiVersion: v1\nkind: Config\n# fake\n";

describe("GpusReady (Pulumi mocks)", () => {
    let engine: MockEngine;
    before(async () => {
        engine = await installMocks();
    });
    beforeEach(() => engine.reset());

    it("registers the wait with its serialized provider and the defaults: 1 GPU, 600 s, every 5 s", async () => {
        new GpusReady("gpus", {
            kubeconfig: pulumi.secret(KUBECONFIG),
            operatorNamespace: "gpu-operator",
            kindClusterName: "lab",
        });
        await settle();

        assert.deepEqual(engine.resources.map((r) => r.type).sort(), ["hyperscaler:gpu:GpusReady", DYNAMIC]);
        const wait = engine.named(DYNAMIC, "gpus-wait");
        const { __provider, ...inputs } = wait.inputs;
        assert.match(__provider, /exports\.handler/);
        assert.match(__provider, /nvidia\.com\/gpu/);
        assert.deepEqual(inputs, {
            kubeconfig: KUBECONFIG,
            operatorNamespace: "gpu-operator",
            kindClusterName: "lab",
            minGpus: 1,
            timeoutSeconds: 600,
            pollIntervalSeconds: 5,
            kubectlPath: "kubectl",
            dockerPath: "docker",
        });
        assert.deepEqual(wait.secretPaths, ["kubeconfig"], "the kubeconfig travels as a secret");
    });

    it("keeps a plain kubeconfig secret too", async () => {
        new GpusReady("gpus", { kubeconfig: KUBECONFIG, operatorNamespace: "gpu-operator" });
        await settle();
        assert.deepEqual(engine.named(DYNAMIC, "gpus-wait").secretPaths, ["kubeconfig"]);
    });

    it("takes an existing cluster's kubeconfig path and context, and custom bounds", async () => {
        new GpusReady("gpus", {
            kubeconfigPath: "/home/me/.kube/config",
            context: "prod",
            operatorNamespace: "gpus",
            minGpus: 4,
            timeoutSeconds: 1800,
            pollIntervalSeconds: 10,
        });
        await settle();
        const inputs = engine.named(DYNAMIC, "gpus-wait").inputs;
        assert.equal(inputs.kubeconfigPath, "/home/me/.kube/config");
        assert.equal(inputs.context, "prod");
        assert.equal(inputs.kubeconfig, undefined);
        assert.deepEqual([inputs.minGpus, inputs.timeoutSeconds, inputs.pollIntervalSeconds], [4, 1800, 10]);
    });

    it("refuses bad arguments before registering anything, naming each", async () => {
        assert.throws(
            () =>
                new GpusReady("bad", {
                    kubeconfig: KUBECONFIG,
                    kubeconfigPath: "/x",
                    operatorNamespace: "GPU",
                    minGpus: 0,
                    timeoutSeconds: -1,
                    pollIntervalSeconds: 1.5,
                }),
            (e: Error) =>
                e.message.startsWith('GpusReady "bad" has invalid arguments:') &&
                e.message.includes('kubeconfigPath = "/x": must be left out when kubeconfig (the contents) is given') &&
                e.message.includes('operatorNamespace = "GPU": must be a DNS-1123 label') &&
                e.message.includes("minGpus = 0: must be a whole number from 1 to 1024") &&
                e.message.includes("timeoutSeconds = -1: must be a whole number from 0 to 7200") &&
                e.message.includes("pollIntervalSeconds = 1.5: must be a whole number from 0 to 300"),
        );
        await settle();
        assert.deepEqual(engine.resources, []);
    });
});
