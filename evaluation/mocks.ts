/**
 * Pulumi's mocks as this project uses them, the one set for the program evaluator (`program.ts`) and every test:
 * each registered or read resource is recorded with its inputs (secrets unwrapped, their paths noted), and answered
 * with the state a real provider would give the outputs the program reads. Generated secrets get placeholder
 * values that say what they are (see {@link PLACEHOLDER_MARK}), so that a render never holds a real secret and
 * tests can prove no generated secret leaks into a ConfigMap, an annotation or a stack output.
 *
 * Two ways in: {@link underMocks} records one build (a program run, a component) and resolves once every
 * registration has landed; {@link installMocks} installs the mocks once for a test file that builds components one
 * by one and inspects the {@link MockEngine} between them.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config/schema";

/** Every placeholder for a generated secret contains this text. */
export const PLACEHOLDER_MARK = "PLACEHOLDER";

/**
 * True when `text` is or holds a placeholder: the mark itself, or a value made from placeholder bytes whose encoding
 * hides the mark (the SSH host key: an OpenSSH key file built from the placeholder seed, base64 inside its armor).
 */
export function holdsPlaceholder(text: string): boolean {
    if (text.includes(PLACEHOLDER_MARK)) return true;
    const body = text
        .split("\n")
        .filter((line) => !line.startsWith("-----"))
        .join("");
    return /^[A-Za-z0-9+/=]+$/.test(body) && Buffer.from(body, "base64").includes(PLACEHOLDER_MARK);
}

/** One resource the mocks saw registered or read. */
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
            // A Secret wait reports the uid of the Secret it saw; the Kind cluster its kubeconfig.
            return inputs.secretName !== undefined
                ? { ...inputs, secretUid: `${name}-secret-uid` }
                : { ...inputs, kubeconfig: mockKubeconfig(name) };
        case "kubernetes:core/v1:Namespace":
            // The API server gives every object a uid; a namespace made anew gets another.
            return { ...inputs, metadata: { ...inputs.metadata, uid: `${name}-uid` } };
        case "kubernetes:helm.sh/v3:Release":
            // What the Helm provider reports after an install; components read the release's name from it.
            return {
                ...inputs,
                status: { name: inputs.name, namespace: inputs.namespace, status: "deployed", version: inputs.version },
            };
        case "kubernetes:core/v1:Secret":
            // Reads of Secrets vCluster writes (its kubeconfig): give them a fake `config`.
            return inputs.data || inputs.stringData
                ? inputs
                : { ...inputs, data: { config: Buffer.from(`${PLACEHOLDER_MARK} ${name}`).toString("base64") } };
        default:
            return inputs;
    }
}

/**
 * The kubeconfig the mocks give the dynamic resource `name` (the Kind cluster): kind's layout (one cluster, context
 * and user `kind-<name>`), so that what the program derives from it (the cluster's identity) can be computed, with
 * a CA that names the resource and no real credentials.
 */
export function mockKubeconfig(name: string): string {
    const ca = Buffer.from(`${PLACEHOLDER_MARK} CA of ${name}`).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        `# ${PLACEHOLDER_MARK} kubeconfig of ${name}`,
        "clusters:",
        `- cluster: {certificate-authority-data: ${ca}, server: "https://127.0.0.1:6443"}`,
        `  name: kind-${name}`,
        "contexts:",
        `- context: {cluster: kind-${name}, user: kind-${name}}`,
        `  name: kind-${name}`,
        `current-context: kind-${name}`,
        "",
    ].join("\n");
}

/**
 * Mocks that append every registered or read resource to `recorded` and answer with {@link mockState}; a read
 * (`Secret.get`) of `type` and `id` also gets `reads.get(\`${type} ${id}\`)`, for tests that need canned state.
 */
export function recordingMocks(
    recorded: RecordedResource[],
    reads: ReadonlyMap<string, Record<string, any>> = new Map(),
): pulumi.runtime.Mocks {
    return {
        newResource(args: pulumi.runtime.MockResourceArgs) {
            const secretPaths: string[] = [];
            const inputs = unwrapSecrets(args.inputs, "", secretPaths);
            const readId = args.id || undefined;
            recorded.push({
                type: args.type,
                name: args.name,
                inputs,
                secretPaths,
                custom: args.custom ?? true,
                readId,
                provider: args.provider,
            });
            const state = mockState(args.type, args.name, inputs);
            return {
                id: readId ?? `${args.name}-id`,
                state: readId ? { ...state, ...(reads.get(`${args.type} ${readId}`) ?? {}) } : state,
            };
        },
        call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    };
}

/**
 * Pulumi's mocks say the engine does not support `transforms` (the Node SDK then fails, inside a promise, every
 * resource that has one), though every Pulumi CLI this project accepts (>= 3.187) does. The program gives one to a
 * remote component (the cert-manager component, to alias the release its provider makes); under mocks a remote
 * component has no children, so the transform is never called, but the component must register as on the real
 * engine. The SDK keeps that flag in its runtime store, which it does not export.
 */
function allowTransforms(): void {
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { supportsTransforms: boolean } };
    state.getStore().supportsTransforms = true;
}

/**
 * Runs `build` (which constructs resources) under fresh mocks for the stack `stack` with config `config`, and
 * records what it registers. Resolves once every registration has completed, with the error `build` threw, if any.
 */
