/**
 * The settings issue 18 adds: `cluster.engine` (and its default from KIND_EXPERIMENTAL_PROVIDER), what a Podman
 * stack cannot do (GPUs, a Slurm image without its registry), the node image's accepted forms, the MariaDB image,
 * and which images the Kind cluster loads.
 */
import { strict as assert } from "node:assert";
import { kindLoadedImages, parseStackConfig } from "../../config/schema";
import { defaultSlurmImage } from "../../config/slurmImage";
import { assertAccepted, assertRefused, problemsOf } from "./helpers";

const DIGEST = "050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f";
const PODMAN_ENV = { env: { KIND_EXPERIMENTAL_PROVIDER: "podman" } };
const engineOf = (raw: Record<string, unknown>, env: Record<string, string> = {}) => {
    const cluster = parseStackConfig(raw, { env }).cluster;
    return cluster.type === "kind" ? cluster.engine : undefined;
};

describe("cluster.engine", () => {
    it("is docker or podman, and a bad value is quoted with what is allowed", () => {
        assert.equal(engineOf({ cluster: { engine: "podman" } }), "podman");
        assert.equal(engineOf({ cluster: { engine: "docker" } }, { KIND_EXPERIMENTAL_PROVIDER: "podman" }), "docker");
        assertRefused({ cluster: { engine: "nerdctl" } }, 'cluster.engine = "nerdctl": must be one of docker, podman');
        assertRefused({ cluster: { engine: "Docker" } }, 'cluster.engine = "Docker"');
    });

    it("defaults to KIND_EXPERIMENTAL_PROVIDER, as kind does, else docker", () => {
        assert.equal(engineOf({}), "docker");
        assert.equal(engineOf({}, { KIND_EXPERIMENTAL_PROVIDER: "" }), "docker", "an empty variable is unset");
        assert.equal(engineOf({}, { KIND_EXPERIMENTAL_PROVIDER: "podman" }), "podman");
        assert.equal(engineOf({}, { KIND_EXPERIMENTAL_PROVIDER: "docker" }), "docker");
    });

    it("refuses a variable this project does not run, unless cluster.engine overrides it or there is no Kind", () => {
        const env = { env: { KIND_EXPERIMENTAL_PROVIDER: "nerdctl" } };
        assert.deepEqual(problemsOf({}, env), [
            'KIND_EXPERIMENTAL_PROVIDER (environment) = "nerdctl": must be one of docker, podman when ' +
                "cluster.engine is not set (it is that setting's default); set cluster.engine, or change or unset " +
                "the variable",
        ]);
        assertAccepted({ cluster: { engine: "docker" } }, env);
        assertAccepted({ cluster: { type: "existing" }, slurm: { image: "registry.example/slurm:1" } }, env);
    });

    it("reports a bad engine together with every other bad setting", () => {
        const problems = problemsOf({ cluster: { engine: "lxc", workers: -1 }, slurm: { mariadbImage: "mariadb" } });
        assert.equal(problems.length, 3, problems.join("\n"));
    });

    it("is not a field of an existing cluster", () => {
        assertRefused({ cluster: { type: "existing", engine: "podman" } }, "engine");
    });
});

describe("a GPU stack on Podman", () => {
    const gpu = { cluster: { workers: 1, gpuWorkers: 1 } };
    it("is refused, naming cluster.engine, its value, and what is allowed", () => {
        const line = assertRefused({ cluster: { ...gpu.cluster, engine: "podman" } });
        assert.equal(
            line,
            'cluster.engine = "podman": must be docker with cluster.gpuWorkers = 1: the GPU setup is nvkind\'s, ' +
                "which is Docker-only (Docker's NVIDIA runtime hands the nodes the GPUs); set cluster.engine to " +
                "docker, or cluster.gpuWorkers to 0",
        );
    });

    it("is refused when podman comes from the environment, saying so", () => {
        const problems = problemsOf(gpu, PODMAN_ENV);
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.ok(
            problems[0].includes(
                "must be docker with cluster.gpuWorkers = 1 (podman is KIND_EXPERIMENTAL_PROVIDER's, as " +
                    "cluster.engine is not set)",
            ),
            problems[0],
        );
    });

    it("is fine on Docker, and Podman is fine without GPU workers", () => {
        assertAccepted(gpu);
        assertAccepted({ cluster: { ...gpu.cluster, engine: "docker" } }, PODMAN_ENV);
        assertAccepted({ cluster: { engine: "podman", workers: 1, gpuWorkers: 0 } });
    });
});

