/**
 * The one module that reads `pulumi.Config` (and the program's environment). It hands the four structured settings
 * (`cluster`, `slurm`, `gpuOperator`, `vcluster`) to the validator, with the file check, and returns the typed
 * result, so that a bad setting stops the program before any resource is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { redact } from "./errors";
import { readableFile } from "./files";
import { ConfigError, parseStackConfig, PROJECT, SETTING_NAMES, StackConfig } from "./schema";

import { StackCli, stackCli } from "./stackCli";

export * from "./schema";
export type { StackCli } from "./stackCli";

/**
 * How a pasted `pulumi` command reaches this stack: its name, and the backend variables this program's Pulumi CLI
 * runs with (the Automation API of `npm run up` sets them, and the CLI passes its environment to the program).
 */
export function loadStackCli(): StackCli {
    return stackCli(pulumi.getStack(), process.env);
}

/** Reads and validates this stack's configuration. Throws {@link ConfigError} listing every bad setting. */
export function loadStackConfig(): StackConfig {
    const config = new pulumi.Config(PROJECT);
    const raw: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const key of SETTING_NAMES) {
        const text = config.get(key);
        if (text === undefined) continue;
        try {
            raw[key] = JSON.parse(text);
        } catch {
            // `pulumi config set slurm foo` stores a bare string; say how to set structured values instead.
            problems.push(
                `${key} = ${JSON.stringify(redact(text))}: must be an object; set its fields with ` +
                    `\`pulumi config set --path ${key}.<field> <value>\``,
            );
        }
    }
    // Keys this program does not know are typos more often than not: refuse them rather than ignore them.
    for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
        const [namespace, key] = fullKey.split(":", 2);
        if (namespace === PROJECT && !(SETTING_NAMES as string[]).includes(key)) raw[key] = true;
    }
    let parsed: StackConfig | undefined;
    try {
        // The environment the Pulumi CLI passed on (npm run up's): KIND_EXPERIMENTAL_PROVIDER is the engine's default.
        parsed = parseStackConfig(raw, { readableFile, env: process.env });
    } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems);
    }
    if (problems.length > 0 || !parsed) throw new ConfigError(problems);
    return parsed;
}
