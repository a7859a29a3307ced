/** The fake CLIs of tests/fakes keep the protocol their headers describe (other tests build on it). */
import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CHECKS, INSTALL_TOOLKIT } from "../../components/cluster/nvkind";

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

    /** A kind node container `name` of cluster `lab`, listed as the fake kind lists it, with these state files. */
    const simulatedNode = (name: string, files: Record<string, string>) => {
        fs.mkdirSync(path.join(state, "kind-nodes"), { recursive: true });
        fs.appendFileSync(path.join(state, "kind-nodes", "lab"), `${name}\tworker\tkindest/node:v1\t\n`);
        const dir = path.join(state, "kind-node-sim", name);
        fs.mkdirSync(dir, { recursive: true });
        for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    };

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

    it("docker exec runs in a simulated node when kind-node-sim/<name>/ exists, with the effects on its state", () => {
        simulatedNode("lab-worker", { running: "", generation: "legacy", dev: "null\n" });
        simulatedNode("lab-worker2", { running: "", generation: "legacy", dev: "null\n" });
        simulatedNode("lab-stopped", { generation: "legacy" });
        fs.writeFileSync(path.join(state, "docker-exec-answers"), "nvidia-ctk --version\tfrom the table\n");
        fs.writeFileSync(path.join(state, "docker-exec-fail"), "lab-worker2 apt-get install -y nvidia-container\n");

        const before = run("docker", ["exec", "lab-worker", ...CHECKS.toolkit.argv]);
        assert.equal(before.status, 126, "not installed yet: the answer table is not asked");
        assert.match(before.stderr, /exec: "nvidia-ctk": executable file not found in \$PATH/);
        assert.equal(run("docker", ["exec", "lab-worker", ...INSTALL_TOOLKIT.argv]).status, 0);
        assert.ok(fs.existsSync(path.join(state, "kind-node-sim", "lab-worker", "toolkit")));
        assert.match(run("docker", ["exec", "lab-worker", ...CHECKS.toolkit.argv]).stdout, /^NVIDIA Container Toolkit/);

        const failed = run("docker", ["exec", "lab-worker2", ...INSTALL_TOOLKIT.argv]);
        assert.equal(failed.status, 100, "a failed script line stops the script as apt-get does");
        assert.equal(failed.stderr, "E: fake failure of: apt-get install -y nvidia-container-toolkit\n");
        assert.ok(!fs.existsSync(path.join(state, "kind-node-sim", "lab-worker2", "toolkit")));
        const unknown = run("docker", ["exec", "lab-worker", "bash", "-c", "set -euo pipefail\nrm -rf /etc"]);
        assert.equal(unknown.status, 127);
        assert.match(unknown.stderr, /unknown script line: rm -rf \/etc/);
        const stopped = run("docker", ["exec", "lab-stopped", "ls", "/dev"]);
        assert.equal(stopped.stderr, "Error response from daemon: container lab-stopped is not running\n");
        assert.equal(run("docker", ["exec", "lab-other", ...CHECKS.toolkit.argv]).stdout, "from the table\n");
        assert.deepEqual(calls("docker")[1].slice(0, 3), ["exec", "lab-worker", "bash"]);
        assert.equal(calls("docker")[1][4], INSTALL_TOOLKIT.argv[2].replace(/\n/g, "\\n"), "newlines logged as \\n");
    });

    it("docker inspect shows a kind node's labels, state and bind mounts as Docker's JSON; ps lists the nodes", () => {
        simulatedNode("lab-worker", { running: "", mounts: "/dev/null:/var/run/nvidia-container-devices/all\n" });
        fs.appendFileSync(
            path.join(state, "kind-nodes", "lab"),
            "lab-control-plane\tcontrol-plane\tkindest/node:v1\t\n",
        );
        const inspect = run("docker", ["inspect", "lab-worker", "lab-control-plane"]);
        assert.equal(inspect.status, 0);
        assert.deepEqual(JSON.parse(inspect.stdout), [
            {
                Name: "/lab-worker",
                State: { Running: true },
                Config: { Labels: { "io.x-k8s.kind.cluster": "lab", "io.x-k8s.kind.role": "worker" } },
                Mounts: [
                    {
                        Type: "bind",
                        Source: "/dev/null",
                        Destination: "/var/run/nvidia-container-devices/all",
                        RW: true,
                    },
                ],
            },
            {
                Name: "/lab-control-plane",
                State: { Running: true },
                Config: { Labels: { "io.x-k8s.kind.cluster": "lab", "io.x-k8s.kind.role": "control-plane" } },
                Mounts: [],
            },
        ]);
        const missing = run("docker", ["inspect", "lab-worker", "gone"]);
        assert.equal(missing.status, 1);
        assert.equal(missing.stderr, "Error: No such object: gone\n");
        const ps = run("docker", ["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=lab", "--format", "{{.Names}}"]);
        assert.equal(ps.stdout, "lab-worker\nlab-control-plane\n");
    });

    it("docker with the engine down fails every command but the client's version, as the CLI does", () => {
        const env = { FAKE_DOCKER_ENGINE: "down" };
        const version = run("docker", ["version", "--format", "{{.Client.Version}}"], undefined, env);
        assert.deepEqual([version.status, version.stdout], [0, "27.3.1\n"]);
        const info = run("docker", ["version"], undefined, env);
        assert.equal(info.status, 1);
        assert.match(info.stderr, /^Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock/);
    });

    it("kubectl answers get nodes from nodes.json (nodes.<k>.json on the k-th call) and get pods from pods.json", () => {
        const kubectl = (args: string[], env: Record<string, string> = {}) => run("kubectl", args, undefined, env);
        const nodes = ["get", "nodes", "-o", "json"];
        assert.deepEqual(JSON.parse(kubectl(nodes).stdout), { apiVersion: "v1", kind: "List", items: [] });
        fs.writeFileSync(
            path.join(state, "nodes.json"),
            '{"kind": "NodeList", "items": [{"metadata": {"name": "a"}}]}',
        );
        fs.writeFileSync(path.join(state, "nodes.3.json"), '{"kind": "NodeList", "items": []}');
        assert.equal(JSON.parse(kubectl(nodes).stdout).items.length, 1, "the second call");
        assert.equal(JSON.parse(kubectl(nodes).stdout).items.length, 0, "the third call");
        assert.equal(JSON.parse(kubectl(nodes).stdout).items.length, 1, "the fourth call");
        fs.writeFileSync(path.join(state, "pods.json"), '{"kind": "PodList", "items": []}');
        const pods = kubectl(["get", "pods", "-n", "gpu-operator", "-l", "app=x", "-o", "json"]);
        assert.deepEqual(JSON.parse(pods.stdout), { kind: "PodList", items: [] });
        const wide = kubectl(["get", "pods", "-n", "gpu-operator", "-o", "wide"]);
        assert.deepEqual([wide.status, wide.stderr], [2, "fake kubectl: unexpected command: get pods -o wide\n"]);

        const kubeconfig = path.join(state, "kubeconfig");
        fs.writeFileSync(kubeconfig, "apiVersion: v1\n", { mode: 0o640 });
        const down = kubectl(["--kubeconfig", kubeconfig, ...nodes], { FAKE_KUBECTL_MODE: "down" });
        assert.equal(down.status, 1);
        assert.match(down.stderr, /^The connection to the server 127\.0\.0\.1:6443 was refused/);
        assert.equal(fs.readFileSync(path.join(state, "kubeconfig-seen"), "utf8"), "apiVersion: v1\nmode=640\n");
        const log = fs.readFileSync(path.join(state, "calls.log"), "utf8").trimEnd().split("\n");
        assert.deepEqual(log.at(-1)!.split("\t"), ["--kubeconfig", kubeconfig, ...nodes]);
        assert.equal(log.length, 7);
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
        assert.equal(run("kind", ["load", "docker-image", "slurm:1", "--name", "lab"]).status, 0);
        run("kind", ["delete", "cluster", "--name", "lab"]);
        assert.equal(run("kind", ["get", "clusters"]).stdout, "");
        const load = run("kind", ["load", "docker-image", "slurm:1", "--name", "lab"]);
        assert.deepEqual([load.status, load.stderr], [1, 'ERROR: no nodes found for cluster "lab"\n']);
    });

    it("podman save writes a multi-image archive kind load image-archive reads; kind logs its engine", () => {
        fs.writeFileSync(path.join(state, "podman-images"), "localhost/a:1\nlocalhost/b:2\n");
        const archive = path.join(state, "images.tar");
        const save = (...args: string[]) =>
            run("podman", ["save", ...args, "-o", archive, "localhost/a:1", "localhost/b:2"]);
        assert.equal(save("--format", "docker-archive").status, 2, "several images without -m are refused");
        assert.equal(save("-m", "--format", "docker-archive").status, 0);
        assert.equal(fs.readFileSync(archive, "utf8"), "image localhost/a:1\nimage localhost/b:2\n");
        const again = save("-m", "--format", "docker-archive");
        assert.deepEqual(
            [again.status, again.stderr],
            [125, "Error: docker-archive doesn't support modifying existing images\n"],
        );
        fs.rmSync(archive);
        const missing = run("podman", ["save", "-m", "-o", archive, "localhost/c:3"]);
        assert.deepEqual([missing.status, missing.stderr], [125, "Error: localhost/c:3: image not known\n"]);

        fs.mkdirSync(path.join(state, "kind-nodes"), { recursive: true });
        fs.writeFileSync(path.join(state, "kind-nodes", "lab"), "");
        save("-m");
        const load = run("kind", ["load", "image-archive", archive, "--name", "lab"], undefined, {
            KIND_EXPERIMENTAL_PROVIDER: "podman",
        });
        assert.equal(load.status, 0, load.stderr);
        assert.equal(
            fs.readFileSync(path.join(state, "kind-loaded"), "utf8"),
            `load image-archive ${archive} --name lab\nimage localhost/a:1\nimage localhost/b:2\n`,
        );
        const none = run("kind", ["load", "image-archive", path.join(state, "none.tar"), "--name", "lab"]);
        assert.equal(none.status, 1);
        const env: NodeJS.ProcessEnv = { ...process.env, FAKE_CLI_STATE: state };
        delete env.KIND_EXPERIMENTAL_PROVIDER;
        spawnSync(path.join(FAKES, "kind"), ["get", "clusters"], { env });
        assert.equal(
            fs.readFileSync(path.join(state, "kind.env"), "utf8"),
            `podman\n${process.env.KIND_EXPERIMENTAL_PROVIDER || "(unset)"}\n(unset)\n`,
        );
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

    it("pulumi finds stacks in a file backend, answers stack output from FAKE_PULUMI_OUTPUTS, masks without it", () => {
        const backend = { PULUMI_BACKEND_URL: `file://${path.join(state, "backend")}`, PULUMI_CONFIG_PASSPHRASE: "" };
        const output = (extra: string[], env: Record<string, string> = {}) =>
            run("pulumi", ["stack", "output", "--json", ...extra, "--stack", "dev"], undefined, { ...backend, ...env });
        const select = run("pulumi", ["stack", "select", "--stack", "dev", "--non-interactive"], undefined, backend);
        assert.deepEqual([select.status, select.stderr], [255, "error: no stack named 'dev' found\n"]);
        assert.deepEqual([output([]).status, output([]).stderr], [255, "error: no stack named 'dev' found\n"]);

        const stacks = path.join(state, "backend", ".pulumi", "stacks", "ai-hyperscaler");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(stacks, "dev.json"), '{"version": 3}');
        assert.equal(run("pulumi", ["stack", "select", "--stack", "dev"], undefined, backend).status, 0);
        assert.deepEqual(JSON.parse(output([]).stdout), { clusterName: "lab", kubeconfig: "[secret]" });
        assert.match(JSON.parse(output(["--show-secrets"]).stdout).kubeconfig, /^apiVersion: v1/);

        const file = path.join(state, "outputs.json");
        fs.writeFileSync(file, '{"clusterName": "mine", "tenantInfo": {"a": {"kubeconfig": "k"}}}\n');
        const outputs = { FAKE_PULUMI_OUTPUTS: file };
        for (const extra of [[], ["--show-secrets"]]) {
            const answer = output(extra, outputs);
            assert.deepEqual([answer.status, answer.stdout], [0, fs.readFileSync(file, "utf8")]);
        }
        assert.deepEqual(calls("pulumi").at(-1), ["stack", "output", "--json", "--show-secrets", "--stack", "dev"]);
    });

    it("pulumi --show-secrets of a file backend needs a passphrase, like the CLI", () => {
        const stacks = path.join(state, "backend", ".pulumi", "stacks", "ai-hyperscaler");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(stacks, "dev.json"), '{"version": 3}');
        const env = { PULUMI_BACKEND_URL: `file://${path.join(state, "backend")}` };
        const clean = { ...process.env };
        delete clean.PULUMI_CONFIG_PASSPHRASE;
        delete clean.PULUMI_CONFIG_PASSPHRASE_FILE;
        const answer = spawnSync(
            path.join(FAKES, "pulumi"),
            ["stack", "output", "--json", "--show-secrets", "--stack", "dev"],
            { env: { ...clean, FAKE_CLI_STATE: state, ...env }, encoding: "utf8" },
        );
        assert.equal(answer.status, 255);
        assert.equal(answer.stdout, "");
        assert.match(
            answer.stderr,
            /unable to find either `PULUMI_CONFIG_PASSPHRASE` or `PULUMI_CONFIG_PASSPHRASE_FILE`/,
        );
    });

    it("pulumi in FAKE_PULUMI_MODE=silent logs each call, exits 1 and prints nothing", () => {
        for (const args of [["version"], ["stack", "output", "--json", "--stack", "dev"]]) {
            const answer = run("pulumi", args, undefined, { FAKE_PULUMI_MODE: "silent" });
            assert.deepEqual([answer.status, answer.stdout, answer.stderr], [1, "", ""]);
        }
        assert.deepEqual(calls("pulumi"), [["version"], ["stack", "output", "--json", "--stack", "dev"]]);
        assert.equal(run("pulumi", ["version"], undefined, { FAKE_PULUMI_MODE: "ok" }).stdout, "v3.248.0\n");
    });
});
