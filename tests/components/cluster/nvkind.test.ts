/**
 * The pure part of the GPU node setup: which containers are GPU workers, what the checks' outputs mean, and which
 * steps a node still needs.
 */
import assert from "node:assert/strict";
import {
    CONFIGURE_CONTAINERD,
    INSTALL_TOOLKIT,
    MASK_PARAMS,
    RESTART_CONTAINERD,
    containerdHasNvidiaRuntime,
    gpuWorkersFromInspect,
    listNodesArgs,
    modifyDeviceFiles,
    removeDeviceNode,
    stepFailure,
    stepsNeeded,
    strayDeviceNodes,
} from "../../../components/cluster/nvkind";

function container(
    name: string,
    role: string,
    mounts: [string, string][],
    opts: { cluster?: string; running?: boolean } = {},
) {
    return {
        Name: `/${name}`,
        State: { Running: opts.running ?? true },
        Config: { Labels: { "io.x-k8s.kind.cluster": opts.cluster ?? "lab", "io.x-k8s.kind.role": role } },
        Mounts: mounts.map(([Source, Destination]) => ({ Type: "bind", Source, Destination })),
    };
}
const GPU_ALL: [string, string] = ["/dev/null", "/var/run/nvidia-container-devices/all"];
const MODULES: [string, string] = ["/lib/modules", "/lib/modules"];