describe("the Slurm image on Podman", () => {
    it("defaults to the localhost/ name Podman gives the image it builds", () => {
        const config = parseStackConfig({ cluster: { engine: "podman" } });
        assert.equal(config.slurm.image, `localhost/${defaultSlurmImage()}`);
        assert.equal(parseStackConfig({}).slurm.image, defaultSlurmImage(), "Docker's name stays as it was");
    });

    it("must name its registry when set, or Kubernetes would look for it on Docker Hub", () => {
        const podman = { engine: "podman" };
        for (const image of ["localhost/slurm:1", "docker.io/team/slurm:1", "registry.example:5000/slurm:1"]) {
            assertAccepted({ cluster: podman, slurm: { image } });
        }
        const line = assertRefused({ cluster: podman, slurm: { image: "team/slurm:1" } });
        assert.equal(
            line,
            'slurm.image = "team/slurm:1": with cluster.engine podman must name its registry, such as ' +
                "localhost/slurm:1 (an image built with podman) or docker.io/team/slurm:1",
        );
        assertAccepted({ slurm: { image: "team/slurm:1" } }, {});
        assertAccepted({ cluster: podman, slurm: { mode: "slinky", image: "team/slurm:1" } });
    });
});

describe("cluster.nodeImage", () => {
    it("accepts an image pinned by digest, from kindest or a mirror, and a local image with a tag", () => {
        for (const nodeImage of [
            `kindest/node:v1.33.1@sha256:${DIGEST}`,
            `registry.example/kindest/node:v1.33.1@sha256:${DIGEST}`,
            `registry.example:5000/mirror/kind-node@sha256:${DIGEST}`,
            "localhost/kind-node:v1.33.1",
            "localhost/kindest/node:v1.33.1-offline",
        ]) {
            assertAccepted({ cluster: { nodeImage } });
        }
    });

    it("refuses a tag alone on a registry's image, and a local image without a tag or with latest", () => {
        for (const nodeImage of [
            "kindest/node:v1.33.1",
            "registry.example/kindest/node:v1.33.1",
            "localhost/kind-node",
            "localhost/kind-node:latest",
            `kindest/node:v1.33.1@sha256:${DIGEST.slice(1)}`,
            `kindest/Node:v1.33.1@sha256:${DIGEST}`,
        ]) {
            assertRefused(
                { cluster: { nodeImage } },
                `cluster.nodeImage = ${JSON.stringify(nodeImage)}: must be an image pinned by digest, like ` +
                    "kindest/node:v1.33.1@sha256:<64 hex digits> (or a mirror's " +
                    "registry.example/kindest/node:v1.33.1@sha256:<64 hex digits>), or a local image " +
                    "localhost/<name>:<tag> with a tag other than latest",
            );
        }
    });
});

describe("slurm.mariadbImage", () => {
    it("defaults to upstream MariaDB 11.8 and takes a mirror's or a local image", () => {
        assert.equal(parseStackConfig({}).slurm.mariadbImage, "docker.io/library/mariadb:11.8");
        for (const mariadbImage of ["registry.example/library/mariadb:11.8", "localhost/mariadb:11.8"]) {
            assert.equal(parseStackConfig({ slurm: { mariadbImage } }).slurm.mariadbImage, mariadbImage);
        }
    });

    it("must be pinned, by a tag other than latest or a digest", () => {
        for (const mariadbImage of ["mariadb", "docker.io/library/mariadb:latest", "Mariadb:11.8"]) {
            assertRefused(
                { slurm: { mariadbImage } },
                `slurm.mariadbImage = ${JSON.stringify(mariadbImage)}: must be a container image reference pinned`,
            );
        }
    });
});

describe("kindLoadedImages", () => {
    const loaded = (raw: Record<string, unknown>) => kindLoadedImages(parseStackConfig(raw));
    const slurm = defaultSlurmImage();

    it("loads the static stack's Slurm image, and MariaDB's only when it is local", () => {
        assert.deepEqual(loaded({}), [slurm]);
        assert.deepEqual(loaded({ slurm: { mariadbImage: "localhost/mariadb:11.8" } }), [
            slurm,
            "localhost/mariadb:11.8",
        ]);
        assert.deepEqual(loaded({ slurm: { mariadbImage: "registry.example/mariadb:11.8" } }), [slurm]);
    });

    it("loads a local MariaDB image in Slinky mode too, nothing without Slurm, and nothing off Kind", () => {
        const local = { mariadbImage: "localhost/mariadb:11.8" };
        assert.deepEqual(loaded({ slurm: { mode: "slinky", ...local } }), ["localhost/mariadb:11.8"]);
        assert.deepEqual(loaded({ slurm: { mode: "none", ...local } }), []);
        const existing = { cluster: { type: "existing" }, slurm: { image: "localhost/slurm:1", ...local } };
        assert.deepEqual(loaded(existing), []);
    });

    it("lists an image once when the Slurm and MariaDB settings name the same one", () => {
        const same = "localhost/lab:1";
        assert.deepEqual(loaded({ slurm: { image: same, mariadbImage: same } }), [same]);
    });
});
