/**
 * `parseStackConfig`: raw settings in, a resolved {@link StackConfig} out, or one {@link ConfigError} that lists
 * every problem at once: each setting's own, the cross-setting ones, and (when a check is given) files that
 * cannot be read.
 */
import { crossChecks } from "./crossChecks";
import { ConfigError, describeIssue } from "./errors";
import { resolveStackConfig } from "./resolve";
import { problem } from "./rules";
import { ParsedSettings, SETTING_NAMES, SETTINGS, StackConfig, stackConfigSchema } from "./settings";
import { defaultSlurmImage } from "./slurmImage";

/** What `parseStackConfig` may consult besides the settings; both have defaults. */
export interface ParseOptions {
    /**
     * Checks that `path` is a readable file; returns what is wrong, or undefined when it is fine. Default: no check
     * (the pure parse); `config/index.ts` passes `readableFile` of `config/files.ts`.
     */
    readonly readableFile?: (path: string) => string | undefined;
    /** The static stack's image when `slurm.image` is not set. Default `defaultSlurmImage()`. */
    readonly defaultSlurmImage?: () => string;
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
    problems.push(...crossChecks(settings));
    const cluster = settings.cluster;
    if (cluster?.type === "existing" && cluster.kubeconfigPath !== undefined && options.readableFile) {
        // The schema has refused kubeconfig contents already, so this is a path and may be shown.
        const wrong = options.readableFile(cluster.kubeconfigPath);
        if (wrong) problems.push(problem("cluster.kubeconfigPath", cluster.kubeconfigPath, wrong));
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return resolveStackConfig(settings as ParsedSettings, {
        defaultSlurmImage: options.defaultSlurmImage ?? (() => defaultSlurmImage()),
    });
}
