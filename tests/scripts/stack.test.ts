/**
 * `npm run up|preview|destroy` for real: scripts/stack.ts runs under ts-node in a copy of the repository, against
 * the fake pulumi, docker, kind and nvidia-smi of tests/fakes (see their headers), which record what they were
 * asked and answer like the real tools.
 */
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import { defaultSlurmImage } from "../../config/slurmImage";
import { MIN_KIND_VERSION, MIN_PULUMI_VERSION } from "../../scripts/lib/preflight";
import { Sandbox } from "./harness";

const DEV_IMAGE = defaultSlurmImage();
const verb = (call: string[]) => (call[0] === "stack" ? `stack ${call[1]}` : call[0]);

describe("npm run up / preview / destroy (the real script against fake CLIs)", () => {
    let box: Sandbox;
    afterEach(() => box.remove());

    describe("state and passphrase", () => {
        it("without a login keeps the state in .pulumi-state/ with a generated passphrase, reused next time", () => {
            box = new Sandbox();
            const first = box.run(["up", "dev"]);
            assert.equal(first.status, 0, first.stderr);
            const stateDir = path.join(box.repo, ".pulumi-state");
            const passphraseFile = path.join(stateDir, "passphrase");
            const stackCalls = box.pulumiEnv().filter((env) => env.PULUMI_AUTOMATION_API === "true");
            assert.ok(stackCalls.length >= 3, JSON.stringify(box.pulumiEnv()));
            for (const env of stackCalls) {
                assert.equal(env.PULUMI_BACKEND_URL, `file://${stateDir}`);
                assert.equal(env.PULUMI_CONFIG_PASSPHRASE_FILE, passphraseFile);
            }
            const passphrase = fs.readFileSync(passphraseFile, "utf8");
            assert.match(passphrase, /^[0-9a-f]{64}$/);
            assert.equal(fs.statSync(passphraseFile).mode & 0o777, 0o600);
            assert.equal(fs.readFileSync(path.join(box.state, "pulumi.passphrase-seen"), "utf8"), passphrase);
            assert.ok(
                fs.existsSync(path.join(stateDir, ".pulumi/stacks/ai-hyperscaler/dev.json")),
                "the stack lives in the local backend",
            );
            assert.match(first.stdout, /state in \.pulumi-state\/ .*passphrase in \.pulumi-state\/passphrase/);
            assert.ok(
                !first.stdout.includes(passphrase) && !first.stderr.includes(passphrase),
                "the passphrase is never printed",
            );

            const second = box.run(["up", "dev"]);
            assert.equal(second.status, 0, second.stderr);
            assert.equal(
                fs.readFileSync(passphraseFile, "utf8"),
                passphrase,
                "the same passphrase, so the state stays readable",
            );
            const inits = box.calls("pulumi").filter((c) => verb(c) === "stack init");
            assert.equal(inits.length, 1, "the second run selects the stack the first one created");
        });

        it("uses the user's own passphrase (even an empty one) and writes no passphrase file", () => {
            box = new Sandbox();
            const result = box.run(["up", "dev"], { PULUMI_CONFIG_PASSPHRASE: "" });
            assert.equal(result.status, 0, result.stderr);
            assert.ok(!fs.existsSync(path.join(box.repo, ".pulumi-state", "passphrase")));
            const last = box.pulumiEnv().at(-1)!;
            assert.equal(last.PULUMI_CONFIG_PASSPHRASE, "set");
            assert.equal(last.PULUMI_CONFIG_PASSPHRASE_FILE, "");
            assert.equal(last.PULUMI_BACKEND_URL, `file://${path.join(box.repo, ".pulumi-state")}`);
        });

        it("leaves the backend alone when the user is logged in, or set PULUMI_BACKEND_URL", () => {
            box = new Sandbox();
            const userState = path.join(box.dir, "user-state");
            fs.mkdirSync(path.join(box.home, ".pulumi"), { recursive: true });
            fs.writeFileSync(
                path.join(box.home, ".pulumi", "credentials.json"),
                JSON.stringify({ current: `file://${userState}`, accounts: {} }),
            );
            const loggedIn = box.run(["preview", "dev"], { PULUMI_CONFIG_PASSPHRASE: "mine" });
            assert.equal(loggedIn.status, 0, loggedIn.stderr);
            assert.ok(fs.existsSync(path.join(userState, ".pulumi/stacks/ai-hyperscaler/dev.json")));
            assert.ok(
                !fs.existsSync(path.join(box.repo, ".pulumi-state")),
                "no project-local state for a logged-in user",
            );
            assert.equal(box.pulumiEnv().at(-1)!.PULUMI_BACKEND_URL, "");

            const other = path.join(box.dir, "other-state");
            const chosen = box.run(["preview", "dev"], {
                PULUMI_BACKEND_URL: `file://${other}`,
                PULUMI_CONFIG_PASSPHRASE: "mine",
            });
            assert.equal(chosen.status, 0, chosen.stderr);
            assert.ok(fs.existsSync(path.join(other, ".pulumi/stacks/ai-hyperscaler/dev.json")));
            assert.ok(!fs.existsSync(path.join(box.repo, ".pulumi-state")));
        });
    });

    describe("actions", () => {
        it("up refreshes, never destroys, and reports the outputs with secrets masked", () => {
            box = new Sandbox();
            const result = box.run(["up", "dev"]);
            assert.equal(result.status, 0, result.stderr);
            const verbs = box.calls("pulumi").map(verb);
            assert.deepEqual(
                verbs.filter((v) => ["up", "preview", "destroy"].includes(v)),
                ["up"],
            );
            const up = box.calls("pulumi").find((c) => c[0] === "up")!;
            assert.ok(up.includes("--refresh"), `up without --refresh: ${up.join(" ")}`);
            assert.deepEqual(up.slice(0, 3), ["up", "--yes", "--skip-preview"]);
            assert.match(result.stdout, /kubeconfig: \[secret\]/);
            const state = path.join(box.repo, ".pulumi-state");
            const env = `PULUMI_BACKEND_URL=file://${state} PULUMI_CONFIG_PASSPHRASE_FILE=${state}/passphrase`;
            assert.ok(
                result.stdout.includes(`\`${env} pulumi stack output <name> --show-secrets --stack dev\``),
                result.stdout,
            );
            assert.ok(!result.stdout.includes("fake secret kubeconfig"));
        });

        it("preview runs neither up nor destroy, and needs no Docker, kind or image", () => {
            box = new Sandbox(["pulumi"]);
            const result = box.run(["preview", "dev"]);
            assert.equal(result.status, 0, result.stderr);
            const verbs = box.calls("pulumi").map(verb);
            assert.deepEqual(
                verbs.filter((v) => ["up", "preview", "destroy"].includes(v)),
                ["preview"],
            );
            assert.deepEqual(box.calls("docker"), []);
        });

        it("destroy runs destroy only, and builds nothing", () => {
            box = new Sandbox();
            const result = box.run(["destroy", "dev"]);
            assert.equal(result.status, 0, result.stderr);
            const verbs = box.calls("pulumi").map(verb);
            assert.deepEqual(
                verbs.filter((v) => ["up", "preview", "destroy"].includes(v)),
                ["destroy"],
            );
            assert.deepEqual(
                box
                    .calls("pulumi")
                    .find((c) => c[0] === "destroy")!
                    .slice(0, 3),
                ["destroy", "--yes", "--skip-preview"],
            );
            assert.deepEqual(
                box.calls("docker").map((c) => c[0]),
                ["info"],
                "Docker is checked (kind needs it), nothing built",
            );
        });
    });

    describe("the Slurm image", () => {
        it("builds the content-tagged image when missing, not when present, and a new tag after a change", () => {
            box = new Sandbox();
            assert.equal(box.run(["up", "dev"]).status, 0);
            const builds = () => box.calls("docker").filter((c) => c[0] === "build");
            assert.deepEqual(builds(), [["build", "-t", DEV_IMAGE, "containers/images/slurm-base/Docker"]]);

            const again = box.run(["up", "dev"]);
            assert.equal(again.status, 0, again.stderr);
            assert.equal(builds().length, 1, "the image under that tag is there: no second build");
            assert.match(
                again.stdout,
                new RegExp(`${DEV_IMAGE.replace(/[.]/g, "\\.")} is in the local Docker already`),
            );

            fs.appendFileSync(
                path.join(box.repo, "containers/images/slurm-base/Docker/entrypoint.sh"),
                "\n# changed\n",
            );
            const changed = box.run(["up", "dev"]);
            assert.equal(changed.status, 0, changed.stderr);
            assert.equal(builds().length, 2);
            const newTag = builds()[1][2];
            assert.notEqual(newTag, DEV_IMAGE);
            assert.match(newTag, /^ai-hyperscaler\/slurm:24\.11-[0-9a-f]{12}$/);
        });

        it("stops before Pulumi when the build fails, naming the build command", () => {
            box = new Sandbox();
            const result = box.run(["up", "dev"], { FAKE_DOCKER_BUILD: "fail" });
            assert.equal(result.status, 1);
            assert.equal(
                result.stderr.trimEnd().split("\n").at(-1),
                `npm run up -- dev: \`docker build -t ${DEV_IMAGE} containers/images/slurm-base/Docker\` failed ` +
                    "(exit 1); its output is above",
            );
            assert.deepEqual(box.calls("pulumi").map(verb), ["version"], "only the preflight's version check ran");
        });

        it("requires an explicit slurm.image of a Kind stack to be in Docker already, and never builds it", () => {
            box = new Sandbox();
            const stackFile = fs
                .readFileSync(path.join(box.repo, "Pulumi.dev.yaml"), "utf8")
                .replace("    mode: static\n", "    mode: static\n    image: registry.example/slurm:mine\n");
            fs.writeFileSync(path.join(box.repo, "Pulumi.mine.yaml"), stackFile);
            const missing = box.run(["up", "mine"]);
            assert.equal(missing.status, 1);
            assert.match(
                missing.stderr,
                new RegExp(
                    '^npm run up -- mine: slurm\\.image = "registry\\.example/slurm:mine" is not in the local Docker ' +
                        "\\(Error response from daemon: No such image: registry\\.example/slurm:mine\\); " +
                        "kind can only load local images: `docker pull registry\\.example/slurm:mine`",
                ),
            );
            assert.deepEqual(
                box.calls("docker").filter((c) => c[0] === "build"),
                [],
            );

            box.addImages("registry.example/slurm:mine");
            const present = box.run(["up", "mine"]);
            assert.equal(present.status, 0, present.stderr);
            assert.deepEqual(
                box.calls("docker").filter((c) => c[0] === "build"),
                [],
            );
        });
    });

    describe("preflight", () => {
        it("refuses a Pulumi CLI older than the minimum, before building anything", () => {
            box = new Sandbox();
            const result = box.run(["up", "dev"], { FAKE_PULUMI_VERSION: "3.186.0" });
            assert.equal(result.status, 1);
            assert.match(
                result.stderr,
                new RegExp(
                    `^npm run up -- dev: pulumi: version 3\\.186\\.0 is older than ` +
                        MIN_PULUMI_VERSION.replace(/\./g, "\\."),
                ),
            );
            assert.match(result.stderr, /README, "Prerequisites"/);
            assert.deepEqual(
                box.calls("docker").filter((c) => c[0] === "build"),
                [],
            );
        });

        it("refuses a kind older than the minimum", () => {
            box = new Sandbox();
            const result = box.run(["up", "dev"], { FAKE_KIND_VERSION: "0.27.0" });
            assert.equal(result.status, 1);
            assert.match(
                result.stderr,
                new RegExp(`kind: version 0\\.27\\.0 is older than ${MIN_KIND_VERSION.replace(/\./g, "\\.")}`),
            );
            assert.deepEqual(
                box.calls("docker").filter((c) => c[0] === "build"),
                [],
            );
        });

        it("says the Docker engine is down before building or deploying", () => {
            box = new Sandbox();
            const result = box.run(["up", "dev"], { FAKE_DOCKER_ENGINE: "down" });
            assert.equal(result.status, 1);
            assert.match(
                result.stderr,
                new RegExp(
                    "^npm run up -- dev: docker: the Docker engine is not running or this user cannot reach it " +
                        "\\(docker info: Cannot connect to the Docker daemon",
                ),
            );
            assert.deepEqual(
                box.calls("docker").map((c) => c[0]),
                ["info"],
            );
            assert.deepEqual(box.calls("pulumi").map(verb), ["version"]);
        });

        it("names each missing tool on its own line, the action and stack once", () => {
            box = new Sandbox([]);
            const result = box.run(["up", "dev"]);
            assert.equal(result.status, 1);
            const lines = result.stderr.trimEnd().split("\n");
            assert.equal(lines[0], "npm run up -- dev stopped:");
            assert.equal(lines.length, 5, result.stderr);
            assert.match(
                lines[1],
                /^ {2}- pulumi: the Pulumi CLI is not on PATH; install the Pulumi CLI 3\.187\.0 or newer/,
            );
            assert.match(lines[2], /^ {2}- kind: kind is not on PATH; install kind v0\.29\.0 or newer/);
            // The dev stack has a tenant, whose kubeconfig Secret the program waits for with kubectl.
            assert.match(lines[3], /^ {2}- kubectl: kubectl is not on PATH; the stack waits with it/);
            assert.match(lines[4], /^ {2}- docker: the Docker CLI is not on PATH; install Docker Engine/);
        });

        it("checks the GPU host for the gpu stack: driver, Docker's default runtime and volume-mount GPUs", () => {
            box = new Sandbox();
            const runtimeConfig = path.join(box.dir, "config.toml");
            const bad = box.run(["up", "gpu"], { HYPERSCALER_NVIDIA_RUNTIME_CONFIG: runtimeConfig });
            assert.equal(bad.status, 1);
            const lines = bad.stderr.trimEnd().split("\n");
            assert.equal(lines.length, 4, bad.stderr);
            assert.match(lines[1], /gpu: `nvidia-smi -L` lists no GPU \(nvidia-smi is not on PATH\)/);
            assert.match(lines[2], /gpu: Docker's default runtime is runc, not nvidia; .*--set-as-default/);
            assert.match(lines[3], /cannot be read; .*accept-nvidia-visible-devices-as-volume-mounts=true --in-place/);

            fs.symlinkSync(path.resolve(__dirname, "../fakes/nvidia-smi"), path.join(box.bin, "nvidia-smi"));
            fs.writeFileSync(
                runtimeConfig,
                "#accept-nvidia-visible-devices-as-volume-mounts = false\n" +
                    "accept-nvidia-visible-devices-as-volume-mounts = true\n",
            );
            const good = box.run(["up", "gpu"], {
                HYPERSCALER_NVIDIA_RUNTIME_CONFIG: runtimeConfig,
                FAKE_DOCKER_DEFAULT_RUNTIME: "nvidia",
            });
            assert.equal(good.status, 0, good.stderr);
            assert.deepEqual(box.calls("nvidia-smi").at(-1), ["-L"]);
        });

        it("does not check GPUs for a stack without GPU workers", () => {
            box = new Sandbox();
            assert.equal(box.run(["up", "dev"]).status, 0);
            assert.deepEqual(box.calls("nvidia-smi"), []);
        });
    });

    describe("failures", () => {
        it("reports a failed pulumi up in one line: its error, not the whole CommandError", () => {
            box = new Sandbox();
            const result = box.run(["up", "dev"], { FAKE_PULUMI_UP: "fail" });
            assert.equal(result.status, 1);
            assert.equal(result.stderr.trim(), "npm run up -- dev: error: update failed");
            // The CLI's own output was streamed once, to stdout; it is not repeated.
            assert.equal(result.stdout.split("`kind create cluster --name lab` failed").length, 2);
        });

        it("stops on a stack that does not exist, and on a bad action, with usage", () => {
            box = new Sandbox();
            assert.match(
                box.run(["up", "nope"]).stderr,
                /no stack "nope": there is no Pulumi.nope.yaml; stacks here: dev, gpu/,
            );
            assert.match(box.run(["deploy", "dev"]).stderr, /usage: npm run <up\|preview\|destroy> -- <stack>/);
            assert.deepEqual(box.calls("pulumi"), []);
        });
    });
});
