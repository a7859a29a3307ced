import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../../config/schema";
import { defaultSlurmImage } from "../../../config/slurmImage";
import { planFor } from "../../../scripts/lib/plan";
import { ROOT } from "./doubles";

describe("npm run up / preview / destroy: plan", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-lib-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const dev = parseStackConfig({ cluster: { type: "kind" } });
    it("builds the content-tagged image for up on Kind with static Slurm, and needs kind and Docker", () => {
        assert.deepEqual(planFor("up", dev, {}, ROOT), {
            needs: { kind: true, engine: "docker" as const, gpu: false, kubectl: false },
            image: {
                engine: "docker",
                image: defaultSlurmImage(),
                build: true,
                context: "containers/images/slurm-base/Docker",
            },
        });
    });

    it("preview needs only the Pulumi CLI; destroy needs kind and Docker but no image", () => {
        assert.deepEqual(planFor("preview", dev, {}, ROOT), {
            needs: { kind: false, gpu: false, kubectl: false },
            image: undefined,
        });
        assert.deepEqual(planFor("destroy", dev, {}, ROOT), {
            needs: { kind: true, engine: "docker" as const, gpu: false, kubectl: false },
            image: undefined,
        });
    });

    it("checks GPUs for up with GPU workers; nothing local for an existing cluster or without static Slurm", () => {
        const gpu = parseStackConfig({
            cluster: { type: "kind", workers: 1, gpuWorkers: 1 },
            gpuOperator: { enabled: true },
        });
        assert.equal(planFor("up", gpu, {}, ROOT).needs.gpu, true);
        assert.equal(planFor("destroy", gpu, {}, ROOT).needs.gpu, false);
        const slinky = parseStackConfig({ cluster: { type: "kind" }, slurm: { mode: "slinky" } });
        assert.equal(planFor("up", slinky, {}, ROOT).image, undefined);
        const existingSettings = {
            cluster: { type: "existing" },
            slurm: { mode: "static", image: "registry.example/slurm:1" },
        };
        assert.deepEqual(planFor("up", parseStackConfig(existingSettings), existingSettings, ROOT), {
            needs: { kind: false, gpu: false, kubectl: false },
            image: undefined,
        });
    });

    it("needs kubectl for an up with tenants or with GPUs to wait for, not for preview or destroy", () => {
        const tenants = parseStackConfig({ vcluster: { tenants: [{ name: "team-a" }] } });
        assert.equal(planFor("up", tenants, {}, ROOT).needs.kubectl, true);
        assert.equal(planFor("preview", tenants, {}, ROOT).needs.kubectl, false);
        assert.equal(planFor("destroy", tenants, {}, ROOT).needs.kubectl, false);
        const gpus = parseStackConfig({
            cluster: { type: "kind", workers: 1, gpuWorkers: 1 },
            gpuOperator: { enabled: true },
            slurm: { compute: { gpus: 1 } },
        });
        assert.equal(planFor("up", gpus, {}, ROOT).needs.kubectl, true);
        assert.equal(planFor("up", dev, {}, ROOT).needs.kubectl, false);
        const operatorOnly = parseStackConfig({
            cluster: { type: "kind", workers: 1, gpuWorkers: 1 },
            gpuOperator: { enabled: true },
        });
        assert.equal(planFor("up", operatorOnly, {}, ROOT).needs.kubectl, false, "no GPU pods to wait for");
    });

    it("never builds an explicit slurm.image: it must be there", () => {
        const settings = { cluster: { type: "kind" }, slurm: { image: "registry.example/slurm:mine" } };
        assert.deepEqual(planFor("up", parseStackConfig(settings), settings, ROOT).image, {
            engine: "docker",
            image: "registry.example/slurm:mine",
            build: false,
            context: "containers/images/slurm-base/Docker",
        });
    });
    it("takes slurm.image from the raw settings only when it is text inside a slurm object", () => {
        const image = (settings: Record<string, unknown>) => planFor("up", dev, settings, ROOT).image?.image;
        assert.equal(image({ slurm: { image: "registry.example/slurm:mine" } }), "registry.example/slurm:mine");
        for (const settings of [{ slurm: null }, { slurm: "x" }, { slurm: { image: 42 } }, {}]) {
            assert.equal(image(settings), defaultSlurmImage(), JSON.stringify(settings));
        }
    });

    it("checks and builds with the stack's engine, the Podman image under its localhost/ name", () => {
        const settings = { cluster: { engine: "podman" } };
        const plan = planFor("up", parseStackConfig(settings), settings, ROOT);
        assert.equal(plan.needs.engine, "podman");
        assert.deepEqual(plan.image, {
            engine: "podman",
            image: `localhost/${defaultSlurmImage()}`,
            build: true,
            context: "containers/images/slurm-base/Docker",
        });
        // Without the setting, the environment's KIND_EXPERIMENTAL_PROVIDER decides, as it does for kind.
        const fromEnv = parseStackConfig({}, { env: { KIND_EXPERIMENTAL_PROVIDER: "podman" } });
        assert.equal(planFor("destroy", fromEnv, {}, ROOT).needs.engine, "podman");
        assert.equal(planFor("preview", fromEnv, {}, ROOT).needs.engine, undefined, "preview runs no engine");
    });
});
