import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultSlurmImage } from "../../../config/slurmImage";
import { ActionTools, cli, parseArguments, realTools, runAction } from "../../../scripts/lib/action";
import { REPO_ROOT } from "../../../scripts/lib/backend";
import { Stop } from "../../../scripts/lib/failure";
import { runCommand } from "../../../scripts/lib/run";
import { failed, notFound, ok, ROOT } from "./doubles";
import { fakeStack, fakeTools } from "./stackDoubles";

describe("npm run up / preview / destroy: the action", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-action-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("up checks the host, finds the image, then runs up with refresh and prints the outputs, secrets hidden", async () => {
        const { stack, ran } = fakeStack({
            clusterName: { value: "ai-hyperscaler-dev", secret: false },
            slurmInfo: { value: { namespace: "slurm", partitions: ["batch"] }, secret: false },
            kubeconfig: { value: "apiVersion: v1 # with a token", secret: true },
        });
        const { tools, calls, written } = fakeTools(stack);
        await runAction("up", "dev", tools);

        assert.deepEqual(
            calls.map((call) => call.slice(0, 2).join(" ")),
            [
                "pulumi version",
                "kind version",
                "kubectl version",
                "docker info",
                "docker image",
                "kind get",
                "<openStack> dev",
            ],
        );
        assert.deepEqual(calls[4], ["docker", "image", "inspect", "--format", "{{.Id}}", defaultSlurmImage()]);
        assert.deepEqual(
            ran.map((r) => r.method),
            ["up"],
        );
        assert.equal(ran[0].options.refresh, true);
        assert.equal(ran[0].options.onOutput, tools.write, "Pulumi's progress streams to the output as it comes");
        const text = written.join("");
        assert.ok(text.includes(`${defaultSlurmImage()} is in the local Docker already: not building it\n`));
        assert.ok(text.includes("up dev: state in .pulumi-state/\n"));
        const show =
            "PULUMI_BACKEND_URL=file:///lab/.pulumi-state PULUMI_CONFIG_PASSPHRASE_FILE=/lab/p " +
            "pulumi stack output <name> --show-secrets --stack dev";
        assert.ok(
            text.endsWith(
                `\nStack outputs (secrets: \`${show}\`):\n` +
                    '  clusterName: "ai-hyperscaler-dev"\n' +
                    '  slurmInfo: {\n    "namespace": "slurm",\n    "partitions": [\n      "batch"\n    ]\n  }\n' +
                    "  kubeconfig: [secret]\n",
            ),
            text,
        );
        assert.ok(!text.includes("apiVersion"), "a secret output's value is never printed");
    });

    it("up with a chosen backend shows the plain `pulumi stack output` command", async () => {
        const { stack } = fakeStack({ kubeconfig: { value: "x", secret: true } });
        const { tools, written } = fakeTools(stack);
        const chosen = { ...tools, openStack: async () => ({ stack, backend: { envVars: {}, description: "d" } }) };
        await runAction("up", "dev", chosen);
        assert.ok(written.join("").includes("(secrets: `pulumi stack output <name> --show-secrets --stack dev`)"));
    });

    it("up builds a missing image in the repository, streaming the build's output, before Pulumi runs", async () => {
        const { stack, ran } = fakeStack();
        const { tools, calls, written, runOptions } = fakeTools(stack, {
            "docker image": failed("Error: No such image"),
            "docker build": ok(),
        });
        await runAction("up", "dev", tools);
        const build = calls.findIndex((call) => call[1] === "build");
        assert.deepEqual(calls[build], [
            "docker",
            "build",
            "-t",
            defaultSlurmImage(),
            "containers/images/slurm-base/Docker",
        ]);
        assert.deepEqual(runOptions[build], { inherit: true, cwd: ROOT });
        assert.deepEqual(calls[build + 1], ["kind", "get", "clusters"]);
        assert.deepEqual(calls[build + 2], ["<openStack>", "dev"]);
        assert.ok(
            written.join("").includes(`building ${defaultSlurmImage()} from containers/images/slurm-base/Docker`),
        );
        assert.ok(!written.join("").includes("not building it"));
        assert.deepEqual(
            ran.map((r) => r.method),
            ["up"],
        );
    });

    it("up and destroy of a Kind stack whose cluster kind no longer has drop its objects; a listed one keeps them", async () => {
        for (const action of ["up", "destroy"] as const) {
            const gone = fakeTools(fakeStack().stack, { "kind get": ok("some-other-cluster\n") });
            await runAction(action, "dev", gone.tools);
            assert.deepEqual(gone.openedEnv, [{ PULUMI_K8S_DELETE_UNREACHABLE: "true" }], action);
            assert.ok(
                gone.written
                    .join("")
                    .includes(
                        `${action} dev: kind has no cluster ai-hyperscaler-dev; what it held is dropped from the state\n`,
                    ),
            );
            const listed = fakeTools(fakeStack().stack);
            await runAction(action, "dev", listed.tools);
            assert.deepEqual(listed.openedEnv, [{}], `${action}: an unreachable but listed cluster keeps its objects`);
        }
    });

    it("a failing kind get clusters is not a cluster gone: nothing is dropped", async () => {
        const { tools, openedEnv } = fakeTools(fakeStack().stack, { "kind get": failed("ERROR: docker down") });
        await runAction("up", "dev", tools);
        assert.deepEqual(openedEnv, [{}]);
    });

    it("preview runs preview only and asks the host for the Pulumi CLI alone", async () => {
        const { stack, ran } = fakeStack();
        const { tools, calls, written } = fakeTools(stack);
        await runAction("preview", "dev", tools);
        assert.deepEqual(calls, [
            ["pulumi", "version"],
            ["<openStack>", "dev"],
        ]);
        assert.deepEqual(
            ran.map((r) => [r.method, r.options.onOutput === tools.write]),
            [["preview", true]],
        );
        assert.ok(!written.join("").includes("Stack outputs"));
    });

    it("destroy runs destroy only, after checking kind and Docker, and needs no image", async () => {
        const { stack, ran } = fakeStack();
        const { tools, calls, written } = fakeTools(stack);
        await runAction("destroy", "dev", tools);
        assert.deepEqual(
            calls.map((call) => call.slice(0, 2).join(" ")),
            ["pulumi version", "kind version", "docker info", "kind get", "<openStack> dev"],
        );
        assert.deepEqual(
            ran.map((r) => [r.method, r.options.onOutput === tools.write]),
            [["destroy", true]],
        );
        assert.equal(written.join(""), "destroy dev: state in .pulumi-state/\n");
    });

    it("stops with every host problem before building or opening the stack", async () => {
        const { stack, ran } = fakeStack();
        const { tools, calls } = fakeTools(stack, {
            "kind version": notFound,
            "docker info": failed("cannot connect"),
        });
        await assert.rejects(runAction("up", "dev", tools), (error: unknown) => {
            assert.ok(error instanceof Stop);
            assert.deepEqual(
                error.problems.map((p) => p.split(":")[0]),
                ["kind", "docker"],
            );
            return true;
        });
        assert.ok(!calls.some((call) => call[0] === "<openStack>" || call[1] === "image"));
        assert.equal(ran.length, 0);
    });

    it("stops on a bad setting before any tool runs", async () => {
        fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), "config:\n  ai-hyperscaler:cluster:\n    workers: -1\n");
        const { stack } = fakeStack();
        const { tools, calls } = fakeTools(stack);
        await assert.rejects(runAction("up", "bad", { ...tools, root: dir }), /cluster\.workers/);
        assert.deepEqual(calls, []);
    });

    it("runs everything with Podman when KIND_EXPERIMENTAL_PROVIDER says podman, kind told so too", async () => {
        const podman = { "podman info": ok("4.3.1\n"), "podman image": ok("sha256:1\n") };
        const env = { KIND_EXPERIMENTAL_PROVIDER: "podman" };
        const { tools, calls, runOptions, written } = fakeTools(fakeStack().stack, podman, env);
        await runAction("up", "dev", tools);
        const image = `localhost/${defaultSlurmImage()}`;
        assert.deepEqual(calls.slice(0, 6), [
            ["pulumi", "version"],
            ["kind", "version"],
            ["kubectl", "version", "--client"],
            ["podman", "info", "--format", "{{.Version.Version}}"],
            ["podman", "image", "inspect", "--format", "{{.Id}}", image],
            ["kind", "get", "clusters"],
        ]);
        assert.deepEqual(runOptions[5], { env: { KIND_EXPERIMENTAL_PROVIDER: "podman" } });
        assert.ok(!calls.some((c) => c[0] === "docker"), JSON.stringify(calls));
        assert.ok(written.join("").includes(`${image} is in the local Podman already: not building it\n`));
        // A Docker stack names its engine to kind as well: left to itself, kind would list another engine's.
        const docker = fakeTools(fakeStack().stack);
        await runAction("up", "dev", docker.tools);
        const listing = docker.calls.findIndex((c) => c[0] === "kind" && c[1] === "get");
        assert.deepEqual(docker.runOptions[listing], { env: { KIND_EXPERIMENTAL_PROVIDER: "docker" } });
    });

    it("refuses the gpu stack on Podman before any tool runs, naming cluster.engine", async () => {
        const { tools, calls } = fakeTools(fakeStack().stack, {}, { KIND_EXPERIMENTAL_PROVIDER: "podman" });
        await assert.rejects(runAction("up", "gpu", tools), (e: Error) => {
            assert.match(e.message, /cluster\.engine = "podman": must be docker with cluster\.gpuWorkers = 1/);
            assert.match(e.message, /nvkind's, which is Docker-only/);
            return true;
        });
        assert.deepEqual(calls, []);
    });

    it("reads the stack's settings and builds the image from the tools' root", async () => {
        const image = "registry.example/slurm:mine";
        fs.writeFileSync(
            path.join(dir, "Pulumi.lab.yaml"),
            `config:\n  ai-hyperscaler:cluster:\n    type: kind\n  ai-hyperscaler:slurm:\n    image: ${image}\n`,
        );
        const { stack } = fakeStack();
        const { tools, calls } = fakeTools(stack);
        await runAction("up", "lab", { ...tools, root: dir });
        assert.deepEqual(calls[3], ["docker", "image", "inspect", "--format", "{{.Id}}", image]);
    });

    it("checks the NVIDIA runtime config at HYPERSCALER_NVIDIA_RUNTIME_CONFIG when it is set", async () => {
        const config = path.join(dir, "config.toml");
        fs.writeFileSync(config, "accept-nvidia-visible-devices-as-volume-mounts = true\n");
        const { stack, ran } = fakeStack();
        const { tools } = fakeTools(stack, {}, { HYPERSCALER_NVIDIA_RUNTIME_CONFIG: config });
        await runAction("up", "gpu", tools);
        assert.equal(ran.length, 1);

        const missing = path.join(dir, "missing.toml");
        const other = fakeTools(stack, {}, { HYPERSCALER_NVIDIA_RUNTIME_CONFIG: missing });
        await assert.rejects(runAction("up", "gpu", other.tools), (error: unknown) => {
            assert.ok(error instanceof Stop);
            assert.equal(error.problems.length, 1);
            assert.ok(error.problems[0].startsWith(`gpu: ${missing} cannot be read`), error.problems[0]);
            return true;
        });
        // Unset (or empty), the checks read the runtime's own path, which this machine has not got or set right.
        const unset = fakeTools(stack, {}, { HYPERSCALER_NVIDIA_RUNTIME_CONFIG: "" });
        await assert.rejects(runAction("up", "gpu", unset.tools), /\/etc\/nvidia-container-runtime\/config\.toml/);
    });
});

