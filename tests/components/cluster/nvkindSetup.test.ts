/**
 * The GPU node setup provider against the fake `docker` (tests/fakes/docker) whose simulated node containers
 * change state as the real commands would change a kind node: which nodes get which commands, both generations of
 * the params file, a failure at each step, idempotency, and the serialized copy Pulumi would run.
 */
import assert from "node:assert/strict";
import { CHECKS, CONFIGURE_CONTAINERD, INSTALL_TOOLKIT, MASK_PARAMS } from "../../../components/cluster/nvkind";
import {
    GpuNodeSetupInputs,
    gpuNodeSetupProvider,
    prepareGpuNodes,
} from "../../../components/cluster/gpuNodeSetupProvider";
import { FakeTools, logged, rejection } from "../gpu/fakeTools";
import { serializedCopy } from "../gpu/serialized";

const INPUTS: GpuNodeSetupInputs = { clusterName: "lab", gpuWorkers: 2, dockerPath: "docker" };
const READ_ONLY = Object.values(CHECKS).map((c) => logged(c.argv).join(" "));
const FULL_SETUP = [
    "cat /proc/driver/nvidia/params",
    "nvidia-ctk --version",
    "crictl info",
    `bash -c ${logged(INSTALL_TOOLKIT.argv)[2]}`,
    "nvidia-ctk runtime configure --runtime=containerd --config-source=file",
    "systemctl restart containerd",
    `bash -c ${logged(MASK_PARAMS.argv)[2]}`,
];

