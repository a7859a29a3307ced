/**
 * One action (`up`, `preview` or `destroy`) on one stack, in order and stopping at the first step that fails: the
 * stack's settings are validated; the host is checked (Pulumi CLI version, kind version, Docker engine, and GPUs for
 * a GPU stack); `up` of a Kind stack makes sure the Slurm image is in the local Docker (building the content-tagged
 * image when missing); then the stack is opened in the user's Pulumi backend, or a project-local one, and `up`
 * (with refresh), `preview` or `destroy` runs.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { ENGINE_NAMES } from "../../config/rules";
import { ENGINE_VARIABLE } from "../../config/settings";
import { parseStackConfig, StackConfig } from "../../config/schema";
import { pulumiCommand, stackCli } from "../../config/stackCli";
import { readStackSettings } from "../../config/stackFile";
import { BackendChoice, openStack, REPO_ROOT } from "./backend";
import { failureLines, failureReport, Stop } from "./failure";
import { ensureImage } from "./image";
import { Action, ACTIONS, planFor } from "./plan";
import { hostProblems, NVIDIA_RUNTIME_CONFIG } from "./preflight";
import { Runner, runCommand } from "./run";

/** The part of an Automation API stack an action drives. */
export type DrivenStack = Pick<Stack, "up" | "preview" | "destroy">;

/** What an action uses of the world outside the program; tests replace each part. */
export interface ActionTools {
    /** Runs the host's CLIs (preflight, `docker build`). Default: {@link runCommand}. */
    readonly run: Runner;
    /**
     * Opens the stack in its backend, with `extraEnv` added to the CLI's environment. Default: {@link openStack} in
     * {@link ActionTools.root}.
     */
    readonly openStack: (
        stackName: string,
        extraEnv?: Record<string, string>,
    ) => Promise<{ stack: DrivenStack; backend: BackendChoice }>;
    /** The repository root: stack files and the image's build context. Default: {@link REPO_ROOT}. */
    readonly root: string;
    /** The environment: the NVIDIA runtime config's path override, the backend choice. Default: `process.env`. */
    readonly env: NodeJS.ProcessEnv;
    /** Writes output as it comes (Pulumi's progress, the outputs). Default: standard output. */
    readonly write: (text: string) => void;
    /**
     * Aborted when the run is asked to stop (see {@link watchInterrupts}): the Automation API then sends the Pulumi
     * CLI one SIGINT, and the CLI stops cleanly, recording what it did and releasing the stack's lock. Default none.
     */
    readonly interrupt?: AbortSignal;
}

/**
 * How `npm run up|preview|destroy` stops when asked, so that the next run finds the stack unlocked and its state
 * whole. Ctrl-C in a terminal reaches the whole process group, the Pulumi CLI included, which then cancels cleanly
 * by itself (a second Ctrl-C makes it stop at once): this process only waits for it, and says so. SIGTERM (a
 * pipeline's cancel, `kill`) reaches this process alone: it is passed on once, as the SIGINT the CLI cancels on; a
 * second SIGTERM ends this process at once. Returns the signal to hand to {@link ActionTools.interrupt}.
 */
export function watchInterrupts(
    on: (signal: "SIGINT" | "SIGTERM", handler: () => void) => void,
    say: (line: string) => void,
    exit: (code: number) => void,
): AbortSignal {
    const controller = new AbortController();
    let told = false;
    on("SIGINT", () => {
        if (!told)
            say("interrupted: Pulumi is stopping cleanly and releasing the stack's lock (Ctrl-C again: at once)");
        told = true;
    });
    on("SIGTERM", () => {
        if (controller.signal.aborted) return exit(143);
        say("terminated: Pulumi is told to stop cleanly and release the stack's lock (SIGTERM again: at once)");
        controller.abort();
    });
    return controller.signal;
}

/** The real world: the host's CLIs, the user's backend, this repository, this process's environment and stdout. */
export function realTools(env: NodeJS.ProcessEnv = process.env): ActionTools {
    return {
        run: runCommand,
        openStack: (stackName, extraEnv) => openStack(stackName, REPO_ROOT, env, extraEnv),
        root: REPO_ROOT,
        env,
        write: (text) => process.stdout.write(text),
    };
}

