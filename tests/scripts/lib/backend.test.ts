/**
 * Where the stack's state and passphrase go: pure choices on a temporary folder. Opening a stack with them through
 * the Automation API and the real Pulumi CLI runs in backend.real.ts.
 */
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backendFor, chosenBackend, existingBackendFor, REPO_ROOT } from "../../../scripts/lib/backend";
import { ROOT } from "./doubles";

describe("npm run up / preview / destroy: backend", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-lib-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    it("sees a login in credentials.json (in PULUMI_CREDENTIALS_PATH, PULUMI_HOME, ~) or a token", () => {
        const write = (folder: string, current: string) => {
            fs.mkdirSync(folder, { recursive: true });
            fs.writeFileSync(path.join(folder, "credentials.json"), JSON.stringify({ current }));
        };
        assert.equal(chosenBackend({}, dir), undefined);
        write(path.join(dir, ".pulumi"), "");
        assert.equal(chosenBackend({}, dir), undefined, "an empty current is no login (after `pulumi logout`)");
        write(path.join(dir, ".pulumi"), "https://api.pulumi.com");
        assert.equal(chosenBackend({}, dir), "https://api.pulumi.com");
        write(path.join(dir, "home"), "s3://bucket");
        assert.equal(chosenBackend({ PULUMI_HOME: path.join(dir, "home") }, dir), "s3://bucket");
        write(path.join(dir, "creds"), "file:///srv/state");
        assert.equal(
            chosenBackend(
                { PULUMI_HOME: path.join(dir, "home"), PULUMI_CREDENTIALS_PATH: path.join(dir, "creds") },
                dir,
            ),
            "file:///srv/state",
        );
        assert.equal(
            chosenBackend({ PULUMI_BACKEND_URL: "gs://b", PULUMI_HOME: path.join(dir, "home") }, dir),
            "gs://b",
        );
        assert.equal(
            chosenBackend({ PULUMI_ACCESS_TOKEN: "pul-123" }, path.join(dir, "nowhere")),
            "https://api.pulumi.com",
        );
    });

    it("changes nothing for a chosen backend", () => {
        assert.deepEqual(backendFor(dir, { PULUMI_BACKEND_URL: "s3://bucket" }, dir).envVars, {});
        assert.ok(!fs.existsSync(path.join(dir, ".pulumi-state")));
    });

    it("otherwise uses the project-local backend with one generated passphrase, kept across runs", () => {
        const first = backendFor(dir, {}, dir);
        const file = path.join(dir, ".pulumi-state", "passphrase");
        assert.deepEqual(first.envVars, {
            PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}`,
            PULUMI_CONFIG_PASSPHRASE_FILE: file,
        });
        const passphrase = fs.readFileSync(file, "utf8");
        assert.match(passphrase, /^[0-9a-f]{64}$/);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        // The state holds encrypted secrets and the passphrase beside them: only the user may list or enter it.
        assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
        assert.deepEqual(backendFor(dir, {}, dir).envVars, first.envVars);
        assert.equal(fs.readFileSync(file, "utf8"), passphrase);
        assert.ok(!first.description.includes(passphrase));
    });

    it("takes the user's passphrase, even an empty one, or their passphrase file, and generates none", () => {
        for (const env of [
            { PULUMI_CONFIG_PASSPHRASE: "" },
            { PULUMI_CONFIG_PASSPHRASE: "x" },
            { PULUMI_CONFIG_PASSPHRASE_FILE: "/p" },
        ]) {
            const choice = backendFor(dir, env, dir);
            assert.deepEqual(choice.envVars, { PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}` });
            assert.match(choice.description, /your passphrase/);
        }
        assert.ok(!fs.existsSync(path.join(dir, ".pulumi-state", "passphrase")));
    });
    it("for reading a stack (verify), never writes state or a passphrase, and says which is missing", () => {
        const state = path.join(dir, ".pulumi-state");
        assert.throws(
            () => existingBackendFor(dir, {}, dir),
            /^Error: no stack has been brought up here: \.pulumi-state\/ does not exist, and neither PULUMI_BACKEND_URL nor a `pulumi login` names another backend; run `npm run up -- <stack>` first/,
        );
        assert.ok(!fs.existsSync(state), "no state folder made");
        // State made by `up` with the user's own passphrase, which is not set now.
        fs.mkdirSync(path.join(state, ".pulumi"), { recursive: true });
        assert.throws(
            () => existingBackendFor(dir, {}, dir),
            /^Error: no passphrase for the state in \.pulumi-state\/: PULUMI_CONFIG_PASSPHRASE and PULUMI_CONFIG_PASSPHRASE_FILE are not set and \.pulumi-state\/passphrase does not exist; set one of them to the passphrase the stack was brought up with/,
        );
        assert.deepEqual(fs.readdirSync(state), [".pulumi"], "no passphrase made");
        // With the passphrase given, or the generated one there, the same choice as for `up`.
        assert.deepEqual(existingBackendFor(dir, { PULUMI_CONFIG_PASSPHRASE: "" }, dir).envVars, {
            PULUMI_BACKEND_URL: `file://${state}`,
        });
        assert.deepEqual(existingBackendFor(dir, { PULUMI_BACKEND_URL: "s3://b" }, dir).envVars, {});
        const generated = backendFor(dir, {}, dir);
        assert.deepEqual(existingBackendFor(dir, {}, dir), generated);
    });

    it("finds the project at the repository root, and ignores a credentials file whose current is no URL", () => {
        assert.equal(REPO_ROOT, ROOT);
        assert.ok(fs.existsSync(path.join(REPO_ROOT, "Pulumi.yaml")));
        fs.mkdirSync(path.join(dir, ".pulumi"));
        for (const credentials of ['{"current": 42}', "null", "not json"]) {
            fs.writeFileSync(path.join(dir, ".pulumi", "credentials.json"), credentials);
            assert.equal(chosenBackend({}, dir), undefined, credentials);
        }
    });

    it("names the chosen backend in its one line", () => {
        assert.equal(
            backendFor(dir, { PULUMI_BACKEND_URL: "s3://bucket" }, dir).description,
            "state in your Pulumi backend s3://bucket",
        );
    });
});
