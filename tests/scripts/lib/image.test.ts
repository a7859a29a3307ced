import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { failureLines, Stop } from "../../../scripts/lib/failure";
import { ensureImage } from "../../../scripts/lib/image";
import { Runner } from "../../../scripts/lib/run";
import { failed, fakeRunner, ok, quiet } from "./doubles";

describe("npm run up / preview / destroy: image", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-lib-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const plan = {
        engine: "docker" as const,
        image: "ai-hyperscaler/slurm:24.11-0123456789ab",
        build: true,
        context: "containers/images/slurm-base/Docker",
    };
    it("builds only when Docker lacks the image, streaming the build from the repository root", () => {
        const seen: { args: readonly string[]; options?: { inherit?: boolean; cwd?: string } }[] = [];
        let present = false;
        const run: Runner = (_command, args, options) => {
            seen.push({ args, options });
            if (args[0] === "build") present = true;
            return args[0] === "image" && !present
                ? failed(`Error response from daemon: No such image: ${plan.image}`)
                : ok();
        };
        assert.equal(ensureImage(plan, run, "/repo", quiet), "built");
        assert.deepEqual(seen[1], {
            args: ["build", "-t", plan.image, plan.context],
            options: { inherit: true, cwd: "/repo" },
        });
        assert.equal(ensureImage(plan, run, "/repo", quiet), "present");
        assert.equal(seen.length, 3);
    });

    it("stops without building when an explicit image is missing, saying how to get it", () => {
        const calls: string[][] = [];
        const mine = { ...plan, image: "registry.example/slurm:mine", build: false };
        const run = fakeRunner({ "docker image": failed("Error: No such image: registry.example/slurm:mine") }, calls);
        assert.throws(
            () => ensureImage(mine, run, "/repo", quiet),
            (e: unknown) =>
                e instanceof Stop &&
                failureLines(e).some(
                    (l) => l.includes("docker pull registry.example/slurm:mine") && l.includes("No such image"),
                ),
        );
        assert.deepEqual(calls, [["docker", "image", "inspect", "--format", "{{.Id}}", "registry.example/slurm:mine"]]);
    });

    it("stops when the build fails", () => {
        const run: Runner = (_command, args) => (args[0] === "image" ? failed("No such image") : failed("", 1));
        assert.throws(
            () => ensureImage(plan, run, "/repo", quiet),
            (e: Stop) =>
                e instanceof Stop &&
                /`docker build -t \S+ containers\/images\/slurm-base\/Docker` failed \(exit 1\)/.test(e.problems[0]),
        );
    });
    it("says in one line what is missing and the two commands that get it", () => {
        const mine = { ...plan, image: "registry.example/slurm:mine", build: false };
        const silent = fakeRunner({ "docker image": failed("") });
        assert.throws(
            () => ensureImage(mine, silent, "/repo", quiet),
            (e: Stop) => {
                assert.deepEqual(e.problems, [
                    'slurm.image = "registry.example/slurm:mine" is not in the local Docker (docker image inspect ' +
                        "failed); kind can only load local images: `docker pull registry.example/slurm:mine` or " +
                        "`docker build -t registry.example/slurm:mine containers/images/slurm-base/Docker`, then run again",
                ]);
                return true;
            },
        );
    });

    it("says a build killed by a signal was killed", () => {
        const run: Runner = (_command, args) =>
            args[0] === "image" ? failed("No such image") : { status: null, stdout: "", stderr: "", notFound: false };
        assert.throws(
            () => ensureImage(plan, run, "/repo", quiet),
            (e: Stop) =>
                e.problems[0] ===
                `\`docker build -t ${plan.image} ${plan.context}\` failed (exit signal); its output is above`,
        );
    });

    it("inspects and builds with podman for a Podman stack, naming Podman", () => {
        const calls: string[][] = [];
        const podmanPlan = { ...plan, engine: "podman" as const, image: `localhost/${plan.image}` };
        const run = fakeRunner(
            { "podman image": failed("Error: inspecting object: image not known"), "podman build": ok() },
            calls,
        );
        assert.equal(ensureImage(podmanPlan, run, "/repo", quiet), "built");
        assert.deepEqual(calls, [
            ["podman", "image", "inspect", "--format", "{{.Id}}", podmanPlan.image],
            ["podman", "build", "-t", podmanPlan.image, plan.context],
        ]);
        const mine = { ...podmanPlan, image: "localhost/slurm:mine", build: false };
        assert.throws(
            () => ensureImage(mine, run, "/repo", quiet),
            (e: Stop) => {
                assert.deepEqual(e.problems, [
                    'slurm.image = "localhost/slurm:mine" is not in the local Podman (Error: inspecting object: ' +
                        "image not known); kind can only load local images: `podman pull localhost/slurm:mine` or " +
                        "`podman build -t localhost/slurm:mine containers/images/slurm-base/Docker`, then run again",
                ]);
                return true;
            },
        );
    });
});
