import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

describe("npm run bench (the script, at small sizes)", () => {
    it("evaluates the program at each size and prints a row per size with the same resource count", () => {
        const result = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "scripts/bench.ts"], {
            cwd: ROOT,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", BENCH_REPLICAS: "3,50", BENCH_RUNS: "1" },
            encoding: "utf8",
        });
        assert.equal(result.status, 0, result.stderr);
        const rows = result.stdout.split("\n").filter((line) => /^\| [\d,]+ \|/.test(line));
        assert.deepEqual(
            rows.map((row) => row.split("|")[1].trim()),
            ["3", "50"],
        );
        const resources = rows.map((row) => Number(row.split("|")[4]));
        assert.ok(
            resources.every((n) => n > 0 && n === resources[0]),
            rows.join("\n"),
        );
        assert.match(result.stdout, /resources registered: the same at every size/);
    });
});
