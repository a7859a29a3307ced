/**
 * The kind dynamic provider, its methods called directly against the fake `kind` and `docker` of tests/fakes
 * (first on PATH; their headers describe what they answer and record).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { kindClusterShape, renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderInputs, KindProviderOutputs, kindProvider } from "../../../components/cluster/kindProvider";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";

const CONFIG = { clusterName: "lab", workers: 2, gpuWorkers: 1, nodeImage: DEFAULT_KIND_NODE_IMAGE, portMappings: [] };
const INPUTS: KindProviderInputs = { clusterName: "lab", configYaml: renderKindConfig(CONFIG), nodeImage: DEFAULT_KIND_NODE_IMAGE, kindPath: "kind" };
const FAKES = path.resolve(__dirname, "../../fakes");
const KUBECONFIG_OF_LAB = "apiVersion: v1\nkind: Config\ncurrent-context: kind-lab\n# fake kubeconfig of lab\n";
const STATE: KindProviderOutputs = { ...INPUTS, images: [], kubeconfig: KUBECONFIG_OF_LAB };

describe("kindProvider (against a fake kind CLI)", () => {
    const savedEnv = { ...process.env };
    let dir: string;

    /** Every kind invocation so far, each as its argument list. */
    const calls = (tool = "kind"): string[][] => {
        const log = path.join(dir, `${tool}.calls`);
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trimEnd().split("\n").map((line) => line.split("\t")) : [];
    };
    const fake = (env: { mode?: string; clusters?: string }) => {
        process.env.FAKE_KIND_MODE = env.mode ?? "ok";
        process.env.FAKE_KIND_CLUSTERS = env.clusters ?? "";
    };
    const rejection = async (promise: Promise<unknown>): Promise<Error> => {
        try {
            await promise;
        } catch (e) {
            return e as Error;
        }
        assert.fail("expected the call to fail");
    };

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kind-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.symlinkSync(path.join(FAKES, "kind"), path.join(bin, "kind"));
        fs.symlinkSync(path.join(FAKES, "docker"), path.join(bin, "docker"));
        process.env.PATH = `${bin}${path.delimiter}${savedEnv.PATH}`;
        process.env.FAKE_CLI_STATE = dir;
        fake({});
    });

    afterEach(() => {
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    describe("create", () => {
        it("runs kind create with the name, the rendered config and a private kubeconfig, and returns that kubeconfig", async () => {
            const result = await kindProvider.create(INPUTS);

            const [list, call, ...more] = calls();
            assert.deepEqual(list, ["get", "clusters"]);
            assert.equal(more.length, 0, `two kind calls expected, got ${JSON.stringify(calls())}`);
            assert.deepEqual(call.slice(0, 4), ["create", "cluster", "--name", "lab"]);
            assert.equal(call[4], "--config");
            assert.equal(call[6], "--kubeconfig");
            assert.equal(call.length, 8);
            assert.equal(fs.readFileSync(path.join(dir, "kind-config-seen.yaml"), "utf8"), INPUTS.configYaml);

            assert.equal(result.id, "lab");
            assert.deepEqual(result.outs, STATE);
            // The temp files (config and a kubeconfig holding credentials) are gone.
            assert.ok(!fs.existsSync(call[5]), `config file ${call[5]} left behind`);
            assert.ok(!fs.existsSync(call[7]), `kubeconfig file ${call[7]} left behind`);
        });

        it("loads the listed local images into the new cluster", async () => {
            const result = await kindProvider.create({ ...INPUTS, images: ["ai-hyperscaler/slurm:24.11", "extra:1"] });
            assert.deepEqual(calls()[2], ["load", "docker-image", "ai-hyperscaler/slurm:24.11", "extra:1", "--name", "lab"]);
            assert.deepEqual(result.outs!.images, ["ai-hyperscaler/slurm:24.11", "extra:1"]);
        });

        it("keeps a cluster whose image load failed in the state (id and properties, no images), and says how to build the image", async () => {
            process.env.FAKE_KIND_MISSING_IMAGE = "ai-hyperscaler/slurm:24.11-0123456789ab";
            const inputs = { ...INPUTS, images: ["ai-hyperscaler/slurm:24.11-0123456789ab"], __provider: "serialized provider" };
            const error = (await rejection(kindProvider.create(inputs))) as Error & { id?: string; properties?: Record<string, unknown>; reasons?: string[] };
            assert.ok(error.message.includes('image: "ai-hyperscaler/slurm:24.11-0123456789ab" not present locally'), error.message);
            assert.ok(error.message.includes("`docker build -t ai-hyperscaler/slurm:24.11-0123456789ab containers/images/slurm-base/Docker`"), error.message);
            // What the dynamic provider host turns into ErrorResourceInitFailed: Pulumi records the cluster.
            assert.equal(error.id, "lab");
            assert.deepEqual(error.properties, { ...STATE, images: [], __provider: "serialized provider" });
            assert.deepEqual(error.reasons, [error.message]);
            assert.ok(fs.existsSync(path.join(dir, "kind-nodes", "lab")), "the cluster is still there");
            assert.ok(!calls().some((c) => c[0] === "delete"));

            // The next up: the recorded state has no images, so the diff asks for an update, which loads them.
            const recorded = error.properties as unknown as KindProviderOutputs;
            delete process.env.FAKE_KIND_MISSING_IMAGE;
            const diff = await kindProvider.diff!("lab", recorded, inputs);
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, []);
            const updated = await kindProvider.update!("lab", recorded, inputs);
            assert.deepEqual(calls().at(-1), ["load", "docker-image", "ai-hyperscaler/slurm:24.11-0123456789ab", "--name", "lab"]);
            assert.deepEqual(updated.outs!.images, ["ai-hyperscaler/slurm:24.11-0123456789ab"]);
            assert.equal(updated.outs!.kubeconfig, KUBECONFIG_OF_LAB);
        });

        it("fails with kind's own stderr and the command, without blaming Docker for a kubeadm failure", async () => {
            fake({ mode: "fail" });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(error.message, /`kind create cluster --name lab --config \S+ --kubeconfig \S+` failed \(exit code 1\)/);
            assert.ok(error.message.includes("ERROR: failed to create cluster: failed to init node with kubeadm"), error.message);
            assert.ok(error.message.includes("Starting control-plane"), "all of kind's stderr, not just its last line");
            assert.doesNotMatch(error.message, /Docker is not installed/);
            assert.equal((error as { id?: string }).id, undefined, "no cluster was made: nothing to record");
        });

        it("says Docker is missing or not running when kind cannot reach it", async () => {
            fake({ mode: "no-docker" });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(error.message, /Docker is not installed, not running, or not usable by this user/);
            assert.ok(error.message.includes("Cannot connect to the Docker daemon at unix:///var/run/docker.sock"), error.message);
        });

        it("says where to get kind when it is not on PATH", async () => {
            process.env.PATH = fs.mkdtempSync(path.join(dir, "empty-"));
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(error.message, /^the kind CLI was not found on PATH \(looked for "kind"\); install it from https:\/\/kind\.sigs\.k8s\.io/);
            assert.deepEqual(calls(), []);
        });

        it("resolves kindPath through PATH, and names a missing explicit path", async () => {
            fs.symlinkSync(path.join(FAKES, "kind"), path.join(dir, "bin", "kind-v0.29.0"));
            fs.rmSync(path.join(dir, "bin", "kind"));
            const result = await kindProvider.create({ ...INPUTS, kindPath: "kind-v0.29.0" });
            assert.equal(result.outs?.kindPath, "kind-v0.29.0");
            assert.deepEqual(calls().map((c) => c[0]), ["get", "create"]);

            const missing = path.join(dir, "nowhere", "kind");
            const error = await rejection(kindProvider.create({ ...INPUTS, kindPath: missing }));
            assert.ok(error.message.startsWith(`the kind CLI was not found at ${missing}; install it from https://kind.sigs.k8s.io`), error.message);
        });
    });

    describe("create, when kind has a cluster of that name already", () => {
        const PORTS = [{ containerPort: 31443, hostPort: 31443, protocol: "TCP", listenAddress: "127.0.0.1" }] as const;
        const SHAPED: KindProviderInputs = {
            ...INPUTS,
            configYaml: renderKindConfig({ ...CONFIG, portMappings: [...PORTS] }),
            shape: kindClusterShape({ ...CONFIG, portMappings: [...PORTS] }),
            images: ["ai-hyperscaler/slurm:24.11-0123456789ab"],
        };
        /** Node containers of "lab" as the fake docker lists them: name, role, image, published ports. */
        const existing = (nodes: [string, string, string, string][]) =>
            fs.writeFileSync(path.join(dir, "kind-nodes", "lab"), nodes.map((n) => `${n.join("\t")}\n`).join(""));
        const MATCHING: [string, string, string, string][] = [
            ["lab-control-plane", "control-plane", DEFAULT_KIND_NODE_IMAGE, "127.0.0.1:31443->31443/tcp, 127.0.0.1:40123->6443/tcp"],
            ["lab-worker", "worker", DEFAULT_KIND_NODE_IMAGE, ""],
            ["lab-worker2", "worker", DEFAULT_KIND_NODE_IMAGE, ""],
        ];

        it("adopts one made from the same settings: no create, its kubeconfig, the images loaded", async () => {
            fs.mkdirSync(path.join(dir, "kind-nodes"), { recursive: true });
            existing(MATCHING);
            const result = await kindProvider.create(SHAPED);
            assert.deepEqual(calls(), [
                ["get", "clusters"],
                ["get", "kubeconfig", "--name", "lab"],
                ["load", "docker-image", "ai-hyperscaler/slurm:24.11-0123456789ab", "--name", "lab"],
            ]);
            assert.deepEqual(calls("docker"), [["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=lab", "--format", '{{.Names}}|{{.Label "io.x-k8s.kind.role"}}|{{.Image}}|{{.Ports}}']]);
            assert.equal(result.id, "lab");
            assert.equal(result.outs!.kubeconfig, KUBECONFIG_OF_LAB);
        });

        it("refuses one that differs, with the exact kind delete command, and touches nothing", async () => {
            fs.mkdirSync(path.join(dir, "kind-nodes"), { recursive: true });
            const other = `kindest/node:v1.32.5@sha256:${"b".repeat(64)}`;
            for (const [nodes, difference] of [
                [MATCHING.slice(0, 2), "1 workers, not 2"],
                [[MATCHING[0], MATCHING[1], ["lab-worker2", "worker", other, ""]], `node lab-worker2 runs ${other}`],
                [[["lab-control-plane", "control-plane", DEFAULT_KIND_NODE_IMAGE, "127.0.0.1:40123->6443/tcp"], MATCHING[1], MATCHING[2]], "does not publish 127.0.0.1:31443->31443/tcp"],
                [MATCHING.slice(1), "0 control-plane nodes, not 1"],
            ] as [[string, string, string, string][], string][]) {
                existing(nodes);
                const error = await rejection(kindProvider.create(SHAPED));
                assert.ok(error.message.startsWith('a kind cluster named "lab" exists already and was not made from these settings ('), error.message);
                assert.ok(error.message.includes(difference), `${difference} in: ${error.message}`);
                assert.ok(error.message.includes("delete it with `kind delete cluster --name lab`"), error.message);
                assert.equal((error as { id?: string }).id, undefined, "not recorded: the cluster is not this stack's");
            }
            assert.deepEqual([...new Set(calls().map((c) => c.slice(0, 2).join(" ")))], ["get clusters"]);
        });

        it("refuses a listed cluster with no shape to compare against", async () => {
            fake({ clusters: "lab" });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(error.message, /these settings do not say what the cluster should look like\); delete it with `kind delete cluster --name lab`/);
        });
    });

    describe("read", () => {
        it("refreshes the kubeconfig of a cluster that exists", async () => {
            fake({ clusters: "other lab" });
            const result = await kindProvider.read!("lab", { ...STATE, kubeconfig: "stale" });
            assert.equal(result.id, "lab");
            assert.deepEqual(result.props, STATE);
            assert.deepEqual(calls(), [["get", "clusters"], ["get", "kubeconfig", "--name", "lab"]]);
        });

        it("returns no id for a cluster deleted outside Pulumi, so refresh drops it", async () => {
            fake({ clusters: "other" });
            const result = await kindProvider.read!("lab", STATE);
            assert.ok(!result.id, `expected no id, got ${JSON.stringify(result)}`);
            assert.deepEqual(calls(), [["get", "clusters"]]);
        });

        it("fails (rather than reporting the cluster gone) when Docker is down", async () => {
            fake({ mode: "no-docker", clusters: "lab" });
            const error = await rejection(kindProvider.read!("lab", STATE));
            assert.match(error.message, /Docker is not installed, not running/);
        });
    });

    describe("diff and update", () => {
        it("is a no-op when nothing changed", async () => {
            const result = await kindProvider.diff!("lab", STATE, INPUTS);
            assert.equal(result.changes, false);
            assert.deepEqual(result.replaces, []);
            assert.notEqual(result.deleteBeforeReplace, true);
        });

        it("replaces, deleting first, when the rendered config changes, naming what changed", async () => {
            const news = { ...INPUTS, configYaml: renderKindConfig({ ...CONFIG, workers: 3 }) };
            const result = await kindProvider.diff!("lab", STATE, news);
            assert.deepEqual(result, { changes: true, replaces: ["configYaml"], deleteBeforeReplace: true });
        });

        it("replaces when the name or the node image changes", async () => {
            const renamed = { ...INPUTS, clusterName: "lab2", configYaml: renderKindConfig({ ...CONFIG, clusterName: "lab2" }) };
            assert.deepEqual((await kindProvider.diff!("lab", STATE, renamed)).replaces, ["clusterName", "configYaml"]);

            const image = `kindest/node:v1.32.5@sha256:${"b".repeat(64)}`;
            const upgraded = { ...INPUTS, nodeImage: image, configYaml: renderKindConfig({ ...CONFIG, nodeImage: image }) };
            const result = await kindProvider.diff!("lab", STATE, upgraded);
            assert.deepEqual(result.replaces, ["configYaml", "nodeImage"]);
            assert.equal(result.deleteBeforeReplace, true);
        });

        it("updates in place, loading the images again, when only the image list changes", async () => {
            const news = { ...INPUTS, images: ["ai-hyperscaler/slurm:24.11"] };
            const diff = await kindProvider.diff!("lab", STATE, news);
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, []);
            const result = await kindProvider.update!("lab", STATE, news);
            assert.deepEqual(calls(), [["load", "docker-image", "ai-hyperscaler/slurm:24.11", "--name", "lab"]]);
            assert.deepEqual(result.outs!.images, ["ai-hyperscaler/slurm:24.11"]);
            assert.equal(result.outs!.kubeconfig, KUBECONFIG_OF_LAB);
        });

        it("loads a rebuilt image under its new tag: the content-derived tag changes the list", async () => {
            const olds = { ...STATE, images: ["ai-hyperscaler/slurm:24.11-aaaaaaaaaaaa"] };
            const news = { ...INPUTS, images: ["ai-hyperscaler/slurm:24.11-bbbbbbbbbbbb"] };
            assert.deepEqual(await kindProvider.diff!("lab", olds, news), { changes: true, replaces: [], deleteBeforeReplace: false });
            const result = await kindProvider.update!("lab", olds, news);
            assert.deepEqual(calls(), [["load", "docker-image", "ai-hyperscaler/slurm:24.11-bbbbbbbbbbbb", "--name", "lab"]]);
            assert.deepEqual(result.outs!.images, ["ai-hyperscaler/slurm:24.11-bbbbbbbbbbbb"]);
        });

        it("updates in place, keeping the cluster and its kubeconfig, when only kindPath changes", async () => {
            const news = { ...INPUTS, kindPath: "/opt/kind/bin/kind" };
            assert.deepEqual(await kindProvider.diff!("lab", STATE, news), { changes: true, replaces: [], deleteBeforeReplace: false });
            assert.deepEqual(await kindProvider.update!("lab", STATE, news), { outs: { ...STATE, kindPath: "/opt/kind/bin/kind" } });
            assert.deepEqual(calls(), [], "no kind call for a diff or an update");
        });
    });

    describe("delete", () => {
        it("deletes an existing cluster by name", async () => {
            fake({ clusters: "lab" });
            await kindProvider.delete!("lab", STATE);
            assert.deepEqual(calls(), [["get", "clusters"], ["delete", "cluster", "--name", "lab"]]);
        });

        it("succeeds without deleting anything when the cluster is already gone", async () => {
            fake({ clusters: "other" });
            await kindProvider.delete!("lab", STATE);
            assert.deepEqual(calls(), [["get", "clusters"]]);
        });

        it("fails with the Docker message when kind cannot tell whether the cluster exists", async () => {
            fake({ mode: "no-docker", clusters: "lab" });
            const error = await rejection(kindProvider.delete!("lab", STATE));
            assert.match(error.message, /`kind get clusters` failed: Docker is not installed/);
        });
    });

    describe("serialization", () => {
        it("serializes the way the dynamic Resource does, and the deserialized copy still drives kind", async () => {
            // Exactly what pulumi.dynamic.Resource does with its provider (serializeProvider in @pulumi/pulumi).
            const serialized = await pulumi.runtime.serializeFunction(() => kindProvider, { allowSecrets: true });
            assert.ok(!/require\("yaml"\)/.test(serialized.text), "the provider must not capture the yaml package");

            // And what the dynamic provider host does to get it back (require-from-string).
            const file = path.join(dir, "provider.js");
            const loaded = new Module(file, module) as Module & { _compile(code: string, filename: string): void };
            loaded.filename = file;
            loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dir);
            loaded._compile(serialized.text, file);
            const copy = (loaded.exports as { handler(): typeof kindProvider }).handler();

            const result = await copy.create(INPUTS);
            assert.deepEqual(result.outs, STATE);
        });
    });
});