/** Runs `action` on `stackName`; resolves when done, rejects with the reason it stopped. */
export async function runAction(action: Action, stackName: string, tools: ActionTools = realTools()): Promise<void> {
    const say = (line: string) => tools.write(`${line}\n`);
    // A bad setting is reported here, before any tool runs or anything is built.
    const settings = readStackSettings(stackName, tools.root);
    const config = parseStackConfig(settings, { env: tools.env });
    const plan = planFor(action, config, settings, tools.root);

    // The NVIDIA runtime's config lives elsewhere on a few hosts (and in tests).
    const nvidiaRuntimeConfig = tools.env.HYPERSCALER_NVIDIA_RUNTIME_CONFIG || NVIDIA_RUNTIME_CONFIG;
    const problems = hostProblems(plan.needs, tools.run, { nvidiaRuntimeConfig });
    if (problems.length > 0) throw new Stop(problems);

    if (plan.image) {
        const outcome = ensureImage(plan.image, tools.run, tools.root, say);
        const store = ENGINE_NAMES[plan.image.engine];
        if (outcome === "present") say(`${plan.image.image} is in the local ${store} already: not building it`);
    }

    const gone = action !== "preview" && kindClusterGone(config, tools.run);
    // Only a cluster that is gone may take its objects out of the state; an unreachable one (restarting) must not.
    const { stack, backend } = await tools.openStack(stackName, gone ? { [DELETE_UNREACHABLE]: "true" } : {});
    say(`${action} ${stackName}: ${backend.description}`);
    if (gone) say(`${action} ${stackName}: kind has no cluster ${gone}; what it held is dropped from the state`);
    const onOutput = tools.write;
    const signal = tools.interrupt;
    if (action === "preview") {
        await stack.preview({ onOutput, signal });
    } else if (action === "destroy") {
        await stack.destroy({ onOutput, signal });
    } else {
        // refresh first: a Kind cluster deleted outside Pulumi is then recreated rather than assumed to exist.
        const result = await stack.up({ onOutput, refresh: true, signal });
        // With the project-local backend, the pulumi CLI finds this stack only with the environment it ran with.
        const show = pulumiCommand(
            stackCli(stackName, { ...tools.env, ...backend.envVars }),
            "stack output <name> --show-secrets",
        );
        say(`\nStack outputs (secrets: \`${show}\`):`);
        for (const [name, output] of Object.entries(result.outputs)) {
            const shown = output.secret ? "[secret]" : JSON.stringify(output.value, null, 2).replace(/\n/g, "\n  ");
            say(`  ${name}: ${shown}`);
        }
    }
}

/**
 * The Kubernetes provider's switch (pulumi-kubernetes, Configure) that makes Read and Delete of an unreachable
 * cluster's objects succeed by dropping them from the state. The program never sets the provider's own
 * `deleteUnreachable`, which would override this variable.
 */
export const DELETE_UNREACHABLE = "PULUMI_K8S_DELETE_UNREACHABLE";

/**
 * The Kind cluster's name when the stack is on Kind and `kind get clusters` does not list it (deleted outside
 * Pulumi); undefined when it is listed, or when the stack is not on Kind. A failing kind is not "gone": the
 * provider then reports the real problem. kind is told the stack's engine, as the Kind provider tells it: kind
 * lists only the clusters of the engine it runs, so asking another would find the cluster gone.
 */
export function kindClusterGone(config: StackConfig, run: Runner): string | undefined {
    if (config.cluster.type !== "kind") return undefined;
    const listed = run("kind", ["get", "clusters"], { env: { [ENGINE_VARIABLE]: config.cluster.engine } });
    if (listed.status !== 0) return undefined;
    const names = listed.stdout.split("\n").map((line) => line.trim());
    return names.includes(config.cluster.name) ? undefined : config.cluster.name;
}

/** The arguments `npm run <action> -- <stack>` passes, checked; throws the usage line otherwise. */
export function parseArguments(argv: readonly string[]): { action: Action; stackName: string } {
    const [action, stackName] = argv;
    if (argv.length !== 2 || !(ACTIONS as readonly string[]).includes(action) || !stackName) {
        throw new Stop([
            `usage: npm run <${ACTIONS.join("|")}> -- <stack>   (stack: dev, gpu, ... as in Pulumi.<stack>.yaml)`,
        ]);
    }
    return { action: action as Action, stackName };
}

/**
 * `npm run <action> -- <stack>` from its arguments to its exit code: runs the action, or reports why it stopped in
 * one line per problem (through `report`), with the passphrase and access token of `env` masked.
 */
export async function cli(
    argv: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
    tools: ActionTools = realTools(env),
    report: (text: string) => void = (text) => console.error(text),
): Promise<number> {
    try {
        const { action, stackName } = parseArguments(argv);
        await runAction(action, stackName, tools);
        return 0;
    } catch (error: unknown) {
        const secrets = [env.PULUMI_CONFIG_PASSPHRASE, env.PULUMI_ACCESS_TOKEN].filter((s): s is string => !!s);
        report(failureReport(argv[0] ?? "up", argv[1] ?? "<stack>", failureLines(error, secrets)));
        return 1;
    }
}
