/**
 * `npm run up -- <stack>` / `npm run preview -- <stack>` / `npm run destroy -- <stack>`: the whole lab in one
 * command, through Pulumi's Automation API, the way a pipeline would drive it.
 *
 * In order, and stopping at the first step that fails: the stack's settings are validated; the host is checked
 * (Pulumi CLI version, kind version, Docker engine, and GPUs for a GPU stack); `up` of a Kind stack makes sure the
 * Slurm image is in the local Docker (building the content-tagged image when missing); then the stack is opened in
 * the user's Pulumi backend, or a project-local one, and `up` (with refresh), `preview` or `destroy` runs.
 */
import { parseStackConfig } from "../config/schema";
import { readStackSettings } from "../config/stackFile";
import { openStack, REPO_ROOT } from "./lib/backend";
import { failureLines, failureReport, Stop } from "./lib/failure";
import { ensureImage } from "./lib/image";
import { Action, ACTIONS, planFor } from "./lib/plan";
import { hostProblems, NVIDIA_RUNTIME_CONFIG } from "./lib/preflight";
import { runCommand } from "./lib/run";

/** Runs one action on one stack; resolves when done, rejects with the reason it stopped. */
export async function main(action: Action, stackName: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    // A bad setting is reported here, before any tool runs or anything is built.
    const settings = readStackSettings(stackName);
    const config = parseStackConfig(settings);
    const plan = planFor(action, config, settings, REPO_ROOT);

    // The NVIDIA runtime's config lives elsewhere on a few hosts (and in tests).
    const nvidiaRuntimeConfig = env.HYPERSCALER_NVIDIA_RUNTIME_CONFIG || NVIDIA_RUNTIME_CONFIG;
    const problems = hostProblems(plan.needs, runCommand, { nvidiaRuntimeConfig });
    if (problems.length > 0) throw new Stop(problems);

    if (plan.image) {
        const outcome = ensureImage(plan.image, runCommand, REPO_ROOT);
        if (outcome === "present") console.log(`${plan.image.image} is in the local Docker already: not building it`);
    }

    const { stack, backend } = await openStack(stackName, REPO_ROOT, env);
    console.log(`${action} ${stackName}: ${backend.description}`);
    const onOutput = (text: string) => process.stdout.write(text);
    if (action === "preview") {
        await stack.preview({ onOutput });
    } else if (action === "destroy") {
        await stack.destroy({ onOutput });
    } else {
        // refresh first: a Kind cluster deleted outside Pulumi is then recreated rather than assumed to exist.
        const result = await stack.up({ onOutput, refresh: true });
        // With the project-local backend, the pulumi CLI finds this stack only with the same environment.
        const prefix = Object.entries(backend.envVars).map(([key, value]) => `${key}=${value} `);
        const show = `${prefix.join("")}pulumi stack output <name> --show-secrets --stack ${stackName}`;
        console.log(`\nStack outputs (secrets: \`${show}\`):`);
        for (const [name, output] of Object.entries(result.outputs)) {
            const shown = output.secret ? "[secret]" : JSON.stringify(output.value, null, 2).replace(/\n/g, "\n  ");
            console.log(`  ${name}: ${shown}`);
        }
    }
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

if (require.main === module) {
    const argv = process.argv.slice(2);
    const secrets = [process.env.PULUMI_CONFIG_PASSPHRASE, process.env.PULUMI_ACCESS_TOKEN].filter(
        (s): s is string => !!s,
    );
    Promise.resolve()
        .then(() => parseArguments(argv))
        .then(({ action, stackName }) => main(action, stackName))
        .catch((error: unknown) => {
            console.error(failureReport(argv[0] ?? "up", argv[1] ?? "<stack>", failureLines(error, secrets)));
            process.exitCode = 1;
        });
}
