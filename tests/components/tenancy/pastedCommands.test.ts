/**
 * The tenants' ready-to-paste commands, pasted: the program runs as `npm run up` runs it (under the Pulumi CLI,
 * whose environment carries the project-local backend that scripts/lib/backend.ts chose), and each command then
 * runs in a new bash with none of those variables, against the fake pulumi (tests/fakes/pulumi: a file backend
 * needs PULUMI_BACKEND_URL and a passphrase, as the CLI does) and the real jq.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readStackSettings } from "../../../config/stackFile";
import { runProgram } from "../../../evaluation/program";
import { backendFor } from "../../../scripts/lib/backend";

const FAKES = path.resolve(__dirname, "..", "..", "fakes");

describe("tenant commands, pasted into a new shell (default project-local state)", () => {
    let dir: string;
    let commands: Record<string, string>;
    let envVars: Record<string, string>;
    const tenantInfo = {
        "team-a": {
            namespace: "vcluster-team-a",
            kubeconfig: "apiVersion: v1\nkind: Config\n# the team-a kubeconfig\n",
            argocd: { adminPassword: "pw-123" },
        },
    };

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pasted-commands-"));
        const repo = path.join(dir, "my lab");
        fs.mkdirSync(repo);
        // No login, no variables: the project-local state and a generated passphrase, as npm run up chooses them.
        envVars = backendFor(repo, {}, path.join(dir, "home")).envVars;
        const stacks = path.join(repo, ".pulumi-state", ".pulumi", "stacks", "ai-hyperscaler");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(stacks, "dev.json"), '{"version": 3}');
        const saved = { ...process.env };
        // The Automation API hands these to the Pulumi CLI, which hands its environment to the program.
        Object.assign(process.env, envVars);
        try {
            const run = await runProgram(readStackSettings("dev"), "dev");
            commands = (run.outputs.tenantAccess as Record<string, { commands: Record<string, string> }>)["team-a"]
                .commands;
        } finally {
            process.env = saved;
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs `command` in bash in a fresh folder, with only PATH (the fakes first), HOME and the fakes' settings. */
    function paste(command: string): { status: number | null; stdout: string; stderr: string; cwd: string } {
        const cwd = fs.mkdtempSync(path.join(dir, "shell-"));
        const state = path.join(cwd, ".fake-state");
        fs.mkdirSync(state);
        const outputs = path.join(state, "tenantInfo.json");
        fs.writeFileSync(outputs, JSON.stringify(tenantInfo));
        const env = {
            PATH: `${FAKES}${path.delimiter}/usr/local/bin:/usr/bin:/bin`,
            HOME: path.join(dir, "home"),
            FAKE_CLI_STATE: state,
            // The fake prints this file for `stack output`: what the CLI prints for `stack output tenantInfo --json`.
            FAKE_PULUMI_OUTPUTS: outputs,
        };
        const result = spawnSync("bash", ["-c", command], { cwd, env, encoding: "utf8" });
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, cwd };
    }

    it("saves the tenant's kubeconfig, readable only by its owner", () => {
        const { status, stderr, cwd } = paste(commands.kubeconfig);
        assert.equal(status, 0, stderr);
        const file = path.join(cwd, "team-a.kubeconfig");
        assert.equal(fs.readFileSync(file, "utf8"), `${tenantInfo["team-a"].kubeconfig}\n`);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(stderr, "", "pulumi found the stack: it said nothing on stderr");
    });

    it("prints the Argo CD admin password", () => {
        const { status, stdout, stderr } = paste(commands.argocdPassword);
        assert.equal(status, 0, stderr);
        assert.equal(stdout, "pw-123\n");
        assert.equal(stderr, "");
    });

    it("names the stack and the backend npm run up chose, quoted for the shell (this repository's path has a space)", () => {
        const state = path.join(dir, "my lab", ".pulumi-state");
        assert.deepEqual(envVars, {
            PULUMI_BACKEND_URL: `file://${state}`,
            PULUMI_CONFIG_PASSPHRASE_FILE: path.join(state, "passphrase"),
        });
        const expected =
            `PULUMI_BACKEND_URL='file://${state}' PULUMI_CONFIG_PASSPHRASE_FILE='${state}/passphrase' ` +
            "pulumi stack output tenantInfo --show-secrets --json --stack dev | ";
        assert.ok(commands.kubeconfig.startsWith(expected), commands.kubeconfig);
        assert.ok(commands.argocdPassword.startsWith(expected), commands.argocdPassword);
    });
});
