/**
 * The real-run workflow cannot run here (no Docker engine, no GitHub runner): it is held to GitHub's workflow
 * schema by action-validator, parsed strictly as YAML, and its steps are checked for what the lab needs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const WORKFLOW = path.join(ROOT, ".github", "workflows", "real-run.yml");
const VALIDATOR = path.join(ROOT, "node_modules", ".bin", "action-validator");

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };

function validate(file: string) {
    return spawnSync(VALIDATOR, [file], { encoding: "utf8" });
}

function load(): {
    on: Record<string, unknown>;
    jobs: Record<string, { "runs-on": string; env: Record<string, string>; steps: Step[] }>;
} {
    const doc = parseDocument(fs.readFileSync(WORKFLOW, "utf8"), {
        strict: true,
        uniqueKeys: true,
        prettyErrors: true,
    });
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(doc.warnings, []);
    return doc.toJS();
}

describe("the real-run workflow", () => {
    it("is accepted by action-validator (GitHub's workflow schema)", () => {
        const result = validate(WORKFLOW);
        assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    });

    it("would be refused by action-validator if it were malformed (the check can fail)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-"));
        try {
            const broken = path.join(dir, "broken.yml");
            fs.writeFileSync(broken, fs.readFileSync(WORKFLOW, "utf8").replace("runs-on:", "runs_on:"));
            const result = validate(broken);
            assert.equal(result.status, 1);
            assert.match(`${result.stdout}${result.stderr}`, /Additional property 'runs_on' is not allowed/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("runs on a GitHub-hosted Linux runner, started by hand", () => {
        const workflow = load();
        assert.deepEqual(Object.keys(workflow.on), ["workflow_dispatch"]);
        assert.match(workflow.jobs.dev["runs-on"], /^ubuntu-/);
    });

    it("installs Node 20, the Pulumi CLI only and kind only with their official actions, then npm ci", () => {
        const steps = load().jobs.dev.steps;
        const uses = (prefix: string) => steps.find((s) => s.uses?.startsWith(prefix));
        assert.equal(uses("actions/setup-node@")?.with?.["node-version"], 20);
        const pulumiStep = uses("pulumi/actions@");
        assert.ok(pulumiStep, "pulumi/actions installs the CLI");
        assert.equal(pulumiStep.with?.command, undefined, "without a command it only installs the CLI");
        const kind = uses("helm/kind-action@");
        assert.deepEqual(kind?.with, { version: "v0.29.0", install_only: true });
        const index = (s: Step | undefined) => steps.indexOf(s as Step);
        assert.ok(index(uses("actions/checkout@")) === 0);
        assert.ok(index(steps.find((s) => s.run === "npm ci")) > index(kind));
    });

    it("brings up dev, writes the verify report as JSON, keeps it, and always destroys dev last", () => {
        const { steps, env } = load().jobs.dev;
        const runs = steps.map((s) => s.run);
        const up = runs.indexOf("npm run up -- dev");
        const verify = runs.indexOf("npm run --silent verify -- dev --json > verify-report.json");
        assert.ok(up > 0 && verify > up, "up, then verify (npm's banner kept out of the JSON)");
        const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
        assert.equal(upload?.if, "always()");
        assert.equal(upload?.with?.path, "verify-report.json");
        const last = steps[steps.length - 1];
        assert.deepEqual([last.run, last.if], ["npm run destroy -- dev", "always()"]);
        // A throwaway local backend: no Pulumi Cloud token is needed, and nothing outlives the job.
        assert.equal(env.PULUMI_BACKEND_URL, "file://~");
        assert.equal(env.PULUMI_CONFIG_PASSPHRASE, "");
    });

    it("only runs npm scripts that package.json has", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<
            string,
            string
        >;
        const used = load().jobs.dev.steps.flatMap((s) =>
            [...(s.run ?? "").matchAll(/npm run (?:--silent )?(\S+)/g)].map((m) => m[1]),
        );
        assert.deepEqual(used, ["up", "verify", "destroy"]);
        for (const name of used) assert.ok(scripts[name], `npm script ${name} is missing`);
    });
});
