/** The fake CLIs of tests/fakes keep the protocol their headers describe (other tests build on it). */
import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const FAKES = path.resolve(__dirname, "../fakes");

describe("fake CLIs (tests/fakes)", () => {
    let state: string;
    const run = (tool: string, args: string[], input?: string, env: Record<string, string> = {}) =>
        spawnSync(path.join(FAKES, tool), args, {
            env: { ...process.env, FAKE_CLI_STATE: state, ...env },
            input,
            encoding: "utf8",
        });
    const calls = (tool: string) =>
        fs
            .readFileSync(path.join(state, `${tool}.calls`), "utf8")
            .trimEnd()
            .split("\n")
            .map((l) => l.split("\t"));

    beforeEach(() => {
        state = fs.mkdtempSync(path.join(os.tmpdir(), "fakes-"));
    });
    afterEach(() => fs.rmSync(state, { recursive: true, force: true }));

    it("docker exec answers from its table, fails on a listed step, and reads stdin only with -i", () => {
        fs.writeFileSync(
            path.join(state, "docker-exec-answers"),
            "cat /proc/driver/nvidia/params\tModifyDeviceFiles: 1\\nX: 2\n",
        );
        fs.writeFileSync(path.join(state, "docker-exec-fail"), "systemctl restart containerd\n");
        const read = run("docker", ["exec", "lab-worker", "cat", "/proc/driver/nvidia/params"]);
        assert.equal(read.status, 0);
        assert.equal(read.stdout, "ModifyDeviceFiles: 1\nX: 2\n");
        const failed = run("docker", ["exec", "--privileged", "lab-worker", "systemctl", "restart", "containerd"]);
        assert.equal(failed.status, 1);
        assert.equal(failed.stderr, "fake failure: systemctl restart containerd\n");
        assert.equal(run("docker", ["exec", "-i", "lab-worker", "sh"], "echo hi\n").status, 0);
        assert.equal(fs.readFileSync(path.join(state, "docker-exec.stdin"), "utf8"), "echo hi\n");
        assert.equal(run("docker", ["exec", "lab-worker", "true"]).stdout, "");
        assert.deepEqual(calls("docker")[1], [
            "exec",
            "--privileged",
            "lab-worker",
            "systemctl",
            "restart",
            "containerd",
        ]);
    });

    it("kind create records the nodes the fake docker lists by kind's label, and delete removes them", () => {
        const config = path.join(state, "kind.yaml");
        fs.writeFileSync(
            config,
            "nodes:\n  - role: control-plane\n    image: kindest/node:v1\n  - role: worker\n    image: kindest/node:v1\n",
        );
        const kubeconfig = path.join(state, "kubeconfig");
        assert.equal(
            run("kind", ["create", "cluster", "--name", "lab", "--config", config, "--kubeconfig", kubeconfig]).status,
            0,
        );
        const format = '{{.Names}}|{{.Label "io.x-k8s.kind.role"}}|{{.Image}}';
        const ps = run("docker", ["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=lab", "--format", format]);
        assert.equal(ps.stdout, "lab-control-plane|control-plane|kindest/node:v1\nlab-worker|worker|kindest/node:v1\n");
        assert.equal(run("kind", ["get", "clusters"]).stdout, "lab\n");
        assert.equal(
            run("kind", ["create", "cluster", "--name", "lab", "--config", config]).status,
            1,
            "the name is taken",
        );
        run("kind", ["delete", "cluster", "--name", "lab"]);
        assert.equal(run("kind", ["get", "clusters"]).stdout, "");
    });

    it("pulumi prints its version and refuses stack commands without a backend, like the CLI", () => {
        assert.equal(run("pulumi", ["version"], undefined, { FAKE_PULUMI_VERSION: "3.190.1" }).stdout, "v3.190.1\n");
        const home = path.join(state, "home");
        const select = run("pulumi", ["stack", "select", "--stack", "dev", "--non-interactive"], undefined, {
            HOME: home,
            PULUMI_BACKEND_URL: "",
        });
        assert.equal(select.status, 255);
        assert.match(select.stderr, /PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions/);
    });
});
