/**
 * `npm run verify` where it cannot start, as a user runs it: in a temporary checkout of this project
 * (testbed/project.ts), with the real Pulumi CLI of the toolchain and the project-local file backend (no login,
 * no PULUMI_BACKEND_URL). Only the CLI and the file backend are needed: no cluster. What verify checks on a cluster
 * runs against a real API server in tests/real/stack.real.ts, and the Slurm and tenant checks against the fakes in
 * script.test.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Project, Ran, copyProject, run, userEnv } from "../../testbed/project";

function said(ran: Ran): string {
    return `exit ${ran.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`;
}

describe("npm run verify that cannot start (real Pulumi CLI, project-local file backend)", function () {
    this.timeout(300_000);
    let project: Project;
    const state = () => path.join(project.dir, ".pulumi-state");
    /** Runs the real pulumi CLI in the checkout against its project-local backend, with this passphrase. */
    const pulumi = (args: string[], passphrase: string): Promise<Ran> =>
        run("pulumi", [...args, "--non-interactive"], {
            cwd: project.dir,
            env: userEnv(
                { PULUMI_BACKEND_URL: `file://${state()}`, PULUMI_CONFIG_PASSPHRASE: passphrase },
                path.join(project.dir, ".pulumi-credentials"),
            ),
            timeoutMs: 120_000,
        });

    beforeEach(() => {
        project = copyProject();
    });
    afterEach(() => project?.remove());

    it("with no state and no passphrase, exits 2 saying so, and makes neither", async () => {
        const ran = await project.npm("verify", ["dev"], { timeoutMs: 120_000 });
        assert.equal(ran.code, 2, said(ran));
        assert.match(
            ran.stderr.trim(),
            /^verify dev: could not read the outputs of the stack "dev": no stack has been brought up here: \.pulumi-state\/ does not exist/,
        );
        assert.equal(ran.stdout, "");
        assert.ok(!fs.existsSync(state()), "verify made state");
    });

    it("exits 2 with the CLI's own words when the backend holds no such stack", async () => {
        // The state `npm run up -- lab` leaves: its generated passphrase, a stack lab, and no stack dev.
        fs.mkdirSync(state(), { mode: 0o700 });
        fs.writeFileSync(path.join(state(), "passphrase"), "f".repeat(64), { mode: 0o600 });
        const init = await pulumi(["stack", "init", "lab"], "f".repeat(64));
        assert.equal(init.code, 0, said(init));
        const ran = await project.npm("verify", ["dev", "--json"], { timeoutMs: 120_000 });
        assert.equal(ran.code, 2, said(ran));
        assert.equal(
            ran.stderr.trim(),
            `verify dev: could not read the outputs of the stack "dev": error: no stack named 'dev' found`,
        );
        assert.deepEqual(JSON.parse(ran.stdout), {
            stack: "dev",
            ok: false,
            error: `could not read the outputs of the stack "dev": error: no stack named 'dev' found`,
            checks: [],
        });
    });

    it("state brought up with the user's own passphrase, verify without it: exits 2 saying so, and makes none", async () => {
        // As `npm run up -- dev` leaves it with PULUMI_CONFIG_PASSPHRASE set: the folder and the stack, no passphrase.
        fs.mkdirSync(state(), { mode: 0o700 });
        const init = await pulumi(["stack", "init", "dev"], "the user's own passphrase");
        assert.equal(init.code, 0, said(init));
        assert.ok(fs.existsSync(path.join(state(), ".pulumi", "stacks", "ai-hyperscaler", "dev.json")));
        const ran = await project.npm("verify", ["dev"], { timeoutMs: 120_000 });
        assert.equal(ran.code, 2, said(ran));
        assert.match(
            ran.stderr.trim(),
            /^verify dev: could not read the outputs of the stack "dev": no passphrase for the state in \.pulumi-state\/: PULUMI_CONFIG_PASSPHRASE and PULUMI_CONFIG_PASSPHRASE_FILE are not set/,
        );
        assert.ok(
            !fs.existsSync(path.join(state(), "passphrase")),
            "verify made a passphrase for state it did not make",
        );
        // The user's passphrase set, verify reads the stack's outputs, and finds none of up's (it was only made).
        const given = await project.npm("verify", ["dev"], {
            env: { PULUMI_CONFIG_PASSPHRASE: "the user's own passphrase" },
            timeoutMs: 120_000,
        });
        assert.equal(given.code, 2, said(given));
        assert.equal(
            given.stderr.trim(),
            "verify dev: the stack has no output `kubeconfig`: bring it up first (npm run up -- <stack>)",
        );
    });
});
