/**
 * The kind dynamic provider, its methods called directly against a fake `kind`: a bash script first on PATH
 * that logs its arguments and answers like kind would (FAKE_KIND_MODE: ok | fail | no-docker; FAKE_KIND_CLUSTERS:
 * the clusters `kind get clusters` lists, space-separated).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderInputs, KindProviderOutputs, kindProvider } from "../../../components/cluster/kindProvider";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";

const FAKE_KIND = String.raw`#!/bin/bash
(IFS=$'\t'; echo "$*") >> "$FAKE_KIND_DIR/calls.log"
mode="${"$"}{FAKE_KIND_MODE:-ok}"
name=kind config= kubeconfig=
args=("$@")
for ((i = 0; i < ${"$"}{#args[@]}; i++)); do
    case "${"$"}{args[i]}" in
        --name) name="${"$"}{args[i+1]}" ;;
        --config) config="${"$"}{args[i+1]}" ;;
        --kubeconfig) kubeconfig="${"$"}{args[i+1]}" ;;
    esac
done
fake_kubeconfig() { printf 'apiVersion: v1\nkind: Config\ncurrent-context: kind-%s\n# fake kubeconfig of %s\n' "$1" "$1"; }
listed() { for c in $FAKE_KIND_CLUSTERS; do [ "$c" = "$1" ] && return 0; done; return 1; }

if [ "$mode" = no-docker ]; then
    echo 'ERROR: failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster" failed with error: exit status 1' >&2
    echo 'Command Output: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2
    exit 1
fi
case "$1 $2" in
    "get clusters")
        [ -z "$FAKE_KIND_CLUSTERS" ] && echo "No kind clusters found." >&2
        for c in $FAKE_KIND_CLUSTERS; do echo "$c"; done ;;
    "get kubeconfig")
        if listed "$name"; then fake_kubeconfig "$name"; else
            echo "ERROR: could not locate any control plane nodes for cluster named '$name'." >&2; exit 1; fi ;;
    "create cluster")
        echo "Creating cluster \"$name\" ..." >&2
        if [ "$mode" = fail ]; then
            echo ' ✗ Starting control-plane 🕹️' >&2
            echo "ERROR: failed to create cluster: failed to init node with kubeadm: command \"docker exec --privileged $name-control-plane kubeadm init --skip-phases=preflight\" failed with error: exit status 1" >&2
            exit 1
        fi
        cp "$config" "$FAKE_KIND_DIR/config-seen.yaml"
        fake_kubeconfig "$name" > "$kubeconfig" ;;
    "delete cluster")
        echo "Deleting cluster \"$name\" ..." >&2 ;;
    "load docker-image")
        for image in "${"$"}{args[@]:2}"; do
            [ "$image" = "$FAKE_KIND_MISSING_IMAGE" ] && { echo "ERROR: image: \"$image\" not present locally" >&2; exit 1; }
            [ "$image" = --name ] && break
        done ;;
    *)
        echo "fake kind: unexpected command: $*" >&2; exit 2 ;;
esac
`;

const CONFIG = { clusterName: "lab", workers: 2, gpuWorkers: 1, nodeImage: DEFAULT_KIND_NODE_IMAGE, portMappings: [] };
const INPUTS: KindProviderInputs = { clusterName: "lab", configYaml: renderKindConfig(CONFIG), nodeImage: DEFAULT_KIND_NODE_IMAGE, kindPath: "kind" };
const KUBECONFIG_OF_LAB = "apiVersion: v1\nkind: Config\ncurrent-context: kind-lab\n# fake kubeconfig of lab\n";
const STATE: KindProviderOutputs = { ...INPUTS, images: [], kubeconfig: KUBECONFIG_OF_LAB };

describe("kindProvider (against a fake kind CLI)", () => {
    const savedEnv = { ...process.env };
    let dir: string;

    /** Every kind invocation so far, each as its argument list. */
    const calls = (): string[][] => {
        const log = path.join(dir, "calls.log");
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
        fs.writeFileSync(path.join(dir, "kind"), FAKE_KIND, { mode: 0o755 });
        process.env.PATH = `${dir}${path.delimiter}${savedEnv.PATH}`;
        process.env.FAKE_KIND_DIR = dir;
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

            const [call, ...more] = calls();
            assert.equal(more.length, 0, `one kind call expected, got ${JSON.stringify(calls())}`);
            assert.deepEqual(call.slice(0, 4), ["create", "cluster", "--name", "lab"]);
            assert.equal(call[4], "--config");
            assert.equal(call[6], "--kubeconfig");
            assert.equal(call.length, 8);
            assert.equal(fs.readFileSync(path.join(dir, "config-seen.yaml"), "utf8"), INPUTS.configYaml);

            assert.equal(result.id, "lab");
            assert.deepEqual(result.outs, STATE);
            // The temp files (config and a kubeconfig holding credentials) are gone.
            assert.ok(!fs.existsSync(call[5]), `config file ${call[5]} left behind`);
            assert.ok(!fs.existsSync(call[7]), `kubeconfig file ${call[7]} left behind`);
        });

        it("loads the listed local images into the new cluster", async () => {
            const result = await kindProvider.create({ ...INPUTS, images: ["ai-hyperscaler/slurm:24.11", "extra:1"] });
            assert.deepEqual(calls()[1], ["load", "docker-image", "ai-hyperscaler/slurm:24.11", "extra:1", "--name", "lab"]);
            assert.deepEqual(result.outs!.images, ["ai-hyperscaler/slurm:24.11", "extra:1"]);
        });

        it("says how to build an image that is not in the local Docker", async () => {
            process.env.FAKE_KIND_MISSING_IMAGE = "ai-hyperscaler/slurm:24.11";
            const error = await rejection(kindProvider.create({ ...INPUTS, images: ["ai-hyperscaler/slurm:24.11"] }));
            assert.ok(error.message.includes('image: "ai-hyperscaler/slurm:24.11" not present locally'), error.message);
            assert.match(error.message, /docker build -t <image> containers\/images\/slurm-base\/Docker/);
        });

        it("fails with kind's own stderr and the command, without blaming Docker for a kubeadm failure", async () => {
            fake({ mode: "fail" });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(error.message, /`kind create cluster --name lab --config \S+ --kubeconfig \S+` failed \(exit code 1\)/);
            assert.ok(error.message.includes("ERROR: failed to create cluster: failed to init node with kubeadm"), error.message);
            assert.ok(error.message.includes("Starting control-plane"), "all of kind's stderr, not just its last line");
            assert.doesNotMatch(error.message, /Docker is not installed/);
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
            fs.copyFileSync(path.join(dir, "kind"), path.join(dir, "kind-v0.29.0"));
            fs.rmSync(path.join(dir, "kind"));
            const result = await kindProvider.create({ ...INPUTS, kindPath: "kind-v0.29.0" });
            assert.equal(result.outs?.kindPath, "kind-v0.29.0");
            assert.equal(calls().length, 1);

            const missing = path.join(dir, "nowhere", "kind");
            const error = await rejection(kindProvider.create({ ...INPUTS, kindPath: missing }));
            assert.ok(error.message.startsWith(`the kind CLI was not found at ${missing}; install it from https://kind.sigs.k8s.io`), error.message);
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
