/**
 * The one module that reads `pulumi.Config`. It hands the four structured settings (`cluster`, `slurm`,
 * `gpuOperator`, `vcluster`) to the pure validator and returns the typed result, so that a bad setting stops the
 * program before any resource is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, PROJECT, StackConfig } from "./schema";

export * from "./schema";

const TOP_LEVEL = ["cluster", "slurm", "gpuOperator", "vcluster"] as const;

/** Reads and validates this stack's configuration. Throws {@link ConfigError} on any bad setting. */
export function loadStackConfig(): StackConfig {
    const config = new pulumi.Config(PROJECT);
    const raw: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const key of TOP_LEVEL) {
        const text = config.get(key);
        if (text === undefined) continue;
        try {
            raw[key] = JSON.parse(text);
        } catch {
            // `pulumi config set slurm foo` stores a bare string; say how to set structured values instead.
            problems.push(`${key} = ${JSON.stringify(text)}: must be an object; set its fields with \`pulumi config set --path ${key}.<field> <value>\``);
        }
    }
    // Keys this program does not know are typos more often than not: refuse them rather than ignore them.
    for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
        const [namespace, key] = fullKey.split(":", 2);
        if (namespace === PROJECT && !(TOP_LEVEL as readonly string[]).includes(key)) {
            raw[key] = true;
        }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return parseStackConfig(raw);
}
