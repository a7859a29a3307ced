import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig, settingPaths } from "../../config/schema";

const ROOT = path.resolve(__dirname, "../..");

/** Rows of the settings table in Pulumi.yaml: `# path | type | default | description`. */
function documentedSettings(): Map<string, { type: string; default: string; description: string }> {
    const rows = new Map<string, { type: string; default: string; description: string }>();
    for (const line of fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8").split("\n")) {
        const match = /^# ((?:cluster|slurm|gpuOperator|vcluster)\.[\w.]+)\s*\|(.*)$/.exec(line);
        if (!match) continue;
        const cells = match[2].split(" | ").map((c) => c.trim());
        rows.set(match[1], { type: cells[0], default: cells[cells.length - 2], description: cells[cells.length - 1] });
    }
    return rows;
}

describe("Pulumi.yaml", () => {
    it("documents every setting the program accepts, and no other", () => {
        assert.deepEqual([...documentedSettings().keys()].sort(), settingPaths().sort());
    });

    it("documents each setting's real default", () => {
        const defaults = parseStackConfig({}) as unknown as Record<string, any>;
        for (const [setting, row] of documentedSettings()) {
            const value = setting.split(".").reduce((node, key) => node?.[key], defaults);
            if (row.default === "(none)") {
                assert.equal(value, undefined, `${setting} has a default in code but none in Pulumi.yaml`);
            } else if (row.default.endsWith("...")) {
                assert.ok(String(value).startsWith(row.default.slice(0, -3)), `${setting}: ${value} vs ${row.default}`);
            } else if (!row.default.startsWith("[{")) {
                assert.equal(typeof value === "object" ? JSON.stringify(value) : String(value), row.default, setting);
            }
            assert.ok(row.description.length > 10, `${setting} needs a description`);
        }
    });

    it("declares the TypeScript nodejs runtime for project ai-hyperscaler", () => {
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
        assert.match(text, /^name: ai-hyperscaler$/m);
        assert.match(text, /^ {2}name: nodejs$/m);
        assert.match(text, /typescript: true/);
    });
});
