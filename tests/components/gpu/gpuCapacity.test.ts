/** Reading GPU capacity and device plugin pods from kubectl's JSON, and naming the missing layer (pure). */
import assert from "node:assert/strict";
import { allocatableGpus, diagnose, podStates } from "../../../components/gpu/gpuCapacity";
import { nodeList, podList } from "./kubeObjects";

const GOAL = { minGpus: 1, timeoutSeconds: 600, operatorNamespace: "gpu-operator" };

describe("GPU capacity (pure)", () => {
    it("counts allocatable nvidia.com/gpu per node, leaving out nodes without any", () => {
        const json = JSON.stringify(
            nodeList({ "lab-worker2": "2", "lab-control-plane": undefined, "lab-worker": "1", "lab-worker3": "0" }),
        );
        assert.deepEqual(allocatableGpus(json), [
            { node: "lab-worker", gpus: 1 },
            { node: "lab-worker2", gpus: 2 },
        ]);
        assert.deepEqual(allocatableGpus(JSON.stringify(nodeList({ a: "1k" }))), [], "not a whole count: none");
        assert.throws(
            () => allocatableGpus("error: You must be logged in"),
            /`kubectl get nodes -o json` did not print JSON/,
        );
    });

    it("reads each device plugin pod's node, phase, readiness and the reason it waits", () => {
        const json = JSON.stringify(
            podList([
                { name: "dp-a", node: "lab-worker", phase: "Pending", ready: false, waiting: "ContainerCreating" },
                { name: "dp-b", node: "lab-worker2", phase: "Running", ready: true },
                { name: "dp-c", phase: "Pending", ready: false },
            ]),
        );
        assert.deepEqual(podStates(json), [
            { name: "dp-a", node: "lab-worker", phase: "Pending", ready: false, reason: "ContainerCreating" },
            { name: "dp-b", node: "lab-worker2", phase: "Running", ready: true },
            { name: "dp-c", node: "(unscheduled)", phase: "Pending", ready: false },
        ]);
    });

    describe("diagnose", () => {
        const running = [{ name: "dp-a", node: "lab-worker", phase: "Running", ready: true }];
        const healthy = { node: "lab-worker", nvidiaRuntime: true };

        it("names the host driver first when nvidia-smi fails in a Kind node, with what the host needs", () => {
            const { layer, message } = diagnose(GOAL, {
                kindNodes: [
                    {
                        node: "lab-worker",
                        driverError: 'exec: "nvidia-smi": executable file not found',
                        nvidiaRuntime: false,
                    },
                ],
                devicePluginPods: [],
            });
            assert.equal(layer, "host driver");
            assert.ok(
                message.startsWith(
                    "no node advertised allocatable nvidia.com/gpu (at least 1) within 600 s. " +
                        "Missing layer: host driver: ",
                ),
                message,
            );
            assert.match(
                message,
                /nvidia-smi fails inside lab-worker \(exec: "nvidia-smi": executable file not found\)/,
            );
            assert.match(message, /accept-nvidia-visible-devices-as-volume-mounts = true/);
        });

        it("names the toolkit when the driver works but containerd has no nvidia runtime", () => {
            const { layer, message } = diagnose(GOAL, {
                kindNodes: [healthy, { node: "lab-worker2", nvidiaRuntime: false }],
                devicePluginPods: [],
            });
            assert.equal(layer, "toolkit");
            assert.match(message, /Missing layer: toolkit: containerd on lab-worker2 has no nvidia runtime/);
        });

        it("names the device plugin when its pods are missing or not running, and how to look", () => {
            const none = diagnose(GOAL, { kindNodes: [healthy], devicePluginPods: [] });
            assert.equal(none.layer, "device plugin");
            assert.match(none.message, /no pod labelled app=nvidia-device-plugin-daemonset in namespace gpu-operator/);

            const pending = diagnose(GOAL, {
                devicePluginPods: [
                    { name: "dp-a", node: "lab-worker", phase: "Pending", ready: false, reason: "ContainerCreating" },
                ],
            });
            assert.equal(pending.layer, "device plugin");
            assert.match(pending.message, /pods not running: dp-a on lab-worker: Pending \(ContainerCreating\); see /);
            assert.ok(
                pending.message.includes(
                    "`kubectl -n gpu-operator describe pods -l app=nvidia-device-plugin-daemonset`",
                ),
            );

            const unlisted = diagnose(GOAL, { podsError: "forbidden" });
            assert.match(unlisted.message, /Missing layer: device plugin: its pods could not be listed \(forbidden\)/);
        });

        it("adds that the Kind nodes could not be checked, when Docker did not answer", () => {
            const { layer, message } = diagnose(GOAL, {
                kindNodesError: "Cannot connect to the Docker daemon",
                devicePluginPods: [],
            });
            assert.equal(layer, "device plugin");
            assert.match(message, / \(The Kind nodes could not be checked: Cannot connect to the Docker daemon\)$/);
            assert.doesNotMatch(diagnose(GOAL, { devicePluginPods: [] }).message, /could not be checked/);
        });

        it("blames the API server only when neither nodes nor pods could be read", () => {
            const { layer, message } = diagnose(GOAL, {
                nodesError: "connection refused",
                podsError: "connection refused",
            });
            assert.equal(layer, "API server");
            assert.match(message, /kubectl could not list the nodes: connection refused/);
        });

        it("says what is left when every layer looks fine, and on an existing cluster where to look", () => {
            const kind = diagnose(GOAL, { kindNodes: [healthy], devicePluginPods: running });
            assert.equal(kind.layer, "unknown");
            assert.match(kind.message, /the device plugin runs \(dp-a\) but reports no GPU; see its logs/);
            assert.doesNotMatch(kind.message, /existing cluster/);
            assert.match(
                diagnose(GOAL, { devicePluginPods: running }).message,
                /On an existing cluster, check the driver and the toolkit on the GPU nodes\./,
            );
        });
    });
});