describe("npm run up / preview / destroy: the command line", () => {
    /** Runs `cli` with a healthy host and a stack that succeeds unless `fail` says why it does not. */
    async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, fail?: Error) {
        const { stack, ran } = fakeStack();
        const { tools } = fakeTools(stack);
        const failing: ActionTools = fail
            ? {
                  ...tools,
                  openStack: async () => {
                      throw fail;
                  },
              }
            : tools;
        const reports: string[] = [];
        const code = await cli(argv, env, failing, (text) => reports.push(text));
        return { code, reports, ran };
    }

    it("accepts exactly an action and a stack", () => {
        assert.deepEqual(parseArguments(["up", "dev"]), { action: "up", stackName: "dev" });
        assert.deepEqual(parseArguments(["destroy", "gpu"]), { action: "destroy", stackName: "gpu" });
        for (const argv of [[], ["up"], ["up", "dev", "gpu"], ["deploy", "dev"], ["up", ""]]) {
            assert.throws(
                () => parseArguments(argv),
                (error: unknown) =>
                    error instanceof Stop &&
                    error.problems.length === 1 &&
                    error.problems[0].startsWith("usage: npm run <up|preview|destroy> -- <stack>"),
                JSON.stringify(argv),
            );
        }
    });

    it("exits 0 and reports nothing when the action succeeds", async () => {
        const { code, reports, ran } = await runCli(["preview", "dev"]);
        assert.deepEqual([code, reports, ran.map((r) => r.method)], [0, [], ["preview"]]);
    });

    it("exits 1 with the usage, naming what was given", async () => {
        const usage = "usage: npm run <up|preview|destroy> -- <stack>";
        for (const [argv, heading] of [
            [[], "npm run up -- <stack>: "],
            [["preview"], "npm run preview -- <stack>: "],
            [["deploy", "dev"], "npm run deploy -- dev: "],
        ] as const) {
            const { code, reports, ran } = await runCli([...argv]);
            assert.equal(code, 1);
            assert.equal(reports.length, 1);
            assert.ok(reports[0].startsWith(heading + usage), reports[0]);
            assert.equal(ran.length, 0);
        }
    });

    it("exits 1 with the reason, the passphrase and access token masked", async () => {
        const env = { PULUMI_CONFIG_PASSPHRASE: "hunter22", PULUMI_ACCESS_TOKEN: "pul-0123456789" };
        const error = new Error("passphrase hunter22 is wrong\n  - and pul-0123456789 expired");
        const { code, reports } = await runCli(["up", "dev"], env, error);
        assert.equal(code, 1);
        assert.deepEqual(reports, [
            "npm run up -- dev stopped:\n  - passphrase [secret] is wrong\n  - and [secret] expired",
        ]);
        // Neither set (or one empty): nothing to mask, and the report still comes.
        const bare = await runCli(["up", "dev"], { PULUMI_CONFIG_PASSPHRASE: "" }, new Error("it broke"));
        assert.deepEqual([bare.code, bare.reports], [1, ["npm run up -- dev: it broke"]]);
    });

    it("reports on standard error by default", async () => {
        const { tools } = fakeTools(fakeStack().stack);
        const original = console.error;
        const seen: unknown[] = [];
        console.error = (text: unknown) => seen.push(text);
        try {
            assert.equal(await cli(["deploy", "dev"], {}, tools), 1);
        } finally {
            console.error = original;
        }
        assert.equal(seen.length, 1);
        assert.match(String(seen[0]), /^npm run deploy -- dev: usage: /);
    });

    it("uses the real host, backend, repository, environment and standard output by default", async () => {
        const env = { HOME: "/nowhere" };
        const tools = realTools(env);
        assert.equal(tools.run, runCommand);
        assert.equal(tools.root, REPO_ROOT);
        assert.equal(tools.env, env);
        const original = process.stdout.write;
        const seen: string[] = [];
        process.stdout.write = ((text: string) => seen.push(text) > 0) as typeof process.stdout.write;
        try {
            tools.write("streamed");
        } finally {
            process.stdout.write = original;
        }
        assert.deepEqual(seen, ["streamed"]);
    });
});
