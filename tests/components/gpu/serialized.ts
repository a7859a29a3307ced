/**
 * Serializes a dynamic provider exactly as `pulumi.dynamic.Resource` does and loads it back as the dynamic provider
 * host does, so a test can drive the copy that Pulumi would run.
 */
import Module from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** The serialized text of `provider`, and the provider rebuilt from that text. */
export async function serializedCopy<T>(provider: T, dir: string): Promise<{ text: string; copy: T }> {
    // What serializeProvider in @pulumi/pulumi does.
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    // What the dynamic provider host does with it (require-from-string).
    const file = path.join(dir, "provider.js");
    const loaded = new Module(file, module) as Module & { _compile(code: string, filename: string): void };
    loaded.filename = file;
    loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dir);
    loaded._compile(serialized.text, file);
    return { text: serialized.text, copy: (loaded.exports as { handler(): T }).handler() };
}
