/**
 * `parseStackConfig`: raw settings in, a resolved {@link StackConfig} out, or one {@link ConfigError} that lists
 * every problem at once: each setting's own, the cross-setting ones, and (when a check is given) files that
 * cannot be read.
 */
import { crossChecks } from "./crossChecks";
import { ConfigError, describeIssue } from "./errors";
import { defaultEngine, resolveStackConfig } from "./resolve";
import { ContainerEngine, problem } from "./rules";
import { ParsedSettings, SETTING_NAMES, SETTINGS, StackConfig, stackConfigSchema } from "./settings";
import { defaultSlurmImage } from "./slurmImage";

/** What `parseStackConfig` may consult besides the settings; both have defaults. */
export interface ParseOptions {
    /**
     * Checks that `path` is a readable file; returns what is wrong, or undefined when it is fine. Default: no check
     * (the pure parse); `config/index.ts` passes `readableFile` of `config/files.ts`.
     */
    readonly readableFile?: (path: string) => string | undefined;
    /** The static stack's image when `slurm.image` is not set, for an engine. Default `defaultSlurmImage`. */
    readonly defaultSlurmImage?: (engine: ContainerEngine) => string;
    /**
     * The environment `npm run up` (or the program) runs in: its `KIND_EXPERIMENTAL_PROVIDER` is the default of
     * `cluster.engine`, as for kind. Default none (so docker): `config/index.ts` and the scripts pass theirs.
     */
    readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Validates the raw settings (top-level keys without the project prefix: `cluster`, `slurm`, ...), resolves
 * defaults and checks the rules that span settings. Throws {@link ConfigError} naming every bad setting.
 */
export function parseStackConfig(raw: Record<string, unknown>, options: ParseOptions = {}): StackConfig {
    const problems: string[] = [];
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw new ConfigError([
            problem("(stack config)", raw, `must be an object with the settings ${SETTING_NAMES.join(", ")}`),
        ]);
    }
    for (const key of Object.keys(raw)) {
        if (!(SETTING_NAMES as string[]).includes(key)) {
            problems.push(`${key}: unknown setting; allowed here: ${SETTING_NAMES.join(", ")}`);
        }
    }
    // Each setting on its own, so that the cross-checks can still judge the settings that passed.
    const parsed: Partial<Record<string, unknown>> = {};
    for (const key of SETTING_NAMES) {
        const result = SETTINGS[key].safeParse(raw[key]);
        if (result.success) {
            parsed[key] = result.data;
        } else {
            for (const issue of result.error.issues) {
                problems.push(...describeIssue({ ...issue, path: [key, ...issue.path] }, raw, stackConfigSchema));
            }
        }
    }
    const settings = parsed as Partial<ParsedSettings>;
    const engine = defaultEngine(options.env ?? {});
    // The environment's engine matters only to a Kind stack that does not name its own.
    if (settings.cluster?.type === "kind" && settings.cluster.engine === undefined) problems.push(...engine.problems);
    problems.push(...crossChecks(settings, { defaultEngine: engine.engine }));
    const cluster = settings.cluster;
    if (cluster?.type === "existing" && cluster.kubeconfigPath !== undefined && options.readableFile) {
        // The schema has refused kubeconfig contents already, so this is a path and may be shown.
        const wrong = options.readableFile(cluster.kubeconfigPath);
        if (wrong) problems.push(problem("cluster.kubeconfigPath", cluster.kubeconfigPath, wrong));
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return resolveStackConfig(settings as ParsedSettings, {
        defaultSlurmImage: options.defaultSlurmImage ?? ((e) => defaultSlurmImage(undefined, e)),
        defaultEngine: engine.engine,
    });
}
