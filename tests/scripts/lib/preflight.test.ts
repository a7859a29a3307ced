import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    compareVersions,
    hostProblems,
    MIN_KIND_VERSION,
    MIN_PULUMI_VERSION,
    NVIDIA_RUNTIME_CONFIG,
} from "../../../scripts/lib/preflight";
import { RunResult } from "../../../scripts/lib/run";
import { failed, fakeRunner, HEALTHY, notFound, ok } from "./doubles";

describe("npm run up / preview / destroy: preflight", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-lib-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const all = { kind: true, engine: "docker" as const, gpu: true, kubectl: true };
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
        const needs = { kind: false, gpu: false, kubectl: true };
        const problems = hostProblems(needs, fakeRunner(missing));
        assert.equal(problems.length, 1);
        assert.match(problems[0], /^kubectl: kubectl is not on PATH; .*install it .*\(README, "Prerequisites"\)$/);
        assert.deepEqual(hostProblems({ ...needs, kubectl: false }, fakeRunner(missing)), []);
    });

    it("asks only for what is needed: the Pulumi CLI alone for a preview", () => {
        const calls: string[][] = [];
        assert.deepEqual(hostProblems({ kind: false, gpu: false, kubectl: false }, fakeRunner(HEALTHY, calls)), []);
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
            const problems = hostProblems({ kind: true, gpu: false, kubectl: false }, fakeRunner(answers));
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
            const problems = hostProblems({ kind: false, gpu: true, kubectl: false }, answers, {
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
    describe("each problem's whole line", () => {
        const SEE = '(README, "Prerequisites")';
        const PULUMI = "install the Pulumi CLI 3.187.0 or newer (https://www.pulumi.com/docs/iac/download-install/)";
        const KIND = "install kind v0.29.0 or newer (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)";
        const DOCKER_DOWN = "start it (`sudo systemctl start docker`) and make sure `docker info` works without sudo";
        const RUNTIME =
            "install the NVIDIA Container Toolkit and run `sudo nvidia-ctk runtime configure --runtime=docker " +
            "--set-as-default --cdi.enabled && sudo systemctl restart docker`";
        const MOUNTS =
            "Kind nodes get GPUs through volume mounts: run `sudo nvidia-ctk config --set " +
            "accept-nvidia-visible-devices-as-volume-mounts=true --in-place && sudo systemctl restart docker`";
        const problemsOf = (answers: Record<string, RunResult>, runtimeConfig = config) =>
            hostProblems(all, fakeRunner({ ...HEALTHY, ...answers }), { nvidiaRuntimeConfig: runtimeConfig });
        const cases: [string, Record<string, RunResult>, string][] = [
            ["no pulumi", { "pulumi version": notFound }, `pulumi: the Pulumi CLI is not on PATH; ${PULUMI} ${SEE}`],
            [
                "a pulumi that fails, even when it prints a version",
                {
                    "pulumi version": {
                        status: 2,
                        stdout: "v3.248.0\n",
                        stderr: "error: no plugins\n",
                        notFound: false,
                    },
                },
                `pulumi: \`pulumi version\` failed (error: no plugins); ${PULUMI} ${SEE}`,
            ],
            [
                "a pulumi that prints no version",
                { "pulumi version": ok("unknown\n") },
                `pulumi: \`pulumi version\` failed (unknown); ${PULUMI} ${SEE}`,
            ],
            [
                "an old pulumi",
                { "pulumi version": ok("v3.186.0\n") },
                "pulumi: version 3.186.0 is older than 3.187.0, the first that reads this project's typed settings; " +
                    `upgrade it (${PULUMI}) ${SEE}`,
            ],
            [
                "a kind that fails, even when it prints a version",
                { "kind version": { status: 1, stdout: "kind v0.29.0\n", stderr: "", notFound: false } },
                `kind: \`kind version\` failed (kind v0.29.0); ${KIND} ${SEE}`,
            ],
            [
                "an old kind, its suffix kept",
                { "kind version": ok("kind v0.28.0-alpha go1.24 linux/amd64\n") },
                "kind: version 0.28.0-alpha is older than 0.29.0, the first with the pinned node image " +
                    `kindest/node:v1.33.1; ${KIND} ${SEE}`,
            ],
            [
                "a kubectl that does not run",
                { "kubectl version": failed("exec format error", 126) },
                "kubectl: kubectl does not run (exec format error); the stack waits with it for the tenants' " +
                    "kubeconfig Secrets and for GPUs; install it (https://kubernetes.io/docs/tasks/tools/#kubectl) " +
                    SEE,
            ],
            [
                "no docker CLI",
                { "docker info": notFound },
                `docker: the Docker CLI is not on PATH; install Docker Engine (https://docs.docker.com/engine/install/) ${SEE}`,
            ],
            [
                "a docker info that fails, even with a server version",
                {
                    "docker info": {
                        status: 1,
                        stdout: "27.3.1|nvidia\n",
                        stderr: "permission denied\n",
                        notFound: false,
                    },
                },
                "docker: the Docker engine is not running or this user cannot reach it (docker info: permission " +
                    `denied); ${DOCKER_DOWN} ${SEE}`,
            ],
            [
                "a docker info without a server version, silent",
                { "docker info": ok("|\n") },
                `docker: the Docker engine is not running or this user cannot reach it (docker info: |); ${DOCKER_DOWN} ${SEE}`,
            ],
            [
                "a docker info that prints nothing",
                { "docker info": ok("") },
                `docker: the Docker engine is not running or this user cannot reach it (docker info: exit 0); ${DOCKER_DOWN} ${SEE}`,
            ],
            [
                "no nvidia-smi",
                { "nvidia-smi -L": notFound },
                "gpu: `nvidia-smi -L` lists no GPU (nvidia-smi is not on PATH); the gpu stack needs an NVIDIA GPU " +
                    `with its driver on this host ${SEE}`,
            ],
            [
                "an nvidia-smi that fails after listing a GPU",
                { "nvidia-smi -L": { status: 15, stdout: "GPU 0: NVIDIA A10G\n", stderr: "", notFound: false } },
                "gpu: `nvidia-smi -L` lists no GPU (GPU 0: NVIDIA A10G); the gpu stack needs an NVIDIA GPU " +
                    `with its driver on this host ${SEE}`,
            ],
            [
                "an nvidia-smi that names a GPU only inside an error",
                { "nvidia-smi -L": ok("Unable to determine the device handle for GPU 0000:01:00.0: Unknown Error\n") },
                "gpu: `nvidia-smi -L` lists no GPU (Unable to determine the device handle for GPU 0000:01:00.0: " +
                    `Unknown Error); the gpu stack needs an NVIDIA GPU with its driver on this host ${SEE}`,
            ],
            [
                "a Docker without a default runtime",
                { "docker info": ok("27.3.1|\n") },
                `gpu: Docker's default runtime is unknown, not nvidia; ${RUNTIME} ${SEE}`,
            ],
        ];
        for (const [what, answers, line] of cases) {
            it(`for ${what}`, () => assert.deepEqual(problemsOf(answers), [line]));
        }

        it("for an unreadable runtime config, and one without the setting", () => {
            const absent = path.join(dir, "absent.toml");
            assert.deepEqual(problemsOf({}, absent), [`gpu: ${absent} cannot be read; ${MOUNTS} ${SEE}`]);
            fs.writeFileSync(config, "[nvidia-container-cli]\n");
            assert.deepEqual(problemsOf({}), [
                `gpu: ${config} does not set accept-nvidia-visible-devices-as-volume-mounts = true; ${MOUNTS} ${SEE}`,
            ]);
        });

        it("reads the NVIDIA runtime's own config path unless told another", () => {
            const needs = { kind: false, gpu: true, kubectl: false };
            const problems = hostProblems(needs, fakeRunner(HEALTHY));
            // This host's own file decides whether there is a problem; any problem names that file.
            for (const problem of problems) assert.ok(problem.startsWith(`gpu: ${NVIDIA_RUNTIME_CONFIG} `), problem);
            if (!fs.existsSync(NVIDIA_RUNTIME_CONFIG)) assert.equal(problems.length, 1);
        });

        it("accepts a two-digit major version and a kind version without its v", () => {
            assert.deepEqual(
                problemsOf({ "pulumi version": ok("v10.0.0\n"), "kind version": ok("kind 0.31.0\n") }),
                [],
            );
        });
    });

    describe("with cluster.engine podman", () => {
        const podmanNeeds = { kind: true, engine: "podman" as const, gpu: false, kubectl: false };

        it("asks podman info, not docker, and passes a working podman", () => {
            const calls: string[][] = [];
            const answers = { ...HEALTHY, "podman info": ok("4.3.1\n") };
            assert.deepEqual(hostProblems(podmanNeeds, fakeRunner(answers, calls)), []);
            assert.deepEqual(calls, [
                ["pulumi", "version"],
                ["kind", "version"],
                ["podman", "info", "--format", "{{.Version.Version}}"],
            ]);
        });

        it("names a missing podman CLI, and the setting that picks another engine", () => {
            const problems = hostProblems(podmanNeeds, fakeRunner({ ...HEALTHY, "podman info": notFound }));
            assert.deepEqual(problems, [
                "podman: the podman CLI is not on PATH (cluster.engine podman); install Podman " +
                    '(https://podman.io/docs/installation), or set cluster.engine to docker (README, "Prerequisites")',
            ]);
        });

        it("says what podman info said when podman does not work", () => {
            const broken = {
                ...HEALTHY,
                "podman info": failed("Error: could not get runtime: cannot re-exec process", 125),
            };
            const problems = hostProblems(podmanNeeds, fakeRunner(broken));
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(
                problems[0],
                /^podman: podman does not work \(podman info: Error: could not get runtime: cannot re-exec process\); make sure `podman info` works for this user \(kind as non-root: https:\/\/kind\.sigs\.k8s\.io\/docs\/user\/rootless\/\), or set cluster\.engine to docker/,
            );
            const silent = hostProblems(podmanNeeds, fakeRunner({ ...HEALTHY, "podman info": ok("") }));
            assert.match(silent[0], /^podman: podman does not work \(podman info: exit 0\)/);
        });
    });
});
