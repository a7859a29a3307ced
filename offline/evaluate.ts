/**
 * Runs the real Pulumi program (`index.ts`) in-process under Pulumi's mocks and records every resource it
 * registers: tests assert what a stack creates, `npm run render` writes it out, `npm run bench` times it, all
 * without a cluster or the Pulumi CLI.
 *
 * Generated secrets get placeholder values that say what they are (see {@link PLACEHOLDER_MARK}), so that a
 * render never holds a real secret and tests can prove no generated secret leaks into a ConfigMap, an
 * annotation or a stack output.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config/schema";

/** Every placeholder for a generated secret contains this text. */
export const PLACEHOLDER_MARK = "PLACEHOLDER";

/** One resource the program registered. */
export interface RecordedResource {
    /** Pulumi type token, e.g. `kubernetes:apps/v1:StatefulSet`. */
    readonly type: string;
    /** Pulumi resource name. */
    readonly name: string;
    /** Inputs as the program passed them, secrets unwrapped. */
    readonly inputs: Record<string, any>;
    /** Dotted paths of the inputs that were marked secret (`stringData`, `data.munge.key`, ...). */
    readonly secretPaths: string[];
    /** False for component resources. */
    readonly custom: boolean;
    /** Set when the program read an existing object (`Secret.get`) rather than declaring one. */
    readonly readId?: string;
    /** Provider reference (`<urn>::<id>`) of a custom resource, when one was given. */
    readonly provider?: string;
}

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

/** The state the mocks give a registered resource: its inputs, plus placeholders for outputs the program reads. */
export function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    switch (type) {
        case "random:index/randomBytes:RandomBytes": {
            const bytes = Buffer.alloc(inputs.length, `${PLACEHOLDER_MARK} random bytes of ${name} `);
            return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        case "random:index/randomPassword:RandomPassword":
            // Letters and digits only, like the real passwords, so the placeholder is usable where they are.
            return { ...inputs, result: `${PLACEHOLDER_MARK}${name.replace(/[^A-Za-z0-9]/g, "")}` };
        case "pulumi-nodejs:dynamic:Resource":
            // The Kind cluster: the provider would return these.
            return { ...inputs, kubeconfig: `apiVersion: v1\nkind: Config\n# ${PLACEHOLDER_MARK} kubeconfig of ${name}\n` };
        case "kubernetes:helm.sh/v3:Release":
            // What the Helm provider reports after an install; components read the release's name from it.
            return { ...inputs, status: { name: inputs.name, namespace: inputs.namespace, status: "deployed", version: inputs.version } };
        case "kubernetes:core/v1:Secret":
            // Reads of Secrets vCluster writes (its kubeconfig): give them a fake `config`.
            return inputs.data || inputs.stringData ? inputs : { ...inputs, data: { config: Buffer.from(`${PLACEHOLDER_MARK} ${name}`).toString("base64") } };
        default:
            return inputs;
    }
}

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
        get: (type, name) => {
            const found = run.resources.find((r) => r.type === type && r.name === name);
            if (!found) {
                const names = run.ofType(type).map((r) => r.name);
                throw new Error(`no ${type} named ${name}; registered: ${names.join(", ") || "none"}`);
            }
            return found;
        },
    };
    return run;
}

/** Evaluates the program expecting it to fail; resolves to the error and the resources registered before it. */
export async function runProgramExpectingError(settings: Record<string, unknown>): Promise<{ error: Error; resources: RecordedResource[] }> {
    const { resources, error } = await evaluate(settings, "test");
    if (!error) throw new Error("the program was expected to fail, but it succeeded");
    return { error, resources };
}

async function evaluate(settings: Record<string, unknown>, stack: string): Promise<{ resources: RecordedResource[]; program?: any; error?: Error }> {
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(settings)) {
        config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const { resources, result, error } = await underMocks(() => {
        forgetProjectModules();
        return import(path.join(ROOT, "index.ts"));
    }, { stack, config });
    return { resources, program: result, error };
}

