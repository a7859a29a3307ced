import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../config/schema";
import { missingTools, planFor } from "../../scripts/stack";

const ROOT = path.resolve(__dirname, "../..");

/** Runs `ts-node scripts/stack.ts` with a PATH that holds only node (no pulumi, docker or kind). */
function runStackScript(...args: string[]) {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "path-"));
    try {
        fs.symlinkSync(process.execPath, path.join(bin, "node"));
        return spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "scripts/stack.ts", ...args], {
            cwd: ROOT,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", PATH: bin },
            encoding: "utf8",
        });
    } finally {
        fs.rmSync(bin, { recursive: true, force: true });
    }
}

describe("npm run up / preview / destroy (Automation API)", () => {
    it("builds the Slurm image and needs kind and docker for a Kind stack with the static Slurm stack", () => {
        const plan = planFor("up", parseStackConfig({}));
        assert.deepEqual(plan, { tools: ["pulumi", "kind", "docker"], buildImage: "ai-hyperscaler/slurm:24.11" });
    });

    it("builds nothing for Slinky on an existing cluster, and needs only pulumi", () => {
        const plan = planFor("up", parseStackConfig({ cluster: { type: "existing" }, slurm: { mode: "slinky" } }));
        assert.deepEqual(plan, { tools: ["pulumi"], buildImage: undefined });
    });

    it("needs docker but not kind to build the image for an existing cluster", () => {
        assert.deepEqual(planFor("up", parseStackConfig({ cluster: { type: "existing" } })).tools, ["pulumi", "docker"]);
    });

    it("finds the tools on PATH that are executable", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tools-"));
        try {
            fs.writeFileSync(path.join(dir, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "kind"), "not executable", { mode: 0o644 });
            assert.deepEqual(missingTools(["pulumi", "kind", "docker"], dir), ["kind", "docker"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("says which tools are missing, before building or deploying anything", () => {
        const result = runStackScript("up", "dev");
        assert.equal(result.status, 1);
        assert.match(result.stderr, /up: up needs pulumi, kind, docker on PATH/);
    });

    it("stops on a stack that does not exist, and on a bad action, with usage", () => {
        assert.match(runStackScript("up", "nope").stderr, /no stack "nope": there is no Pulumi.nope.yaml; stacks here: dev, gpu/);
        assert.match(runStackScript("deploy", "dev").stderr, /usage: npm run <up\|preview\|destroy> -- <stack>/);
    });
});
