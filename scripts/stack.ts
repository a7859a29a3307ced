/**
 * `npm run up -- <stack>` / `npm run preview -- <stack>` / `npm run destroy -- <stack>`: the whole lab in one
 * command, through Pulumi's Automation API, the way a pipeline would drive it.
 *
 * `up` checks the stack's settings and the tools first, builds the Slurm image when the stack runs the static
 * Slurm stack (KindCluster then loads it into the nodes), and runs `pulumi up`. Needs the Pulumi CLI, Docker and,
 * for Kind stacks, kind.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { parseStackConfig, StackConfig } from "../config/schema";
import { readStackSettings } from "../offline/stack";

const ROOT = path.resolve(__dirname, "..");
const SLURM_IMAGE_CONTEXT = "containers/images/slurm-base/Docker";
const ACTIONS = ["up", "preview", "destroy"] as const;
type Action = (typeof ACTIONS)[number];

/** What an action needs: the CLIs on PATH, and the image to build first (if any). */
export function planFor(action: Action, config: StackConfig): { tools: string[]; buildImage?: string } {
    const tools = ["pulumi"];
    const builds = action === "up" && config.slurm.mode === "static";
    if (config.cluster.type === "kind" && action !== "preview") tools.push("kind", "docker");
    else if (builds) tools.push("docker");
    return { tools, buildImage: builds ? config.slurm.image : undefined };
}

/** The CLIs of `tools` that are not on PATH. */
export function missingTools(tools: readonly string[], searchPath = process.env.PATH ?? ""): string[] {
    const fs = require("fs") as typeof import("fs");
    const dirs = searchPath.split(path.delimiter).filter(Boolean);
    return tools.filter((tool) => !dirs.some((dir) => {
        try {
            fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    }));
}

async function main(argv: string[]): Promise<void> {
    const [action, stackName] = argv as [Action, string];
    if (!ACTIONS.includes(action) || !stackName || argv.length !== 2) {
        throw new Error(`usage: npm run <${ACTIONS.join("|")}> -- <stack>   (stack: dev, gpu, ... as in Pulumi.<stack>.yaml)`);
    }
    // A bad setting is reported here, before any tool runs or anything is built.
    const config = parseStackConfig(readStackSettings(stackName));
    const plan = planFor(action, config);
    const missing = missingTools(plan.tools);
    if (missing.length > 0) {
        throw new Error(`${action} needs ${missing.join(", ")} on PATH: install them (see README, "Prerequisites") and try again`);
    }
    if (plan.buildImage) {
        console.log(`building ${plan.buildImage} from ${SLURM_IMAGE_CONTEXT}`);
        const build = spawnSync("docker", ["build", "-t", plan.buildImage, SLURM_IMAGE_CONTEXT], { cwd: ROOT, stdio: "inherit" });
        if (build.status !== 0) throw new Error(`docker build of ${plan.buildImage} failed (exit ${build.status})`);
    }

    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: ROOT });
    const onOutput = (text: string) => process.stdout.write(text);
    if (action === "preview") {
        await stack.preview({ onOutput });
        return;
    }
    if (action === "destroy") {
        await stack.destroy({ onOutput });
        return;
    }
    const result = await stack.up({ onOutput });
    console.log("\nStack outputs (secrets: `pulumi stack output <name> --show-secrets`):");
    for (const [name, output] of Object.entries(result.outputs)) {
        console.log(`  ${name}: ${output.secret ? "[secret]" : JSON.stringify(output.value, null, 2).replace(/\n/g, "\n  ")}`);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((error: Error) => {
        console.error(`${process.argv[2] ?? "stack"}: ${error.message}`);
        process.exit(1);
    });
}
