/**
 * The kind provider per engine (`engine` input): the KIND_EXPERIMENTAL_PROVIDER every kind call runs with, how
 * images reach the nodes (Docker: `kind load docker-image`; Podman: `podman save -m` into a temporary archive, then
 * `kind load image-archive`), the engine named in errors, and the engine as a replacing input. Against the fake
 * `kind`, `docker` and `podman` of tests/fakes; podman's records of node containers are read from a real podman in
 * kindProviderAdoptPodman.real.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { KindProviderInputs, kindProvider } from "../../../components/cluster/kindProvider";
import { fake, INPUTS, rejection, STATE, useFakeKind } from "./fakeKind";

const PODMAN: KindProviderInputs = { ...INPUTS, engine: "podman" };
const LOCAL_IMAGES = ["localhost/ai-hyperscaler/slurm:24.11-0123456789ab", "localhost/mariadb:11.8"];

describe("kindProvider per engine (against fake kind, docker and podman CLIs)", () => {
    const { box, calls, engines } = useFakeKind();
    const podmanImages = (images: readonly string[]) =>
        fs.writeFileSync(path.join(box.dir, "podman-images"), images.map((i) => `${i}\n`).join(""));
    const loaded = () => fs.readFileSync(path.join(box.dir, "kind-loaded"), "utf8");
    /** The `-o` archive of the one `podman save` so far. */
    const savedArchive = () => {
        const saves = calls("podman").filter((c) => c[0] === "save");
        assert.equal(saves.length, 1, JSON.stringify(calls("podman")));
        return saves[0][saves[0].indexOf("-o") + 1];
    };

    describe("docker", () => {
        it("names docker to kind in every call, loads with kind load docker-image, and never runs podman", async () => {
            await kindProvider.create({ ...INPUTS, images: ["ai-hyperscaler/slurm:1"] });
            assert.deepEqual(
                calls().map((c) => c.slice(0, 2)),
                [
                    ["get", "clusters"],
                    ["create", "cluster"],
                    ["load", "docker-image"],
                ],
            );
            assert.deepEqual(engines(), ["docker", "docker", "docker"]);
            assert.deepEqual(calls("podman"), []);
        });

        it("treats state recorded before the engine input as docker", async () => {
            const { engine: _, ...old } = STATE;
            await kindProvider.delete!("lab", old as typeof STATE);
            assert.deepEqual(engines(), ["docker"]);
        });
    });

    describe("podman", () => {
        it("runs every kind call with KIND_EXPERIMENTAL_PROVIDER=podman: create, get, read, delete", async () => {
            const created = await kindProvider.create(PODMAN);
            assert.equal(created.outs!.engine, "podman");
            await kindProvider.read!("lab", created.outs!);
            await kindProvider.delete!("lab", created.outs!);
            assert.deepEqual(
                calls().map((c) => c.slice(0, 2)),
                [
                    ["get", "clusters"],
                    ["create", "cluster"],
                    ["get", "clusters"],
                    ["get", "kubeconfig"],
                    ["get", "clusters"],
                    ["delete", "cluster"],
                ],
            );
            assert.deepEqual(new Set(engines()), new Set(["podman"]));
            assert.equal(engines().length, 6);
        });

        it("loads every image through one multi-image archive and kind load image-archive, then removes it", async () => {
            podmanImages(LOCAL_IMAGES);
            const result = await kindProvider.create({ ...PODMAN, images: LOCAL_IMAGES });

            const archive = savedArchive();
            assert.deepEqual(calls("podman"), [
                ["save", "-m", "--format", "docker-archive", "-o", archive, ...LOCAL_IMAGES],
            ]);
            assert.equal(path.basename(archive), "images.tar");
            assert.deepEqual(calls().at(-1), ["load", "image-archive", archive, "--name", "lab"]);
            assert.equal(engines().at(-1), "podman");
            // kind read the archive podman wrote, with both images in it, and no docker-image load happened.
            assert.equal(
                loaded(),
                `load image-archive ${archive} --name lab\n${LOCAL_IMAGES.map((i) => `image ${i}\n`).join("")}`,
            );
            assert.ok(!fs.existsSync(path.dirname(archive)), `${path.dirname(archive)} left behind`);
            assert.deepEqual(result.outs!.images, LOCAL_IMAGES);
            assert.deepEqual(calls("docker"), []);
        });

        it("names podman build for an image Podman does not have, removes the archive's folder, keeps the cluster", async () => {
            podmanImages([LOCAL_IMAGES[1]]);
            const error = (await rejection(kindProvider.create({ ...PODMAN, images: LOCAL_IMAGES }))) as Error & {
                id?: string;
            };
            assert.ok(error.message.includes(`Error: ${LOCAL_IMAGES[0]}: image not known`), error.message);
            assert.ok(
                error.message.includes(
                    "must be in the local Podman first; the Slurm image is built with " +
                        `\`podman build -t ${LOCAL_IMAGES[0]} containers/images/slurm-base/Docker\``,
                ),
                error.message,
            );
            assert.equal(error.id, "lab", "the created cluster is recorded");
            assert.ok(!calls().some((c) => c[0] === "load"), "kind loads nothing when the save failed");
            assert.ok(!fs.existsSync(path.dirname(savedArchive())), "the archive's folder is removed");
        });

        it("removes the archive when kind's load fails, and passes kind's words on", async () => {
            podmanImages(LOCAL_IMAGES);
            // The state names a cluster kind no longer lists: the load fails as kind's does.
            const gone = { ...STATE, engine: "podman" as const, images: [] };
            const error = await rejection(kindProvider.update!("lab", gone, { ...PODMAN, images: LOCAL_IMAGES }));
            const archive = savedArchive();
            assert.equal(
                error.message,
                `\`kind load image-archive ${archive} --name lab\` failed (exit code 1). kind said:\n` +
                    'ERROR: no nodes found for cluster "lab"',
            );
            assert.ok(!fs.existsSync(path.dirname(archive)), `${path.dirname(archive)} left behind`);
        });

        it("says Podman, not Docker, is unusable when kind cannot run it", async () => {
            fake({ mode: "no-docker" });
            const error = await rejection(kindProvider.create(PODMAN));
            assert.match(
                error.message,
                /^`kind get clusters` failed: Podman is not installed, not running, or not usable by this user; kind runs every node as a Podman container \(cluster\.engine podman\)\. kind said:\n.*"podman": executable file not found/,
            );
        });

        it("says Docker when the engine is docker and kind cannot reach it", async () => {
            fake({ mode: "no-docker" });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.match(
                error.message,
                /failed: Docker is not installed, .* as a Docker container \(cluster\.engine docker\)/,
            );
        });
    });

    describe("diff", () => {
        it("replaces, deleting first, when the engine changes either way", async () => {
            for (const [olds, news] of [
                [STATE, PODMAN],
                [{ ...STATE, engine: "podman" as const }, INPUTS],
            ]) {
                const diff = await kindProvider.diff!("lab", olds as typeof STATE, news);
                assert.deepEqual(diff, { changes: true, replaces: ["engine"], deleteBeforeReplace: true });
            }
        });

        it("sees no change between state without an engine and engine docker", async () => {
            const { engine: _, ...old } = STATE;
            const diff = await kindProvider.diff!("lab", old as typeof STATE, { ...INPUTS, engine: "docker" });
            assert.deepEqual(diff, { changes: false, replaces: [], deleteBeforeReplace: false });
        });
    });
});
