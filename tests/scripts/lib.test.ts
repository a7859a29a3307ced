/** The pieces of `npm run up|preview|destroy`: backend choice, preflight, plan, image step, failure lines. */
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../config/schema";
import { defaultSlurmImage } from "../../config/slurmImage";
import { backendFor, chosenBackend } from "../../scripts/lib/backend";
import { failureLines, failureReport, Stop } from "../../scripts/lib/failure";
import { ensureImage } from "../../scripts/lib/image";
import { planFor } from "../../scripts/lib/plan";
import { compareVersions, hostProblems, MIN_KIND_VERSION, MIN_PULUMI_VERSION } from "../../scripts/lib/preflight";
import { RunResult, Runner } from "../../scripts/lib/run";

const ROOT = path.resolve(__dirname, "../..");
const ok = (stdout = ""): RunResult => ({ status: 0, stdout, stderr: "", notFound: false });
const failed = (stderr: string, status = 1): RunResult => ({ status, stdout: "", stderr, notFound: false });
const quiet = () => undefined;
const notFound: RunResult = { status: null, stdout: "", stderr: "spawn ENOENT", notFound: true };

/** A runner answering from a table keyed by `command first-argument`; records every call. */
function fakeRunner(answers: Record<string, RunResult>, calls: string[][] = []): Runner {
    return (command, args) => {
        calls.push([command, ...args]);
        const answer = answers[`${command} ${args[0]}`];
        if (!answer) throw new Error(`unexpected command ${command} ${args.join(" ")}`);
        return answer;
    };
}

const HEALTHY = {
    "pulumi version": ok("v3.187.0\n"),
    "kind version": ok("kind v0.29.0 go1.24.2 linux/amd64\n"),
    "docker info": ok("27.3.1|nvidia\n"),
    "nvidia-smi -L": ok("GPU 0: NVIDIA A10G (UUID: GPU-1)\n"),
    "kubectl version": ok("Client Version: v1.33.1\nKustomize Version: v5.6.0\n"),
};