export async function underMocks<T>(
    build: () => T | Promise<T>,
    options: { stack?: string; config?: Record<string, string> } = {},
): Promise<{ resources: RecordedResource[]; result?: T; error?: Error }> {
    const recorded: RecordedResource[] = [];
    pulumi.runtime.setMocks(recordingMocks(recorded), PROJECT, options.stack ?? "test", false);
    allowTransforms();
    pulumi.runtime.setAllConfig(options.config ?? {});
    let result: T | undefined;
    let error: Error | undefined;
    try {
        result = await build();
    } catch (e) {
        error = e as Error;
    }
    await settle();
    return { resources: recorded.filter((r) => r.type !== "pulumi:pulumi:Stack"), result, error };
}

/** The mocks installed by {@link installMocks}: what was registered, and canned state for reads. */
export interface MockEngine {
    /** Every resource registered or read since the last `reset()`, in order. */
    readonly resources: RecordedResource[];
    /** State returned for a read of `type` with `id` (e.g. a Secret's `data`), keyed `<type> <id>`. */
    readonly reads: Map<string, Record<string, any>>;
    /** Forget everything recorded so far. */
    reset(): void;
    /** The one resource of `type` named `name`; fails listing what was registered when it is missing. */
    named(type: string, name: string): RecordedResource;
    /** Every resource of `type`. */
    ofType(type: string): RecordedResource[];
}

/**
 * Installs the recording mocks once, for tests that build components one by one (call in a `before`,
 * `reset()` between tests, and {@link settle} before reading what was recorded).
 */
export async function installMocks(): Promise<MockEngine> {
    const resources: RecordedResource[] = [];
    const reads = new Map<string, Record<string, any>>();
    await pulumi.runtime.setMocks(recordingMocks(resources, reads), PROJECT, "test", false);
    allowTransforms();
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    return {
        resources,
        reads,
        reset() {
            resources.length = 0;
            reads.clear();
        },
        named: (type, name) => findResource(resources, type, name),
        ofType,
    };
}

/** The one resource of `type` named `name` in `resources`; throws naming what of that type there is. */
export function findResource(resources: readonly RecordedResource[], type: string, name: string): RecordedResource {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        const names = resources.filter((r) => r.type === type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; registered: ${names.join(", ") || "none"}`);
    }
    return found;
}

/** Waits until every registration started so far has reached the mocks. */
export async function settle(): Promise<void> {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** The URNs the mocks handed out since they were installed (Pulumi's mock monitor keeps them), in order. */
export function registeredUrns(): string[] {
    const monitor = pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> };
    return [...monitor.resources.keys()];
}

/** The value of an output under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((done) => output.apply((v) => done(v)));
}

/** True if the output is secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

/** Resolves a value that may hold Outputs (at any depth) to plain data. */
export async function resolve(value: unknown): Promise<any> {
    if (pulumi.Output.isInstance(value)) return resolve(await valueOf(value as pulumi.Output<unknown>));
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
        if (await isSecret(value as pulumi.Output<unknown>)) return true;
        return containsSecret(await valueOf(value as pulumi.Output<unknown>));
    }
    if (Array.isArray(value)) return (await Promise.all(value.map(containsSecret))).some(Boolean);
    if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        return (await Promise.all(Object.values(value).map(containsSecret))).some(Boolean);
    }
    return false;
}

/** Records each child's options through a `transformations` option on the component under test. */
export function dependencyRecorder(): {
    transformation: pulumi.ResourceTransformation;
    /** Names of the resources the child `name` was told to depend on, sorted. */
    dependsOn(name: string): string[];
    /** The options the child `name` was created with. */
    options(name: string): pulumi.ResourceOptions;
    /**
     * What the child of type `type` named `name` was told to depend on, as `<type> <name>`, sorted: for children
     * of different types that share a name (a Service and the Deployment it selects).
     */
    typedDependsOn(type: string, name: string): string[];
} {
    const names = new Map<pulumi.Resource, string>();
    const typed = new Map<pulumi.Resource, string>();
    const opts = new Map<string, pulumi.ResourceOptions>();
    const transformation: pulumi.ResourceTransformation = (args) => {
        names.set(args.resource, args.name);
        typed.set(args.resource, `${args.type} ${args.name}`);
        opts.set(args.name, args.opts);
        opts.set(`${args.type} ${args.name}`, args.opts);
        return undefined;
    };
    const listOf = (raw: pulumi.ResourceOptions["dependsOn"]): pulumi.Resource[] =>
        (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as pulumi.Resource[];
    const options = (name: string): pulumi.ResourceOptions => {
        const found = opts.get(name);
        if (!found) throw new Error(`no resource named ${name} was created; got: ${[...opts.keys()].join(", ")}`);
        return found;
    };
    return {
        transformation,
        options,
        dependsOn(name) {
            return listOf(options(name).dependsOn)
                .map((r) => names.get(r) ?? "(unknown resource)")
                .sort();
        },
        typedDependsOn(type, name) {
            return listOf(options(`${type} ${name}`).dependsOn)
                .map((r) => typed.get(r) ?? "(unknown resource)")
                .sort();
        },
    };
}

/** The kinds of resources recorded, each once, sorted. */
export function kinds(resources: readonly RecordedResource[]): string[] {
    return [...new Set(resources.map((r) => r.type))].sort();
}

// How the RPC layer marks a secret value: { [SECRET_SIG_KEY]: SECRET_SIG, value }.
const SECRET_SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

/** Removes secret wrappers from mock inputs, noting where they were. */
function unwrapSecrets(value: any, at: string, secretPaths: string[]): any {
    if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${at}[${i}]`, secretPaths));
    if (value === null || typeof value !== "object") return value;
    if (value[SECRET_SIG_KEY] === SECRET_SIG) {
        secretPaths.push(at);
        return unwrapSecrets(value.value, at, []);
    }
    return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, at ? `${at}.${k}` : k, secretPaths)]),
    );
}