/**
 * Runs `build` (which constructs resources) under Pulumi's mocks and records what it registers; for tests of
 * one component. Resolves once every registration has completed.
 */
export async function underMocks<T>(
    build: () => T | Promise<T>,
    options: { stack?: string; config?: Record<string, string> } = {},
): Promise<{ resources: RecordedResource[]; result?: T; error?: Error }> {
    const recorded: RecordedResource[] = [];
    pulumi.runtime.setMocks(recordingMocks(recorded), PROJECT, options.stack ?? "test", false);
    pulumi.runtime.setAllConfig(options.config ?? {});
    let result: T | undefined;
    let error: Error | undefined;
    try {
        result = await build();
    } catch (e) {
        error = e as Error;
    }
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return { resources: recorded.filter((r) => r.type !== "pulumi:pulumi:Stack"), result, error };
}

/**
 * Mocks that append every registered or read resource to `recorded` and answer with {@link mockState}; a read
 * (`Secret.get`) of `type` and `id` also gets `reads.get(\`${type} ${id}\`)`, for tests that need canned state.
 */
export function recordingMocks(recorded: RecordedResource[], reads: ReadonlyMap<string, Record<string, any>> = new Map()): pulumi.runtime.Mocks {
    return {
        newResource(args: pulumi.runtime.MockResourceArgs) {
            const secretPaths: string[] = [];
            const inputs = unwrapSecrets(args.inputs, "", secretPaths);
            const readId = args.id || undefined;
            recorded.push({ type: args.type, name: args.name, inputs, secretPaths, custom: args.custom ?? true, readId, provider: args.provider });
            const state = mockState(args.type, args.name, inputs);
            return { id: readId ?? `${args.name}-id`, state: readId ? { ...state, ...(reads.get(`${args.type} ${readId}`) ?? {}) } : state };
        },
        call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    };
}

// How the RPC layer marks a secret value: { [SECRET_SIG_KEY]: SECRET_SIG, value }.
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Removes secret wrappers from mock inputs, noting where they were. */
function unwrapSecrets(value: any, at: string, secretPaths: string[]): any {
    if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${at}[${i}]`, secretPaths));
    if (value === null || typeof value !== "object") return value;
    if (value[SECRET_SIG_KEY] === SECRET_SIG) {
        secretPaths.push(at);
        return unwrapSecrets(value.value, at, []);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, at ? `${at}.${k}` : k, secretPaths)]));
}

/** Makes the next `import` evaluate the program (and its modules) afresh, with the current mocks and config. */
function forgetProjectModules(): void {
    for (const file of Object.keys(require.cache)) {
        if (file.startsWith(ROOT) && !file.includes(`${path.sep}node_modules${path.sep}`) && !file.startsWith(__dirname) && !file.startsWith(TESTS)) {
            delete require.cache[file];
        }
    }
}

/** Resolves a value that may hold Outputs (at any depth) to plain data. */
export async function resolve(value: unknown): Promise<any> {
    if (pulumi.Output.isInstance(value)) {
        return resolve(await new Promise((done) => (value as pulumi.Output<unknown>).apply(done)));
    }
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = await resolve(v);
        return out;
    }
    return value;
}

/** True if the value, or any Output inside it, is secret. */
export async function containsSecret(value: unknown): Promise<boolean> {
    if (pulumi.Output.isInstance(value)) {
        if (await (value as unknown as { isSecret: Promise<boolean> }).isSecret) return true;
        return containsSecret(await new Promise((done) => (value as pulumi.Output<unknown>).apply(done)));
    }
    if (Array.isArray(value)) return (await Promise.all(value.map(containsSecret))).some(Boolean);
    if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        return (await Promise.all(Object.values(value).map(containsSecret))).some(Boolean);
    }
    return false;
}
