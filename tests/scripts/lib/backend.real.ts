/**
 * Opening a stack through the Automation API with the real Pulumi CLI of the toolchain and a file backend: the
 * project-local one (`.pulumi-state/` and its generated passphrase) in a temporary project folder holding this
 * project's Pulumi.yaml, or one the environment names. No cluster: stack init, select and config only. Nothing
 * lands in this repository: `realTools`, whose root is the repository it is loaded from, runs in a temporary
 * checkout (testbed/project.ts).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openStack, selectStack } from "../../../scripts/lib/backend";
import { REPO, Ran, copyProject, run, userEnv } from "../../../testbed/project";

function said(ran: Ran): string {
    return `exit ${ran.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`;
}

/** What a user's shell may hold that would choose a backend or passphrase for the CLI the Automation API runs. */
const USER_SETTINGS = [
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_CREDENTIALS_PATH",
];

describe("opening a stack (Automation API, real Pulumi CLI, file backend)", function () {
    this.timeout(300_000);
    let dir: string;
    let project: string;
    const saved: Record<string, string | undefined> = {};
    const state = () => path.join(project, ".pulumi-state");
    const stackFile = (stack: string) => path.join(state(), ".pulumi", "stacks", "ai-hyperscaler", `${stack}.json`);
    /** No login anywhere: a credentials folder that holds none. */
    const noLogin = () => ({ PULUMI_CREDENTIALS_PATH: path.join(dir, "credentials") });
    /** The real CLI in the project folder, against its project-local backend, with this passphrase. */
    const pulumi = (args: string[], passphrase: string): Promise<Ran> =>
        run("pulumi", [...args, "--non-interactive"], {
            cwd: project,
            env: userEnv(
                { PULUMI_BACKEND_URL: `file://${state()}`, PULUMI_CONFIG_PASSPHRASE: passphrase },
                path.join(dir, "credentials"),
            ),
            timeoutMs: 120_000,
        });

    before(() => {
        // The CLI inherits this process's environment; the backend and passphrase must come from the code under test.
        for (const key of USER_SETTINGS) {
            saved[key] = process.env[key];
            delete process.env[key];
        }
    });
    after(() => {
        for (const [key, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
    });
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "backend-real-"));
        project = path.join(dir, "project");
        fs.mkdirSync(project);
        fs.mkdirSync(path.join(dir, "credentials"));
        fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("openStack creates a missing stack in the project-local backend, encrypted with the generated passphrase", async () => {
        const opened = await openStack("lab", project, noLogin());
        assert.equal(opened.stack.name, "lab");
        assert.equal(opened.backend.envVars.PULUMI_BACKEND_URL, `file://${state()}`);
        assert.ok(fs.existsSync(stackFile("lab")), "the CLI made the stack in .pulumi-state/");
        const passphrase = fs.readFileSync(path.join(state(), "passphrase"), "utf8");
        assert.match(passphrase, /^[0-9a-f]{64}$/);
        assert.match(fs.readFileSync(path.join(project, "Pulumi.lab.yaml"), "utf8"), /^encryptionsalt: v1:/m);
        // The stack's secrets open with the generated passphrase, and with no other.
        const right = await pulumi(["config", "set", "--secret", "probe", "x", "--stack", "lab"], passphrase);
        assert.equal(right.code, 0, said(right));
        const wrong = await pulumi(["config", "set", "--secret", "probe", "x", "--stack", "lab"], "another");
        assert.notEqual(wrong.code, 0);
        assert.match(wrong.stderr, /incorrect passphrase/);

        // Again: the same stack is selected, the passphrase kept, the stack's setting still there.
        const again = await openStack("lab", project, noLogin());
        assert.equal(again.stack.name, "lab");
        assert.equal(fs.readFileSync(path.join(state(), "passphrase"), "utf8"), passphrase);
        assert.equal((await again.stack.getConfig("ai-hyperscaler:probe")).value, "x");
    });

    it("selectStack without a passphrase for state made with the user's own: says so, and makes none", async () => {
        fs.mkdirSync(state(), { mode: 0o700 });
        const init = await pulumi(["stack", "init", "lab"], "the user's own");
        assert.equal(init.code, 0, said(init));
        await assert.rejects(selectStack("lab", project, noLogin()), /no passphrase for the state in \.pulumi-state\//);
        assert.ok(!fs.existsSync(path.join(state(), "passphrase")), "a passphrase beside state it does not encrypt");
        // With the user's passphrase given, the same state opens.
        const given = await selectStack("lab", project, { ...noLogin(), PULUMI_CONFIG_PASSPHRASE: "the user's own" });
        assert.equal(given.stack.name, "lab");
        assert.match(given.backend.description, /secrets encrypted with your passphrase/);
    });

    it("selectStack never creates a stack, nor state: a missing one is an error", async () => {
        await assert.rejects(selectStack("lab", project, noLogin()), /no stack has been brought up here/);
        assert.ok(!fs.existsSync(state()), "no state made");
        await openStack("lab", project, noLogin());
        const selected = await selectStack("lab", project, noLogin());
        assert.equal(selected.stack.name, "lab");
        assert.match(selected.backend.description, /state in \.pulumi-state\//);
        // Another stack in the same state: the CLI's own answer, and nothing made.
        await assert.rejects(selectStack("nosuch", project, noLogin()), /no stack named 'nosuch' found/);
        assert.ok(!fs.existsSync(stackFile("nosuch")));
    });

    it("realTools opens the stack of its checkout's project in the backend the environment names", async () => {
        const checkout = copyProject();
        try {
            const chosen = path.join(dir, "chosen");
            fs.mkdirSync(chosen);
            // As `npm run up` opens it: realTools() reads this process's environment, the user's choice in it.
            const script =
                'require("./scripts/lib/action").realTools().openStack("lab")' +
                ".then(({ stack, backend }) => console.log(JSON.stringify({ name: stack.name, backend })))";
            const ran = await run(process.execPath, ["-r", "ts-node/register", "-e", script], {
                cwd: checkout.dir,
                env: userEnv(
                    {
                        PULUMI_BACKEND_URL: `file://${chosen}`,
                        PULUMI_CONFIG_PASSPHRASE: "",
                        TS_NODE_TRANSPILE_ONLY: "1",
                    },
                    path.join(dir, "credentials"),
                ),
                timeoutMs: 120_000,
            });
            assert.equal(ran.code, 0, said(ran));
            assert.deepEqual(JSON.parse(ran.stdout), {
                name: "lab",
                backend: { envVars: {}, description: `state in your Pulumi backend file://${chosen}` },
            });
            assert.ok(fs.existsSync(path.join(chosen, ".pulumi", "stacks", "ai-hyperscaler", "lab.json")));
            assert.ok(!fs.existsSync(path.join(checkout.dir, ".pulumi-state")), "no project-local state");
            assert.ok(fs.existsSync(path.join(checkout.dir, "Pulumi.lab.yaml")), "the stack's file is the checkout's");
        } finally {
            checkout.remove();
        }
    });
});
