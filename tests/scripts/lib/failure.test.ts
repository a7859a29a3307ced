import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../../config/schema";
import { failureLines, failureReport, Stop } from "../../../scripts/lib/failure";

describe("npm run up / preview / destroy: failure lines", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-lib-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    /** The shape the Automation API throws for a failed CLI run (an execa error wrapped in a CommandError). */
    const commandError = (stdout: string, stderr: string) => ({
        name: "CommandError",
        message: `code: -2\n stdout: \n stderr: Command failed with exit code 255: pulumi up\n${stderr}\n${stdout}`,
        commandResult: {
            stdout: "",
            stderr: `Command failed with exit code 255: pulumi up\n${stderr}\n${stdout}`,
            code: -2,
            err: { stderr, stdout, exitCode: 255, message: "..." },
        },
    });

    it("keeps the CLI's error lines from a CommandError, not its stdout", () => {
        const error = commandError(
            "Updating (dev)\n  error: a resource failed\n",
            "error: update failed\nerror: update failed\n",
        );
        assert.deepEqual(failureLines(error), ["error: update failed"]);
    });

    it("falls back to the last line of stderr, then to the exit code", () => {
        assert.deepEqual(failureLines(commandError("", "warning: one\nsomething broke\n")), ["something broke"]);
        assert.deepEqual(failureLines(commandError("lots of output", "")), [
            "the Pulumi CLI exited with code 255; its output is above",
        ]);
    });

    it("masks secrets in every line", () => {
        const error = commandError("", "error: decrypting with passphrase hunter22 failed\n");
        assert.deepEqual(failureLines(error, ["hunter22"]), ["error: decrypting with passphrase [secret] failed"]);
        assert.deepEqual(failureLines(new Stop(["token pul-abcdef leaked"]), ["pul-abcdef"]), [
            "token [secret] leaked",
        ]);
    });

    it("reports one problem on one line, several under one heading", () => {
        assert.equal(failureReport("up", "dev", ["a"]), "npm run up -- dev: a");
        assert.equal(failureReport("destroy", "gpu", ["a", "b"]), "npm run destroy -- gpu stopped:\n  - a\n  - b");
    });

    it("lists each problem of the settings' ConfigError on its own line", () => {
        let error: unknown;
        try {
            parseStackConfig({ cluster: { type: "kind", workers: -1 } });
        } catch (e) {
            error = e;
        }
        const lines = failureLines(error);
        assert.ok(lines.length >= 1 && lines.every((line) => !line.includes("\n")));
        assert.match(lines[0], /cluster\.workers/);
    });
});
