import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../config/schema";

const ROOT = path.resolve(__dirname, "..");

/** The settings of `Pulumi.<stack>.yaml`, keyed without the project prefix, as the program would read them. */
export function readStackSettings(stack: string): Record<string, unknown> {
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    if (!/^[\w.-]+$/.test(stack) || !fs.existsSync(file)) {
        const stacks = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[\w.-]+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
        throw new Error(`no stack "${stack}": there is no Pulumi.${stack}.yaml; stacks here: ${stacks.join(", ")}`);
    }
    const config = (parse(fs.readFileSync(file, "utf8")) ?? {}).config ?? {};
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        const [namespace, name] = key.split(":", 2);
        // Settings of other namespaces (a provider's, for instance) are not this program's.
        if (namespace === PROJECT) settings[name] = value;
    }
    return settings;
}