describe("npm run up / preview / destroy: its parts", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-lib-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    describe("backend", () => {
        it("sees a login in credentials.json (in PULUMI_CREDENTIALS_PATH, PULUMI_HOME, ~) or a token", () => {
            const write = (folder: string, current: string) => {
                fs.mkdirSync(folder, { recursive: true });
                fs.writeFileSync(path.join(folder, "credentials.json"), JSON.stringify({ current }));
            };
            assert.equal(chosenBackend({}, dir), undefined);
            write(path.join(dir, ".pulumi"), "");
            assert.equal(chosenBackend({}, dir), undefined, "an empty current is no login (after `pulumi logout`)");
            write(path.join(dir, ".pulumi"), "https://api.pulumi.com");
            assert.equal(chosenBackend({}, dir), "https://api.pulumi.com");
            write(path.join(dir, "home"), "s3://bucket");
            assert.equal(chosenBackend({ PULUMI_HOME: path.join(dir, "home") }, dir), "s3://bucket");
            write(path.join(dir, "creds"), "file:///srv/state");
            assert.equal(
                chosenBackend(
                    { PULUMI_HOME: path.join(dir, "home"), PULUMI_CREDENTIALS_PATH: path.join(dir, "creds") },
                    dir,
                ),
                "file:///srv/state",
            );
            assert.equal(
                chosenBackend({ PULUMI_BACKEND_URL: "gs://b", PULUMI_HOME: path.join(dir, "home") }, dir),
                "gs://b",
            );
            assert.equal(
                chosenBackend({ PULUMI_ACCESS_TOKEN: "pul-123" }, path.join(dir, "nowhere")),
                "https://api.pulumi.com",
            );
        });

        it("changes nothing for a chosen backend", () => {
            assert.deepEqual(backendFor(dir, { PULUMI_BACKEND_URL: "s3://bucket" }, dir).envVars, {});
            assert.ok(!fs.existsSync(path.join(dir, ".pulumi-state")));
        });

        it("otherwise uses the project-local backend with one generated passphrase, kept across runs", () => {
            const first = backendFor(dir, {}, dir);
            const file = path.join(dir, ".pulumi-state", "passphrase");
            assert.deepEqual(first.envVars, {
                PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}`,
                PULUMI_CONFIG_PASSPHRASE_FILE: file,
            });
            const passphrase = fs.readFileSync(file, "utf8");
            assert.match(passphrase, /^[0-9a-f]{64}$/);
            assert.equal(fs.statSync(file).mode & 0o777, 0o600);
            assert.deepEqual(backendFor(dir, {}, dir).envVars, first.envVars);
            assert.equal(fs.readFileSync(file, "utf8"), passphrase);
            assert.ok(!first.description.includes(passphrase));
        });

        it("takes the user's passphrase, even an empty one, or their passphrase file, and generates none", () => {
            for (const env of [
                { PULUMI_CONFIG_PASSPHRASE: "" },
                { PULUMI_CONFIG_PASSPHRASE: "x" },
                { PULUMI_CONFIG_PASSPHRASE_FILE: "/p" },
            ]) {
                const choice = backendFor(dir, env, dir);
                assert.deepEqual(choice.envVars, { PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}` });
                assert.match(choice.description, /your passphrase/);
            }
            assert.ok(!fs.existsSync(path.join(dir, ".pulumi-state", "passphrase")));
        });
    });

    describe("preflight", () => {
        const all = { kind: true, docker: true, gpu: true, kubectl: true };
        let config: string;
        beforeEach(() => {
            config = path.join(dir, "config.toml");
            fs.writeFileSync(
                config,
                "[nvidia-container-cli]\naccept-nvidia-visible-devices-as-volume-mounts = true # nvkind\n",
            );
        });

        it("passes a ready host, asking each tool once", () => {
            const calls: string[][] = [];
            assert.deepEqual(hostProblems(all, fakeRunner(HEALTHY, calls), { nvidiaRuntimeConfig: config }), []);
            assert.deepEqual(calls, [
                ["pulumi", "version"],
                ["kind", "version"],
                ["kubectl", "version", "--client"],
                ["docker", "info", "--format", "{{.ServerVersion}}|{{.DefaultRuntime}}"],
                ["nvidia-smi", "-L"],
            ]);
        });

        it("names each tool whose version command fails or prints no version, and the missing Docker CLI", () => {
            const broken: Record<string, RunResult> = {
                ...HEALTHY,
                "pulumi version": failed("pulumi: crashed"),
                "kind version": ok("kind (devel)\n"),
                "docker info": notFound,
                "nvidia-smi -L": failed("NVIDIA-SMI has failed", 9),
            };
            const problems = hostProblems(all, fakeRunner(broken), { nvidiaRuntimeConfig: config });
            for (const tool of ["pulumi:", "kind:", "docker:"]) {
                assert.ok(
                    problems.some((p) => p.startsWith(tool)),
                    `${tool} in ${problems.join("\n")}`,
                );
            }
            const noGpu = hostProblems(
                all,
                fakeRunner({ ...HEALTHY, "nvidia-smi -L": failed("NVIDIA-SMI has failed", 9) }),
                {
                    nvidiaRuntimeConfig: config,
                },
            );
            assert.equal(noGpu.length, 1, noGpu.join("\n"));
            assert.ok(noGpu[0].includes("NVIDIA-SMI has failed"), noGpu[0]);
        });

        it("asks nvidia-smi nothing when the stack has no GPU workers", () => {
            const calls: string[][] = [];
            hostProblems({ ...all, gpu: false }, fakeRunner(HEALTHY, calls), { nvidiaRuntimeConfig: config });
            assert.ok(!calls.some((c) => c[0] === "nvidia-smi"), JSON.stringify(calls));
        });

        it("names kubectl when a stack that waits with it lacks it, and only then", () => {
            const missing: Record<string, RunResult> = {
                ...HEALTHY,
                "kubectl version": { status: null, stdout: "", stderr: "", notFound: true },
            };
            const needs = { kind: false, docker: false, gpu: false, kubectl: true };
            const problems = hostProblems(needs, fakeRunner(missing));
            assert.equal(problems.length, 1);
            assert.match(problems[0], /^kubectl: kubectl is not on PATH; .*install it .*\(README, "Prerequisites"\)$/);
            assert.deepEqual(hostProblems({ ...needs, kubectl: false }, fakeRunner(missing)), []);
        });

        it("asks only for what is needed: the Pulumi CLI alone for a preview", () => {
            const calls: string[][] = [];
            assert.deepEqual(
                hostProblems({ kind: false, docker: false, gpu: false, kubectl: false }, fakeRunner(HEALTHY, calls)),
                [],
            );
            assert.deepEqual(calls, [["pulumi", "version"]]);
        });

        it("accepts the minimum versions and newer ones, refuses older ones", () => {
            for (const [pulumi, kind, okay] of [
                [MIN_PULUMI_VERSION, `v${MIN_KIND_VERSION}`, true],
                ["3.248.0", "v0.30.0-alpha", true],
                ["4.0.0", "v1.0.0", true],
                ["3.186.9", "v0.29.0", false],
                ["3.187.0", "v0.28.9", false],
                ["2.999.999", "v0.29.0", false],
            ] as const) {
                const answers = {
                    ...HEALTHY,
                    "pulumi version": ok(`v${pulumi}\n`),
                    "kind version": ok(`kind ${kind} go1.24 linux/amd64\n`),
                };
                const problems = hostProblems(
                    { kind: true, docker: false, gpu: false, kubectl: false },
                    fakeRunner(answers),
                );
                assert.equal(problems.length === 0, okay, `${pulumi} / ${kind}: ${problems.join("; ")}`);
            }
            assert.equal(compareVersions("3.187.0", "3.187.0"), 0);
            assert.equal(compareVersions("3.200.0", "3.187.0"), 1);
            assert.equal(compareVersions("3.99.0", "3.187.0"), -1);
            assert.equal(compareVersions("10.0.0", "9.0.0"), 1, "a two-digit major");
            assert.equal(compareVersions("3.0.9", "3.0.10"), -1, "a two-digit patch");
        });

        it("says what is wrong and what to do, one line per problem, each pointing at the README", () => {
            const problems = hostProblems(
                all,
                fakeRunner({
                    "pulumi version": ok("v3.100.0\n"),
                    "kind version": notFound,
                    "kubectl version": notFound,
                    "docker info": ok("27.3.1|runc\n"),
                    "nvidia-smi -L": failed(
                        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
                        9,
                    ),
                }),
                { nvidiaRuntimeConfig: path.join(dir, "absent.toml") },
            );
            assert.equal(problems.length, 6, problems.join("\n"));
            assert.match(problems[0], /^pulumi: version 3\.100\.0 is older than 3\.187\.0/);
            assert.match(problems[1], /^kind: kind is not on PATH; install kind v0\.29\.0 or newer/);
            assert.match(problems.splice(2, 1)[0], /^kubectl: kubectl is not on PATH/);
            assert.match(
                problems[2],
                /^gpu: `nvidia-smi -L` lists no GPU \(NVIDIA-SMI has failed because it couldn't communicate/,
            );
            assert.match(problems[3], /^gpu: Docker's default runtime is runc, not nvidia/);
            assert.match(problems[4], /absent\.toml cannot be read/);
            for (const problem of problems) {
                assert.ok(problem.endsWith('(README, "Prerequisites")'), problem);
                assert.ok(!problem.includes("\n"));
            }
        });

        it("says the Docker engine is down, and then does not judge its runtime", () => {
            const problems = hostProblems(
                all,
                fakeRunner({
                    ...HEALTHY,
                    "docker info": failed(
                        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. " +
                            "Is the docker daemon running?",
                    ),
                }),
                { nvidiaRuntimeConfig: config },
            );
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(
                problems[0],
                /^docker: the Docker engine is not running or this user cannot reach it \(docker info: Cannot connect/,
            );
        });

        it("wants the volume-mounts setting true on a line of its own, not commented out", () => {
            const answers = fakeRunner(HEALTHY);
            for (const [text, good] of [
                ["accept-nvidia-visible-devices-as-volume-mounts = true\n", true],
                ["  accept-nvidia-visible-devices-as-volume-mounts=true\n", true],
                ["#accept-nvidia-visible-devices-as-volume-mounts = true\n", false],
                ["accept-nvidia-visible-devices-as-volume-mounts = false\n", false],
                ["accept-nvidia-visible-devices-envvar-when-unprivileged = true\n", false],
            ] as const) {
                fs.writeFileSync(config, text);
                const problems = hostProblems({ kind: false, docker: false, gpu: true, kubectl: false }, answers, {
                    nvidiaRuntimeConfig: config,
                });
                assert.equal(problems.length === 0, good, `${JSON.stringify(text)}: ${problems.join("; ")}`);
                if (!good)
                    assert.match(
                        problems[0],
                        /does not set accept-nvidia-visible-devices-as-volume-mounts = true; .*nvidia-ctk config --set/,
                    );
            }
        });
    });

    describe("plan", () => {
        const dev = parseStackConfig({ cluster: { type: "kind" } });
        it("builds the content-tagged image for up on Kind with static Slurm, and needs kind and Docker", () => {
            assert.deepEqual(planFor("up", dev, {}, ROOT), {
                needs: { kind: true, docker: true, gpu: false, kubectl: false },
                image: { image: defaultSlurmImage(), build: true, context: "containers/images/slurm-base/Docker" },
            });
        });

        it("preview needs only the Pulumi CLI; destroy needs kind and Docker but no image", () => {
            assert.deepEqual(planFor("preview", dev, {}, ROOT), {
                needs: { kind: false, docker: false, gpu: false, kubectl: false },
                image: undefined,
            });
            assert.deepEqual(planFor("destroy", dev, {}, ROOT), {
                needs: { kind: true, docker: true, gpu: false, kubectl: false },
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
                needs: { kind: false, docker: false, gpu: false, kubectl: false },
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
                image: "registry.example/slurm:mine",
                build: false,
                context: "containers/images/slurm-base/Docker",
            });
        });
    });

    describe("image", () => {
        const plan = {
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
            const mine = { image: "registry.example/slurm:mine", build: false, context: plan.context };
            const run = fakeRunner(
                { "docker image": failed("Error: No such image: registry.example/slurm:mine") },
                calls,
            );
            assert.throws(
                () => ensureImage(mine, run, "/repo", quiet),
                (e: unknown) =>
                    e instanceof Stop &&
                    failureLines(e).some(
                        (l) => l.includes("docker pull registry.example/slurm:mine") && l.includes("No such image"),
                    ),
            );
            assert.deepEqual(calls, [
                ["docker", "image", "inspect", "--format", "{{.Id}}", "registry.example/slurm:mine"],
            ]);
        });

        it("stops when the build fails", () => {
            const run: Runner = (_command, args) => (args[0] === "image" ? failed("No such image") : failed("", 1));
            assert.throws(
                () => ensureImage(plan, run, "/repo", quiet),
                (e: Stop) =>
                    e instanceof Stop &&
                    /`docker build -t \S+ containers\/images\/slurm-base\/Docker` failed \(exit 1\)/.test(
                        e.problems[0],
                    ),
            );
        });
    });

    describe("failure lines", () => {
        /** The shape the Automation API throws for a failed CLI run (an execa error wrapped in a CommandError). */
        const commandError = (stdout: string, stderr: string) => ({
            name: "CommandError",
            message: `code: -2\n stdout: \n stderr: Command failed with exit code 255: pulumi up\n${stderr}\n${stdout}`,
            commandResult: {
                stdout: "",
                stderr: `Command failed with exit code 255: pulumi up\n${stderr}\n${stdout}`,
                code: -2,
                err: { stderr, stdout, exitCode: 255, message: "..." },
            },
        });

        it("keeps the CLI's error lines from a CommandError, not its stdout", () => {
            const error = commandError(
                "Updating (dev)\n  error: a resource failed\n",
                "error: update failed\nerror: update failed\n",
            );
            assert.deepEqual(failureLines(error), ["error: update failed"]);
        });

        it("falls back to the last line of stderr, then to the exit code", () => {
            assert.deepEqual(failureLines(commandError("", "warning: one\nsomething broke\n")), ["something broke"]);
            assert.deepEqual(failureLines(commandError("lots of output", "")), [
                "the Pulumi CLI exited with code 255; its output is above",
            ]);
        });

        it("masks secrets in every line", () => {
            const error = commandError("", "error: decrypting with passphrase hunter22 failed\n");
            assert.deepEqual(failureLines(error, ["hunter22"]), ["error: decrypting with passphrase [secret] failed"]);
            assert.deepEqual(failureLines(new Stop(["token pul-abcdef leaked"]), ["pul-abcdef"]), [
                "token [secret] leaked",
            ]);
        });

        it("reports one problem on one line, several under one heading", () => {
            assert.equal(failureReport("up", "dev", ["a"]), "npm run up -- dev: a");
            assert.equal(failureReport("destroy", "gpu", ["a", "b"]), "npm run destroy -- gpu stopped:\n  - a\n  - b");
        });

        it("lists each problem of the settings' ConfigError on its own line", () => {
            let error: unknown;
            try {
                parseStackConfig({ cluster: { type: "kind", workers: -1 } });
            } catch (e) {
                error = e;
            }
            const lines = failureLines(error);
            assert.ok(lines.length >= 1 && lines.every((line) => !line.includes("\n")));
            assert.match(lines[0], /cluster\.workers/);
        });
    });
});