describe("nvkind node setup (pure)", () => {
    describe("gpuWorkersFromInspect", () => {
        it("picks the workers with the GPU device mount, never the control plane or a CPU worker", () => {
            const json = JSON.stringify([
                container("lab-control-plane", "control-plane", [MODULES, GPU_ALL]),
                container("lab-worker", "worker", [MODULES, GPU_ALL]),
                container("lab-worker2", "worker", [MODULES]),
            ]);
            assert.deepEqual(gpuWorkersFromInspect(json, "lab"), [{ name: "lab-worker", visibleDevices: ["all"] }]);
        });

        it("reads indexed device mounts, ignores other clusters and mounts that only look alike", () => {
            const json = JSON.stringify([
                container("lab-worker", "worker", [
                    ["/dev/null", "/var/run/nvidia-container-devices/1"],
                    ["/dev/null", "/var/run/nvidia-container-devices/0"],
                ]),
                container("other-worker", "worker", [GPU_ALL], { cluster: "other" }),
                container("lab-worker2", "worker", [
                    ["/tmp/x", "/var/run/nvidia-container-devices/all"],
                    ["/dev/null", "/var/run/other/all"],
                ]),
            ]);
            assert.deepEqual(gpuWorkersFromInspect(json, "lab"), [{ name: "lab-worker", visibleDevices: ["0", "1"] }]);
        });

        it("orders workers as kind numbers them (worker, worker2, ..., worker10), not as text", () => {
            const names = ["lab-worker10", "lab-worker2", "lab-worker"];
            const json = JSON.stringify(names.map((n) => container(n, "worker", [GPU_ALL])));
            assert.deepEqual(
                gpuWorkersFromInspect(json, "lab").map((n) => n.name),
                ["lab-worker", "lab-worker2", "lab-worker10"],
            );
        });

        it("refuses a stopped GPU worker, naming it and how to start it", () => {
            const json = JSON.stringify([container("lab-worker", "worker", [GPU_ALL], { running: false })]);
            assert.throws(
                () => gpuWorkersFromInspect(json, "lab"),
                /GPU node lab-worker of kind cluster lab is not running \(start it: docker start lab-worker\)/,
            );
        });

        it("says so when docker inspect printed something else", () => {
            assert.throws(
                () => gpuWorkersFromInspect("Error: No such object", "lab"),
                /`docker inspect` did not print JSON: Error: No such object/,
            );
            assert.throws(() => gpuWorkersFromInspect("{}", "lab"), /did not print a JSON array/);
        });
    });

    it("lists a cluster's node containers by kind's label, as kind does", () => {
        assert.deepEqual(listNodesArgs("lab"), [
            "ps",
            "-a",
            "--filter",
            "label=io.x-k8s.kind.cluster=lab",
            "--format",
            "{{.Names}}",
        ]);
    });

    describe("the checks' outputs", () => {
        it("reads ModifyDeviceFiles from the params file, whatever the surrounding lines", () => {
            assert.equal(modifyDeviceFiles("RmLogonRC: 1\nModifyDeviceFiles: 1\nDeviceFileUID: 0\n"), "1");
            assert.equal(modifyDeviceFiles("ModifyDeviceFiles: 0\n"), "0");
            assert.equal(modifyDeviceFiles("  ModifyDeviceFiles: 0  \n"), "0");
            assert.equal(modifyDeviceFiles("ModifyDeviceFiles: 2\nOther: 0\n"), undefined);
        });

        it("finds the nvidia runtime in crictl info, and only a runtime of that exact name", () => {
            assert.equal(
                containerdHasNvidiaRuntime(
                    '{"runtimes": {"runc": {}, "nvidia": {"runtimeType": "io.containerd.runc.v2"}}}',
                ),
                true,
            );
            assert.equal(containerdHasNvidiaRuntime('{"runtimes": {"runc": {}}}'), false);
            assert.equal(containerdHasNvidiaRuntime('{"runtimes": {"nvidia-cdi": {}}, "note": "nvidia"}'), false);
        });

        it("finds GPU device nodes the node must not see; none when it sees all", () => {
            const dev = "null nvidia0 nvidia1 nvidia10 nvidia2 nvidiactl nvidia-uvm zero";
            assert.deepEqual(strayDeviceNodes(dev, ["0", "2"]), ["nvidia1", "nvidia10"]);
            assert.deepEqual(strayDeviceNodes(dev, ["all"]), []);
        });
    });

    describe("stepsNeeded", () => {
        const fresh = {
            params: "ModifyDeviceFiles: 1\n",
            toolkitInstalled: false,
            crictlInfo: '{"runtimes": {"runc": {}}}',
        };
        const prepared = {
            params: "ModifyDeviceFiles: 0\n",
            toolkitInstalled: true,
            crictlInfo: '{"runtimes": {"nvidia": {}}}',
        };
        const all = { name: "lab-worker", visibleDevices: ["all"] };

        it("gives a fresh node (toolkit < 1.19 on the host) every step, in nvkind's order", () => {
            assert.deepEqual(stepsNeeded(all, fresh), [
                INSTALL_TOOLKIT,
                CONFIGURE_CONTAINERD,
                RESTART_CONTAINERD,
                MASK_PARAMS,
            ]);
        });

        it("skips the params mask when the params file already says ModifyDeviceFiles: 0 (toolkit >= 1.19)", () => {
            assert.deepEqual(stepsNeeded(all, { ...fresh, params: "ModifyDeviceFiles: 0\n" }), [
                INSTALL_TOOLKIT,
                CONFIGURE_CONTAINERD,
                RESTART_CONTAINERD,
            ]);
        });

        it("gives a prepared node nothing", () => {
            assert.deepEqual(stepsNeeded(all, prepared), []);
        });

        it("configures and restarts containerd when the running one lacks the runtime, toolkit or not", () => {
            assert.deepEqual(stepsNeeded(all, { ...prepared, crictlInfo: "{}" }), [
                CONFIGURE_CONTAINERD,
                RESTART_CONTAINERD,
            ]);
        });

        it("removes the device nodes of GPUs a node must not see", () => {
            const steps = stepsNeeded(
                { name: "lab-worker", visibleDevices: ["0"] },
                { ...prepared, devListing: "nvidia0 nvidia1 nvidiactl" },
            );
            assert.deepEqual(steps, [removeDeviceNode("nvidia1")]);
            assert.deepEqual(steps[0].argv, [
                "bash",
                "-c",
                "set -euo pipefail\nwhile umount /dev/nvidia1; do :; done\nrm -rf /dev/nvidia1",
            ]);
        });

        it("refuses a params file without a ModifyDeviceFiles line", () => {
            assert.throws(() => stepsNeeded(all, { ...prepared, params: "junk\n" }), /has no ModifyDeviceFiles line/);
        });
    });

    describe("the commands", () => {
        it("are nvkind's: NVIDIA's apt repository, nvidia-ctk's file config source, the params bind mount", () => {
            const install = INSTALL_TOOLKIT.argv[2];
            assert.match(install, /^set -euo pipefail\n/);
            assert.match(
                install,
                /curl -fsSL https:\/\/nvidia\.github\.io\/libnvidia-container\/gpgkey \| gpg --batch --yes --dearmor/,
            );
            assert.match(install, /\napt-get install -y nvidia-container-toolkit$/);
            assert.deepEqual(CONFIGURE_CONTAINERD.argv, [
                "nvidia-ctk",
                "runtime",
                "configure",
                "--runtime=containerd",
                "--config-source=file",
            ]);
            assert.deepEqual(RESTART_CONTAINERD.argv, ["systemctl", "restart", "containerd"]);
            assert.deepEqual(MASK_PARAMS.argv[2].split("\n").slice(1), [
                "if mountpoint -q /proc/driver/nvidia; then umount -R /proc/driver/nvidia; fi",
                "cp /proc/driver/nvidia/params /root/gpu-params",
                "sed -i 's/^ModifyDeviceFiles: 1$/ModifyDeviceFiles: 0/' /root/gpu-params",
                "mount --bind /root/gpu-params /proc/driver/nvidia/params",
            ]);
            for (const step of [INSTALL_TOOLKIT, CONFIGURE_CONTAINERD, RESTART_CONTAINERD, MASK_PARAMS])
                assert.equal(step.readOnly, false);
        });

        it("refuse to build a removal of something that is not a GPU device node", () => {
            assert.throws(() => removeDeviceNode("nvidiactl; rm -rf /"), /not a GPU device node/);
        });

        it("fail with the node, the step, what it was for, the command and the tool's last words", () => {
            const message = stepFailure(
                "lab-worker",
                CONFIGURE_CONTAINERD,
                1,
                "line 1\nFATA[0000] unable to load config\n",
            );
            assert.equal(
                message,
                "GPU node lab-worker, step configure-containerd (add the nvidia runtime to containerd's config): " +
                    "`docker exec lab-worker nvidia-ctk runtime configure --runtime=containerd --config-source=file` " +
                    "failed (exit code 1):\n" +
                    "line 1\nFATA[0000] unable to load config",
            );
            assert.match(
                stepFailure("n", INSTALL_TOOLKIT, 100, "E: x"),
                /`docker exec n bash -c <install-toolkit script>` failed \(exit code 100\)/,
            );
        });
    });
});
