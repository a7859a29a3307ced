/**
 * Stack files (`Pulumi.<stack>.yaml`) as the program and `npm run up` read them: the settings of this project,
 * keyed without the project prefix. Other namespaces' settings (a provider's) are not this program's.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "./settings";

const ROOT = path.resolve(__dirname, "..");

/** Keys a stack file may hold: Pulumi's `ProjectStack` (sdk/go/common/workspace/project.go). */
export const STACK_FILE_KEYS: readonly string[] = [
    "secretsprovider",
    "encryptedkey",
    "encryptionsalt",
    "config",
    "environment",
];

/** The stacks that have a `Pulumi.<stack>.yaml` in `root`, sorted. */
export function stackNames(root = ROOT): string[] {
    return fs
        .readdirSync(root)
        .filter((f) => /^Pulumi\.[\w.-]+\.yaml$/.test(f))
        .map((f) => f.slice("Pulumi.".length, -".yaml".length))
        .sort();
}

/** The settings of `Pulumi.<stack>.yaml`, keyed without the project prefix, as the program would read them. */
export function readStackSettings(stack: string, root = ROOT): Record<string, unknown> {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!/^[\w.-]+$/.test(stack) || !fs.existsSync(file)) {
        throw new Error(
            `no stack "${stack}": there is no Pulumi.${stack}.yaml; stacks here: ${stackNames(root).join(", ")}`,
        );
    }
    const config = (parse(fs.readFileSync(file, "utf8")) ?? {}).config ?? {};
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        const [namespace, name] = key.split(":", 2);
        if (namespace === PROJECT) settings[name] = value;
    }
    return settings;
}
