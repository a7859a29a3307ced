/**
 * The GPU wait against the fake `kubectl` and `docker` (tests/fakes), with an injected clock: no
 * test sleeps, and each proves how many polls ran and how long the wait would have slept.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Clock, GpuWaitInputs, gpuWaitProvider, waitForGpus } from "../../../components/gpu/gpuWaitProvider";
import { FakeTools, rejection } from "./fakeTools";
import { nodeList, podList } from "./kubeObjects";
import { serializedCopy } from "./serialized";

const KUBECONFIG = "apiVersion: v1\nkind: Config\n# fake kubeconfig of lab\n";
const KIND: GpuWaitInputs = { kubeconfig: KUBECONFIG, operatorNamespace: "gpu-operator", kindClusterName: "lab" };

/** A clock that only moves when the wait sleeps; `slept` lists each sleep in milliseconds. */
function fakeClock(): Clock & { slept: number[] } {
    let now = 1_000_000;
    const slept: number[] = [];
    return { slept, now: () => now, sleep: async (ms) => void (slept.push(ms), (now += ms)) };
}

describe("GPU wait (fake kubectl and docker, injected clock)", () => {
    let tools: FakeTools;
    const polls = () => tools.kubectlCalls().filter((c) => c.includes("nodes")).length;

    beforeEach(() => {
        tools = new FakeTools();
        tools
            .node("lab-control-plane", { role: "control-plane" })
            .node("lab-worker", { role: "worker", gpus: ["all"], prepared: true });
        tools.kubectlAnswer("nodes.json", nodeList({ "lab-control-plane": undefined, "lab-worker": "1" }));
        tools.kubectlAnswer(
            "pods.json",
            podList([{ name: "dp-a", node: "lab-worker", phase: "Running", ready: true }]),
        );
    });
    afterEach(() => tools.restore());

    it("returns at once when a node has a GPU, asking kubectl with a private copy of the kubeconfig", async () => {
        const clock = fakeClock();
        const outs = await waitForGpus(KIND, clock);

        assert.deepEqual(outs.gpuNodes, [{ node: "lab-worker", gpus: 1 }]);
        assert.equal(outs.totalGpus, 1);
        assert.deepEqual(clock.slept, []);
        const [call] = tools.kubectlCalls();
        assert.deepEqual([call[0], ...call.slice(2)], ["--kubeconfig", "get", "nodes", "-o", "json"]);
        assert.equal(tools.kubeconfigSeen().text, KUBECONFIG);
        assert.equal(tools.kubeconfigSeen().mode, "600");
        assert.ok(!fs.existsSync(call[1]), "the kubeconfig copy is removed afterwards");
        assert.deepEqual(tools.dockerCalls(), [], "the nodes are only looked into when the wait fails");
    });

    it("polls until the capacity appears, sleeping the poll interval between looks", async () => {
        tools.kubectlAnswer("nodes.1.json", nodeList({ "lab-worker": undefined }));
        tools.kubectlAnswer("nodes.2.json", nodeList({ "lab-worker": "0" }));
        const clock = fakeClock();
        const outs = await waitForGpus({ ...KIND, pollIntervalSeconds: 7 }, clock);
        assert.equal(outs.totalGpus, 1);
        assert.equal(polls(), 3);
        assert.deepEqual(clock.slept, [7000, 7000]);
    });

    it("waits for minGpus summed over the nodes", async () => {
        tools.kubectlAnswer("nodes.1.json", nodeList({ "lab-worker": "1" }));
        tools.kubectlAnswer("nodes.json", nodeList({ "lab-worker": "1", "lab-worker2": "1" }));
        const outs = await waitForGpus({ ...KIND, minGpus: 2 }, fakeClock());
        assert.equal(outs.totalGpus, 2);
        assert.equal(polls(), 2);
    });

    it("keeps polling through API errors, bounded by the deadline (last sleep cut to what is left)", async () => {
        tools.kubectlDown();
        const clock = fakeClock();
        const error = await rejection(waitForGpus({ ...KIND, timeoutSeconds: 12, pollIntervalSeconds: 5 }, clock));
        assert.deepEqual(clock.slept, [5000, 5000, 2000]);
        assert.equal(polls(), 4);
        assert.match(
            error.message,
            /within 12 s\. Missing layer: API server: kubectl could not list the nodes: The connection to the server/,
        );
    });

    it("takes output that is not JSON as a failed look, and keeps polling", async () => {
        tools.kubectlAnswerText("nodes.1.json", "Unable to connect: EOF");
        const outs = await waitForGpus(KIND, fakeClock());
        assert.equal(outs.totalGpus, 1);
        assert.equal(polls(), 2);
    });

    it("says the Kind nodes could not be checked when Docker is down at the timeout", async () => {
        tools.kubectlAnswer("nodes.json", nodeList({ "lab-worker": undefined }));
        tools.dockerDown();
        const error = await rejection(waitForGpus({ ...KIND, timeoutSeconds: 0 }, fakeClock()));
        assert.match(
            error.message,
            /Missing layer: unknown: .*\(The Kind nodes could not be checked: Cannot connect to the Docker daemon/,
        );
    });

    it("fails at once, without waiting out the timeout, when kubectl is missing", async () => {
        const clock = fakeClock();
        const error = await rejection(waitForGpus({ ...KIND, kubectlPath: "/nowhere/kubectl" }, clock));
        assert.equal(
            error.message,
            "the kubectl CLI is needed to wait for GPUs: /nowhere/kubectl was not found (on PATH, or at that path)",
        );
        assert.deepEqual(clock.slept, []);
    });

    it("with timeoutSeconds 0 looks once and does not sleep", async () => {
        tools.kubectlAnswer("nodes.json", nodeList({ "lab-worker": undefined }));
        const clock = fakeClock();
        await rejection(waitForGpus({ ...KIND, timeoutSeconds: 0 }, clock));
        assert.equal(polls(), 1);
        assert.deepEqual(clock.slept, []);
    });

    describe("on timeout, names the missing layer", () => {
        beforeEach(() => tools.kubectlAnswer("nodes.json", nodeList({ "lab-worker": undefined })));
        const timedOut = async (inputs: GpuWaitInputs = KIND) =>
            (await rejection(waitForGpus({ ...inputs, timeoutSeconds: 10 }, fakeClock()))).message;

        it("host driver: nvidia-smi fails inside the Kind GPU node", async () => {
            tools.restore();
            tools = new FakeTools();
            tools.node("lab-worker", { role: "worker", gpus: ["all"], driver: false });
            tools.kubectlAnswer("nodes.json", nodeList({ "lab-worker": undefined }));
            tools.kubectlAnswer("pods.json", podList([]));
            const message = await timedOut();
            assert.match(
                message,
                /^no node .* within 10 s\. Missing layer: host driver: nvidia-smi fails inside lab-worker \(/,
            );
            assert.deepEqual(
                tools.execs().map((c) => c.join(" ")),
                ["lab-worker nvidia-smi -L", "lab-worker crictl info"],
                "only read-only looks into the GPU node",
            );
        });

        it("toolkit: the node's containerd has no nvidia runtime", async () => {
            tools.nodeLoses("lab-worker", "containerd-live");
            assert.match(await timedOut(), /Missing layer: toolkit: containerd on lab-worker has no nvidia runtime/);
        });

        it("device plugin: its pods are not running", async () => {
            tools.kubectlAnswer(
                "pods.json",
                podList([
                    { name: "dp-a", node: "lab-worker", phase: "Pending", ready: false, waiting: "ContainerCreating" },
                ]),
            );
            const message = await timedOut();
            assert.match(
                message,
                /Missing layer: device plugin: pods not running: dp-a on lab-worker: Pending \(ContainerCreating\)/,
            );
            const podCall = tools.kubectlCalls().find((c) => c.includes("pods"))!;
            assert.deepEqual(podCall.slice(2), [
                "get",
                "pods",
                "-n",
                "gpu-operator",
                "-l",
                "app=nvidia-device-plugin-daemonset",
                "-o",
                "json",
            ]);
        });

        it("on an existing cluster: uses its kubeconfig path and context, and never docker", async () => {
            tools.kubectlAnswer("pods.json", podList([]));
            const message = await timedOut({
                kubeconfigPath: `${tools.dir}/kubeconfig`,
                context: "prod",
                operatorNamespace: "gpus",
            });
            fs.writeFileSync(`${tools.dir}/kubeconfig`, "apiVersion: v1\n");
            assert.match(message, /Missing layer: (device plugin|API server)/);
            assert.deepEqual(tools.dockerCalls(), []);
        });
    });

    it("on an existing cluster passes --kubeconfig <path> --context <name> to every call", async () => {
        fs.writeFileSync(`${tools.dir}/kubeconfig`, "apiVersion: v1\n");
        await waitForGpus(
            { kubeconfigPath: `${tools.dir}/kubeconfig`, context: "prod", operatorNamespace: "gpus" },
            fakeClock(),
        );
        assert.deepEqual(tools.kubectlCalls(), [
            ["--kubeconfig", `${tools.dir}/kubeconfig`, "--context", "prod", "get", "nodes", "-o", "json"],
        ]);
    });

    describe("as a Pulumi provider", () => {
        it("waits again only when the cluster or the goal changes, not the timing", async () => {
            const outs = await waitForGpus(KIND, fakeClock());
            const diff = (news: GpuWaitInputs) => gpuWaitProvider.diff!("nvidia.com-gpu", outs, news);
            assert.equal((await diff({ ...KIND, timeoutSeconds: 60, pollIntervalSeconds: 1 })).changes, false);
            assert.equal((await diff({ ...KIND, kubeconfig: "a new cluster's kubeconfig" })).changes, true);
            assert.equal((await diff({ ...KIND, minGpus: 2 })).changes, true);
        });

        it("survives serialization: the copy Pulumi would run waits and reports the GPUs", async () => {
            const { text, copy } = await serializedCopy(gpuWaitProvider, tools.dir);
            assert.doesNotMatch(text, /require\("yaml"\)|@pulumi\/pulumi/);
            const created = await copy.create({ ...KIND, timeoutSeconds: 0 });
            assert.equal(created.id, "nvidia.com-gpu");
            assert.deepEqual(created.outs!.gpuNodes, [{ node: "lab-worker", gpus: 1 }]);
        });

        it("create fails with the diagnosis when the time is up", async () => {
            tools.kubectlAnswer("nodes.json", nodeList({}));
            const error = await rejection(gpuWaitProvider.create({ ...KIND, timeoutSeconds: 0 }));
            assert.match(error.message, /within 0 s\. Missing layer: /);
        });
    });
});