describe("GPU node setup provider (fake docker)", () => {
    let tools: FakeTools;
    /** The commands run in `node`, each as one line. */
    const ranIn = (node: string) =>
        tools
            .execs()
            .filter((c) => c[0] === node)
            .map((c) => c.slice(1).join(" "));
    const nodesTouched = () => [...new Set(tools.execs().map((c) => c[0]))].sort();

    beforeEach(() => {
        tools = new FakeTools();
        tools
            .node("lab-control-plane", { role: "control-plane" })
            .node("lab-worker", { role: "worker", gpus: ["all"] })
            .node("lab-worker2", { role: "worker", gpus: ["all"] })
            .node("lab-worker3", { role: "worker" })
            .node("other-worker", { role: "worker", gpus: ["all"], cluster: "other" });
    });
    afterEach(() => tools.restore());

    it("gives each GPU worker nvkind's steps; the control plane, CPU workers, other clusters get nothing", async () => {
        const outs = await prepareGpuNodes(INPUTS);

        assert.deepEqual(nodesTouched(), ["lab-worker", "lab-worker2"]);
        assert.deepEqual(ranIn("lab-worker"), FULL_SETUP);
        assert.deepEqual(ranIn("lab-worker2"), FULL_SETUP);
        for (const node of ["lab-worker", "lab-worker2"]) {
            for (const state of ["toolkit", "containerd-live", "params-masked"])
                assert.ok(tools.nodeHas(node, state), `${node}: ${state}`);
        }
        assert.deepEqual(outs.nodes, ["lab-worker", "lab-worker2"]);
        assert.deepEqual(outs.reports[0], {
            node: "lab-worker",
            ran: ["install-toolkit", "configure-containerd", "restart-containerd", "mask-params"],
        });
        // Found the way kind lists its nodes, then by their mounts.
        assert.deepEqual(tools.dockerCalls().slice(0, 2), [
            ["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=lab", "--format", "{{.Names}}"],
            ["inspect", "lab-control-plane", "lab-worker", "lab-worker2", "lab-worker3"],
        ]);
    });

    it("is idempotent: a second run on prepared nodes issues only read-only checks and changes nothing", async () => {
        await prepareGpuNodes(INPUTS);
        tools.clearCalls();
        const outs = await prepareGpuNodes(INPUTS);

        const execs = tools.execs().map((c) => c.slice(1).join(" "));
        assert.ok(execs.length > 0);
        assert.deepEqual(
            execs.filter((c) => !READ_ONLY.includes(c)),
            [],
            "only read-only checks on the second run",
        );
        assert.deepEqual(outs.reports, [
            { node: "lab-worker", ran: [] },
            { node: "lab-worker2", ran: [] },
        ]);
    });

    it("leaves the params file alone when it already says ModifyDeviceFiles: 0 (host toolkit >= 1.19)", async () => {
        tools.restore();
        tools = new FakeTools();
        tools.node("lab-worker", { role: "worker", gpus: ["all"], generation: "hook" });
        const outs = await prepareGpuNodes({ ...INPUTS, gpuWorkers: 1 });

        assert.deepEqual(outs.reports[0].ran, ["install-toolkit", "configure-containerd", "restart-containerd"]);
        assert.ok(
            !ranIn("lab-worker").some((c) => c.includes("umount")),
            "no umount on a node whose params are masked by the hook",
        );
        assert.ok(!tools.nodeHas("lab-worker", "params-masked"), "no bind mount of a copy");
    });

    it("masks the params file on a legacy node so that it then reads ModifyDeviceFiles: 0", async () => {
        await prepareGpuNodes(INPUTS);
        const { execFileSync } = await import("node:child_process");
        assert.match(
            execFileSync("docker", ["exec", "lab-worker", "cat", "/proc/driver/nvidia/params"], { encoding: "utf8" }),
            /^ModifyDeviceFiles: 0$/m,
        );
    });

    it("removes the device nodes of GPUs a worker must not see, once", async () => {
        tools.restore();
        tools = new FakeTools();
        tools.node("lab-worker", {
            role: "worker",
            gpus: ["0"],
            generation: "hook",
            dev: ["null", "nvidia0", "nvidia1", "nvidiactl"],
        });
        const first = await prepareGpuNodes({ ...INPUTS, gpuWorkers: 1 });
        assert.deepEqual(first.reports[0].ran, [
            "install-toolkit",
            "configure-containerd",
            "restart-containerd",
            "remove-device-node",
        ]);
        assert.deepEqual(tools.nodeDev("lab-worker"), ["null", "nvidia0", "nvidiactl"]);

        tools.clearCalls();
        const second = await prepareGpuNodes({ ...INPUTS, gpuWorkers: 1 });
        assert.deepEqual(second.reports[0].ran, []);
        assert.deepEqual(ranIn("lab-worker"), [
            "cat /proc/driver/nvidia/params",
            "nvidia-ctk --version",
            "crictl info",
            "ls /dev",
        ]);
    });

    const FAILURES: [string, string, RegExp][] = [
        ["read-params", "cat /proc/driver/nvidia/params", /read \/proc\/driver\/nvidia\/params/],
        ["check-containerd", "crictl info", /ask the running containerd/],
        [
            "install-toolkit",
            "apt-get install -y nvidia-container-toolkit",
            /E: fake failure of: apt-get install -y nvidia-container-toolkit/,
        ],
        [
            "configure-containerd",
            "nvidia-ctk runtime configure",
            /nvidia-ctk runtime configure --runtime=containerd --config-source=file` failed/,
        ],
        [
            "restart-containerd",
            "systemctl restart containerd",
            /`docker exec lab-worker2 systemctl restart containerd` failed \(exit code 1\)/,
        ],
        ["mask-params", "mount --bind", /E: fake failure of: mount --bind \/root\/gpu-params/],
    ];
    for (const [step, text, detail] of FAILURES) {
        it(`fails at ${step} naming node and step, deletes nothing; a re-run finishes the job`, async () => {
            tools.failOn("lab-worker2", text);
            const error = await rejection(prepareGpuNodes(INPUTS));
            assert.ok(error.message.startsWith(`GPU node lab-worker2, step ${step} (`), error.message);
            assert.match(error.message, detail);
            assert.deepEqual(tools.kindCalls(), [], "the setup never calls kind (the cluster stays as it is)");
            assert.ok(tools.nodeHas("lab-worker", "params-masked"), "the node before it was prepared");

            // What the next `pulumi up` does: the same inputs again, with the cause gone.
            tools.clearCalls();
            tools.clearFailures();
            const outs = await prepareGpuNodes(INPUTS);
            assert.deepEqual(outs.reports[0].ran, [], "lab-worker is not touched again");
            assert.ok(outs.reports[1].ran.length > 0);
            assert.ok(tools.nodeHas("lab-worker2", "params-masked") && tools.nodeHas("lab-worker2", "containerd-live"));
        });
    }

    it("fails at remove-device-node naming the node and the device", async () => {
        tools.restore();
        tools = new FakeTools();
        tools.node("lab-worker", { role: "worker", gpus: ["0"], generation: "hook", dev: ["nvidia0", "nvidia1"] });
        tools.failOn("lab-worker", "rm -rf /dev/nvidia1");
        const error = await rejection(prepareGpuNodes({ ...INPUTS, gpuWorkers: 1 }));
        assert.match(
            error.message,
            /^GPU node lab-worker, step remove-device-node \(remove \/dev\/nvidia1, a GPU this node must not see\)/,
        );
    });

    it("says the driver does not reach a node without a params file, before installing anything", async () => {
        tools.restore();
        tools = new FakeTools();
        tools.node("lab-worker", { role: "worker", gpus: ["all"], driver: false });
        const error = await rejection(prepareGpuNodes({ ...INPUTS, gpuWorkers: 1 }));
        assert.match(
            error.message,
            /^GPU node lab-worker, step read-params .*\ncat: \/proc\/driver\/nvidia\/params: No such file/s,
        );
        assert.deepEqual(ranIn("lab-worker"), ["cat /proc/driver/nvidia/params"]);
    });

    it("refuses when the cluster has another number of GPU workers than expected, naming those found", async () => {
        const error = await rejection(prepareGpuNodes({ ...INPUTS, gpuWorkers: 3 }));
        assert.match(
            error.message,
            /kind cluster lab: expected 3 GPU workers \(gpuWorkers\), found 2 \(lab-worker, lab-worker2\)/,
        );
        assert.deepEqual(tools.execs(), []);
    });

    it("refuses a cluster Docker does not know, and a stopped GPU worker", async () => {
        assert.match(
            (await rejection(prepareGpuNodes({ ...INPUTS, clusterName: "gone" }))).message,
            /kind cluster gone: Docker has no node containers of it/,
        );
        tools.node("stopped-worker", { role: "worker", gpus: ["all"], cluster: "stopped", running: false });
        assert.match(
            (await rejection(prepareGpuNodes({ ...INPUTS, clusterName: "stopped", gpuWorkers: 1 }))).message,
            /GPU node stopped-worker .* is not running/,
        );
    });

    it("says Docker is not running, and where docker is missing", async () => {
        tools.dockerDown();
        assert.match(
            (await rejection(prepareGpuNodes(INPUTS))).message,
            /`docker ps` failed \(exit code 1\); is Docker running\?\nCannot connect to the Docker daemon/,
        );
        assert.match(
            (await rejection(prepareGpuNodes({ ...INPUTS, dockerPath: "/nowhere/docker" }))).message,
            /the docker CLI was not found at \/nowhere\/docker/,
        );
    });

    it("uses a fake that refuses what it does not know, so a changed script cannot pass unnoticed", async () => {
        const { spawnSync } = await import("node:child_process");
        const unknown = spawnSync("docker", ["exec", "lab-worker", "bash", "-c", "set -euo pipefail\nrm -rf /etc"], {
            encoding: "utf8",
        });
        assert.equal(unknown.status, 127);
        assert.match(unknown.stderr, /unknown script line: rm -rf \/etc/);
        const cli = spawnSync("docker", ["exec", "lab-worker", ...CONFIGURE_CONTAINERD.argv], { encoding: "utf8" });
        assert.equal(cli.status, 126, "nvidia-ctk is not installed yet");
        assert.match(cli.stderr, /exec: "nvidia-ctk": executable file not found in \$PATH/);
    });

    describe("as a Pulumi provider", () => {
        it("diff runs no docker command: without Docker (a preview) the same inputs are no change", async () => {
            const created = await gpuNodeSetupProvider.create(INPUTS);
            tools.clearCalls();
            tools.dockerDown();
            assert.equal((await gpuNodeSetupProvider.diff!("lab", created.outs!, INPUTS)).changes, false);
            assert.deepEqual(tools.dockerCalls(), []);
            // Nor with no docker binary at all: diff reads nothing but its arguments.
            const nowhere = { ...INPUTS, dockerPath: "/nonexistent/docker" };
            const recorded = { ...created.outs!, dockerPath: nowhere.dockerPath };
            assert.equal((await gpuNodeSetupProvider.diff!("lab", recorded, nowhere)).changes, false);
        });

        it("diff wants an update when the name, count, docker binary or cluster identity change", async () => {
            const created = await gpuNodeSetupProvider.create({ ...INPUTS, clusterIdentity: "0123456789abcdef" });
            assert.equal(created.outs!.clusterIdentity, "0123456789abcdef");
            const recorded = created.outs!;
            const same = { ...INPUTS, clusterIdentity: "0123456789abcdef" };
            assert.equal((await gpuNodeSetupProvider.diff!("lab", recorded, same)).changes, false);
            for (const changed of [
                { ...same, clusterName: "lab2" },
                { ...same, gpuWorkers: 1 },
                { ...same, dockerPath: "/usr/local/bin/docker" },
                // The Kind cluster made anew under the same name: its new CA gives a new identity.
                { ...same, clusterIdentity: "fedcba9876543210" },
            ]) {
                const diff = await gpuNodeSetupProvider.diff!("lab", recorded, changed);
                assert.deepEqual(diff, { changes: true }, JSON.stringify(changed));
            }
        });

        it("a refresh asks the nodes read-only; one that lost its setup makes the next up prepare it", async () => {
            const created = await gpuNodeSetupProvider.create(INPUTS);
            tools.clearCalls();
            const fresh = await gpuNodeSetupProvider.read!("lab", created.outs!);
            assert.deepEqual(fresh, { id: "lab", props: created.outs });
            assert.deepEqual(
                tools
                    .execs()
                    .map((c) => c.slice(1).join(" "))
                    .filter((c) => !READ_ONLY.includes(c)),
                [],
            );

            // A restarted node: containerd came back without the nvidia runtime.
            tools.nodeLoses("lab-worker2", "containerd-live");
            const refreshed = await gpuNodeSetupProvider.read!("lab", created.outs!);
            assert.equal(refreshed.props!.needsSetup, "lab-worker2: configure-containerd, restart-containerd");
            assert.equal((await gpuNodeSetupProvider.diff!("lab", refreshed.props!, INPUTS)).changes, true);
            const updated = await gpuNodeSetupProvider.update!("lab", refreshed.props!, INPUTS);
            assert.deepEqual(updated.outs!.reports[1].ran, ["configure-containerd", "restart-containerd"]);
            assert.equal(updated.outs!.needsSetup, undefined);
            assert.equal((await gpuNodeSetupProvider.diff!("lab", updated.outs!, INPUTS)).changes, false);
            // A later refresh of prepared nodes clears nothing it should keep and marks nothing.
            assert.equal((await gpuNodeSetupProvider.read!("lab", updated.outs!)).props!.needsSetup, undefined);
        });

        it("a refresh that cannot ask the nodes (Docker down, the cluster gone) makes the next up run the setup", async () => {
            const created = await gpuNodeSetupProvider.create(INPUTS);
            tools.dockerDown();
            const refreshed = await gpuNodeSetupProvider.read!("lab", created.outs!);
            assert.equal(refreshed.id, "lab", "the setup stays in the stack");
            assert.match(
                refreshed.props!.needsSetup!,
                /^the nodes could not be asked: kind cluster lab: `docker ps` failed/,
            );
            assert.equal((await gpuNodeSetupProvider.diff!("lab", refreshed.props!, INPUTS)).changes, true);
        });

        it("delete touches nothing", async () => {
            const created = await gpuNodeSetupProvider.create(INPUTS);
            tools.clearCalls();
            await gpuNodeSetupProvider.delete!("lab", created.outs!);
            assert.deepEqual(tools.dockerCalls(), []);
            assert.deepEqual(tools.kindCalls(), []);
        });

        it("survives serialization: the copy Pulumi would run prepares the nodes", async () => {
            const { text, copy } = await serializedCopy(gpuNodeSetupProvider, tools.dir);
            assert.doesNotMatch(text, /require\("yaml"\)|@pulumi\/pulumi/);
            const result = await copy.create(INPUTS);
            assert.deepEqual(result.outs!.nodes, ["lab-worker", "lab-worker2"]);
            assert.ok(tools.nodeHas("lab-worker2", "params-masked"));
            assert.deepEqual(await copy.read!("lab", result.outs!), { id: "lab", props: result.outs });
            assert.equal((await copy.diff!("lab", result.outs!, INPUTS)).changes, false);
        });
    });
});
