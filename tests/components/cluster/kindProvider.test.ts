/**
 * The kind dynamic provider, its methods called directly against the fake `kind` and `docker` of tests/fakes
 * (first on PATH; their headers describe what they answer and record).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderOutputs, kindProvider } from "../../../components/cluster/kindProvider";
import { CONFIG, fake, FAKES, INPUTS, KUBECONFIG_OF_LAB, rejection, STATE, useFakeKind } from "./fakeKind";

describe("kindProvider (against a fake kind CLI)", () => {
    const { box, calls } = useFakeKind();

    describe("create", () => {
        it("runs kind create with the name, the rendered config and a private kubeconfig, and returns it", async () => {
            const result = await kindProvider.create(INPUTS);

            const [list, call, ...more] = calls();
            assert.deepEqual(list, ["get", "clusters"]);
            assert.equal(more.length, 0, `two kind calls expected, got ${JSON.stringify(calls())}`);
            assert.deepEqual(call.slice(0, 4), ["create", "cluster", "--name", "lab"]);
            assert.equal(call[4], "--config");
            assert.equal(call[6], "--kubeconfig");
            assert.equal(call.length, 8);
            assert.equal(fs.readFileSync(path.join(box.dir, "kind-config-seen.yaml"), "utf8"), INPUTS.configYaml);

            assert.equal(result.id, "lab");
            assert.deepEqual(result.outs, STATE);
            // The temp files (config and a kubeconfig holding credentials) are gone.
            assert.ok(!fs.existsSync(call[5]), `config file ${call[5]} left behind`);
            assert.ok(!fs.existsSync(call[7]), `kubeconfig file ${call[7]} left behind`);
        });

        it("loads the listed local images into the new cluster", async () => {
            const result = await kindProvider.create({ ...INPUTS, images: ["ai-hyperscaler/slurm:24.11", "extra:1"] });
            assert.deepEqual(calls()[2], [
                "load",
                "docker-image",
                "ai-hyperscaler/slurm:24.11",
                "extra:1",
                "--name",
                "lab",
            ]);
            assert.deepEqual(result.outs!.images, ["ai-hyperscaler/slurm:24.11", "extra:1"]);
        });

        it("records a cluster whose image load failed (id, properties, no images), naming the build", async () => {
            process.env.FAKE_KIND_MISSING_IMAGE = "ai-hyperscaler/slurm:24.11-0123456789ab";
            const inputs = {
                ...INPUTS,
                images: ["ai-hyperscaler/slurm:24.11-0123456789ab"],
                __provider: "serialized provider",
            };
            const error = (await rejection(kindProvider.create(inputs))) as Error & {
                id?: string;
                properties?: Record<string, unknown>;
                reasons?: string[];
            };
            assert.ok(
                error.message.includes('image: "ai-hyperscaler/slurm:24.11-0123456789ab" not present locally'),
                error.message,
            );
            assert.ok(
                error.message.includes(
                    "`docker build -t ai-hyperscaler/slurm:24.11-0123456789ab containers/images/slurm-base/Docker`",
                ),
                error.message,
            );
            // What the dynamic provider host turns into ErrorResourceInitFailed: Pulumi records the cluster.
            assert.equal(error.id, "lab");
            assert.deepEqual(error.properties, { ...STATE, images: [], __provider: "serialized provider" });
            assert.deepEqual(error.reasons, [error.message]);
            assert.ok(
                error.message.endsWith("\nThe cluster lab is kept in the stack; the next up loads the images."),
                error.message,
            );
            assert.ok(fs.existsSync(path.join(box.dir, "kind-nodes", "lab")), "the cluster is still there");
            assert.ok(!calls().some((c) => c[0] === "delete"));

            // The next up: the recorded state has no images, so the diff asks for an update, which loads them.
            const recorded = error.properties as unknown as KindProviderOutputs;
            delete process.env.FAKE_KIND_MISSING_IMAGE;
            const diff = await kindProvider.diff!("lab", recorded, inputs);
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, []);
            const updated = await kindProvider.update!("lab", recorded, inputs);
            assert.deepEqual(calls().at(-1), [
                "load",
                "docker-image",
                "ai-hyperscaler/slurm:24.11-0123456789ab",
                "--name",
                "lab",
            ]);
            assert.deepEqual(updated.outs!.images, ["ai-hyperscaler/slurm:24.11-0123456789ab"]);
            assert.equal(updated.outs!.kubeconfig, KUBECONFIG_OF_LAB);
        });

        it("passes on a load failure other than a missing image as kind said it, with no build advice", async () => {
            const gone = { ...STATE, images: [] };
            const error = await rejection(kindProvider.update!("lab", gone, { ...INPUTS, images: ["slurm:1"] }));
            assert.equal(
                error.message,
                '`kind load docker-image slurm:1 --name lab` failed (exit code 1). kind said:\nERROR: no nodes found for cluster "lab"',
            );
        });

        it("fails with kind's own stderr and the command, without blaming Docker for a kubeadm failure", async () => {
            fake({ mode: "fail" });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(
                error.message,
                /`kind create cluster --name lab --config \S+ --kubeconfig \S+` failed \(exit code 1\)/,
            );
            assert.ok(
                error.message.includes("ERROR: failed to create cluster: failed to init node with kubeadm"),
                error.message,
            );
            assert.ok(error.message.includes("Starting control-plane"), "all of kind's stderr, not just its last line");
            assert.doesNotMatch(error.message, /Docker is not installed/);
            assert.equal((error as { id?: string }).id, undefined, "no cluster was made: nothing to record");
        });

        it("says Docker is missing or not running when kind cannot reach it", async () => {
            fake({ mode: "no-docker" });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(error.message, /Docker is not installed, not running, or not usable by this user/);
            assert.ok(
                error.message.includes("Cannot connect to the Docker daemon at unix:///var/run/docker.sock"),
                error.message,
            );
        });

        it("says where to get kind when it is not on PATH", async () => {
            process.env.PATH = fs.mkdtempSync(path.join(box.dir, "empty-"));
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(
                error.message,
                /^the kind CLI was not found on PATH \(looked for "kind"\); install it from https:\/\/kind\.sigs\.k8s\.io \(or set kindPath to its name or path\)$/,
            );
            assert.deepEqual(calls(), []);
        });

        it("runs `kind` from PATH when kindPath is not set", async () => {
            const { kindPath: _dropped, ...inputs } = INPUTS;
            const result = await kindProvider.create(inputs);
            assert.equal(result.outs?.kindPath, "kind");
            assert.deepEqual(
                calls().map((c) => c[0]),
                ["get", "create"],
            );
        });

        it("resolves kindPath through PATH, and names a missing explicit path", async () => {
            fs.symlinkSync(path.join(FAKES, "kind"), path.join(box.dir, "bin", "kind-v0.29.0"));
            fs.rmSync(path.join(box.dir, "bin", "kind"));
            const result = await kindProvider.create({ ...INPUTS, kindPath: "kind-v0.29.0" });
            assert.equal(result.outs?.kindPath, "kind-v0.29.0");
            assert.deepEqual(
                calls().map((c) => c[0]),
                ["get", "create"],
            );

            const missing = path.join(box.dir, "nowhere", "kind");
            const error = await rejection(kindProvider.create({ ...INPUTS, kindPath: missing }));
            assert.ok(
                error.message.startsWith(
                    `the kind CLI was not found at ${missing}; install it from https://kind.sigs.k8s.io`,
                ),
                error.message,
            );
        });
    });

    describe("read", () => {
        it("refreshes the kubeconfig of a cluster that exists", async () => {
            fake({ clusters: "other lab" });
            const result = await kindProvider.read!("lab", { ...STATE, kubeconfig: "stale" });
            assert.equal(result.id, "lab");
            assert.deepEqual(result.props, STATE);
            assert.deepEqual(calls(), [
                ["get", "clusters"],
                ["get", "kubeconfig", "--name", "lab"],
            ]);
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

        it("treats a missing image list as an empty one, either side", async () => {
            const { images: _dropped, ...withoutImages } = STATE;
            assert.equal((await kindProvider.diff!("lab", withoutImages, { ...INPUTS, images: [] })).changes, false);
            assert.equal((await kindProvider.diff!("lab", STATE, { ...INPUTS, images: undefined })).changes, false);
            assert.equal(
                (await kindProvider.diff!("lab", withoutImages, { ...INPUTS, images: ["x:1"] })).changes,
                true,
            );
        });

        it("replaces, deleting first, when the rendered config changes, naming what changed", async () => {
            const news = { ...INPUTS, configYaml: renderKindConfig({ ...CONFIG, workers: 3 }) };
            const result = await kindProvider.diff!("lab", STATE, news);
            assert.deepEqual(result, { changes: true, replaces: ["configYaml"], deleteBeforeReplace: true });
        });

        it("replaces when the name or the node image changes", async () => {
            const renamed = {
                ...INPUTS,
                clusterName: "lab2",
                configYaml: renderKindConfig({ ...CONFIG, clusterName: "lab2" }),
            };
            assert.deepEqual((await kindProvider.diff!("lab", STATE, renamed)).replaces, ["clusterName", "configYaml"]);

            const image = `kindest/node:v1.32.5@sha256:${"b".repeat(64)}`;
            const upgraded = {
                ...INPUTS,
                nodeImage: image,
                configYaml: renderKindConfig({ ...CONFIG, nodeImage: image }),
            };
            const result = await kindProvider.diff!("lab", STATE, upgraded);
            assert.deepEqual(result.replaces, ["configYaml", "nodeImage"]);
            assert.equal(result.deleteBeforeReplace, true);
        });

        it("updates in place, loading the images again, when only the image list changes", async () => {
            fake({ clusters: "lab" });
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
            fake({ clusters: "lab" });
            const olds = { ...STATE, images: ["ai-hyperscaler/slurm:24.11-aaaaaaaaaaaa"] };
            const news = { ...INPUTS, images: ["ai-hyperscaler/slurm:24.11-bbbbbbbbbbbb"] };
            assert.deepEqual(await kindProvider.diff!("lab", olds, news), {
                changes: true,
                replaces: [],
                deleteBeforeReplace: false,
            });
            const result = await kindProvider.update!("lab", olds, news);
            assert.deepEqual(calls(), [
                ["load", "docker-image", "ai-hyperscaler/slurm:24.11-bbbbbbbbbbbb", "--name", "lab"],
            ]);
            assert.deepEqual(result.outs!.images, ["ai-hyperscaler/slurm:24.11-bbbbbbbbbbbb"]);
        });

        it("updates in place, keeping the cluster and its kubeconfig, when only kindPath changes", async () => {
            const news = { ...INPUTS, kindPath: "/opt/kind/bin/kind" };
            assert.deepEqual(await kindProvider.diff!("lab", STATE, news), {
                changes: true,
                replaces: [],
                deleteBeforeReplace: false,
            });
            assert.deepEqual(await kindProvider.update!("lab", STATE, news), {
                outs: { ...STATE, kindPath: "/opt/kind/bin/kind" },
            });
            assert.deepEqual(calls(), [], "no kind call for a diff or an update");
        });
    });

    describe("delete", () => {
        it("deletes an existing cluster by name", async () => {
            fake({ clusters: "lab" });
            await kindProvider.delete!("lab", STATE);
            assert.deepEqual(calls(), [
                ["get", "clusters"],
                ["delete", "cluster", "--name", "lab"],
            ]);
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
            const file = path.join(box.dir, "provider.js");
            const loaded = new Module(file, module) as Module & { _compile(code: string, filename: string): void };
            loaded.filename = file;
            loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(box.dir);
            loaded._compile(serialized.text, file);
            const copy = (loaded.exports as { handler(): typeof kindProvider }).handler();

            const result = await copy.create(INPUTS);
            assert.deepEqual(result.outs, STATE);
        });
    });
});
