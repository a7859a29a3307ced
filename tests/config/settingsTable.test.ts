import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../config/schema";
import { settingRows, settingsDocument, settingsTable } from "../../config/settingsTable";

const ROOT = path.resolve(__dirname, "../..");

/** Dotted paths of every scalar in `value`, lists of objects as `[]`. */
function leafPaths(value: unknown, prefix: string): string[] {
    if (Array.isArray(value)) {
        return [
            prefix,
            ...value.flatMap((v) =>
                v !== null && typeof v === "object"
                    ? leafPaths(v, `${prefix}[]`).filter((p) => p !== `${prefix}[]`)
                    : [],
            ),
        ];
    }
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
    }
    return [prefix];
}

describe("settings table", () => {
    const rows = settingRows();
    const bySetting = new Map(rows.map((r) => [r.setting, r]));

    it("config/SETTINGS.md is the table generated from the schema (npm run -s settings:write)", () => {
        assert.equal(fs.readFileSync(path.join(ROOT, "config/SETTINGS.md"), "utf8"), settingsDocument());
        assert.ok(settingsDocument().includes(settingsTable()));
    });

    it("has a row for every field a resolved config holds, tenants and partitions included", () => {
        const config = parseStackConfig({
            cluster: { portMappings: [{ containerPort: 1, hostPort: 2 }] },
            vcluster: { tenants: [{ name: "a" }] },
        });
        for (const setting of new Set(leafPaths(config, "")))
            assert.ok(bySetting.has(setting), `no row for ${setting}`);
        const existing = parseStackConfig({
            cluster: { type: "existing", kubeconfigPath: "k", context: "c" },
            slurm: { mode: "none" },
        });
        for (const setting of leafPaths(existing.cluster, "cluster"))
            assert.ok(bySetting.has(setting), `no row for ${setting}`);
    });

    it("states in each description the default, or that the field is required", () => {
        for (const row of rows) assert.match(row.description, /Default|Required/, row.setting);
    });

    it("shows the schema's real defaults, and the description agrees with short ones", () => {
        assert.equal(bySetting.get("cluster.workers")?.default, "2");
        assert.equal(bySetting.get("cluster.portMappings[].listenAddress")?.default, "127.0.0.1");
        assert.equal(bySetting.get("vcluster.firstPort")?.default, "31443");
        assert.equal(bySetting.get("cluster.type")?.allowed, "kind | existing");
        assert.equal(bySetting.get("cluster.kubeconfigPath")?.default, "(none)");
        for (const row of rows) {
            if (row.default.length <= 20 && !/^[[{(]/.test(row.default)) {
                assert.ok(
                    row.description.includes(row.default),
                    `${row.setting}: description does not say ${row.default}`,
                );
            }
        }
    });

    it("marks the fields of one cluster type, and escapes Markdown", () => {
        assert.match(bySetting.get("cluster.workers")!.description, /^\(type kind only\)/);
        assert.match(bySetting.get("cluster.context")!.description, /^\(type existing only\)/);
        assert.ok(!bySetting.get("slurm.mode")!.description.startsWith("("));
        assert.match(settingsTable(), /\| kind \\\| existing \|/);
        assert.match(settingsTable(), /sha256:\\<64 hex digits\\>/);
        assert.match(settingsTable(), /`kind-<name>`/, "code spans are left alone");
    });
});
