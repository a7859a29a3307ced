/**
 * Runs the real Pulumi program (`index.ts`) in-process under this project's mocks (`mocks.ts`) and records every
 * resource it registers: tests assert what a stack creates, `npm run render` writes it out, `npm run bench` times
 * it, all without a cluster or the Pulumi CLI. Generated secrets hold the mocks' placeholders.
 */
import * as path from "path";
import { PROJECT } from "../config/schema";
import { RecordedResource, containsSecret, findResource, resolve, underMocks } from "./mocks";

/** The result of one program run. */
export interface ProgramRun {
    /** Resources in registration order (the stack itself excluded). */
    readonly resources: RecordedResource[];
    /** The program's exports (stack outputs), resolved; secrets unwrapped. */
    readonly outputs: Record<string, unknown>;
    /** Names of the stack outputs that are secret. */
    readonly secretOutputs: string[];
    /** Resources of one type. */
    ofType(type: string): RecordedResource[];
    /** The one resource with this type and name; throws if absent. */
    get(type: string, name: string): RecordedResource;
}

const ROOT = path.resolve(__dirname, "..");
const TESTS = path.join(ROOT, "tests");

/**
 * Evaluates `index.ts` for a stack whose settings are `settings` (top-level keys without the project prefix,
 * as they would appear in `Pulumi.<stack>.yaml`). Rejects with the program's error, if any.
 */
export async function runProgram(settings: Record<string, unknown>, stack = "test"): Promise<ProgramRun> {
    const { resources, program, error } = await evaluate(settings, stack);
    if (error) throw error;
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [key, value] of Object.entries(program)) {
        if (key === "default" || key === "__esModule") continue;
        outputs[key] = await resolve(value);
        if (await containsSecret(value)) secretOutputs.push(key);
    }
    const run: ProgramRun = {
        resources,
        outputs,
        secretOutputs,
        ofType: (type) => run.resources.filter((r) => r.type === type),
        get: (type, name) => findResource(run.resources, type, name),
    };
    return run;
}

/** Evaluates the program expecting it to fail; resolves to the error and the resources registered before it. */
export async function runProgramExpectingError(
    settings: Record<string, unknown>,
): Promise<{ error: Error; resources: RecordedResource[] }> {
    const { resources, error } = await evaluate(settings, "test");
    if (!error) throw new Error("the program was expected to fail, but it succeeded");
    return { error, resources };
}

async function evaluate(
    settings: Record<string, unknown>,
    stack: string,
): Promise<{ resources: RecordedResource[]; program?: any; error?: Error }> {
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(settings)) {
        config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const { resources, result, error } = await underMocks(
        () => {
            forgetProjectModules();
            return import(path.join(ROOT, "index.ts"));
        },
        { stack, config },
    );
    return { resources, program: result, error };
}

/** Makes the next `import` evaluate the program (and its modules) afresh, with the current mocks and config. */
function forgetProjectModules(): void {
    for (const file of Object.keys(require.cache)) {
        if (
            file.startsWith(ROOT) &&
            !file.includes(`${path.sep}node_modules${path.sep}`) &&
            !file.startsWith(__dirname) &&
            !file.startsWith(TESTS)
        ) {
            delete require.cache[file];
        }
    }
}
