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

    it("says in one line that the cluster is unreachable, naming it, from the provider's own warnings", () => {
        // What `pulumi up --refresh` printed with the API server stopped (tests/real/stack.real.ts, case 5): one
        // warning and one error per object on stdout, nothing on stderr.
        const warning =
            "    warning: configured Kubernetes cluster is unreachable: unable to load schema information from the " +
            'API server: Get "https://127.0.0.1:39411/openapi/v2?timeout=32s": dial tcp 127.0.0.1:39411: connect: ' +
            "connection refused\n    error: failed to read resource state due to unreachable cluster. If the " +
            "cluster was deleted, you can remove this resource from Pulumi state by rerunning the operation with " +
            'the PULUMI_K8S_DELETE_UNREACHABLE environment variable set to "true"\n';
        const error = commandError(`Updating (realtest)\n${warning}${warning}Resources:\n    21 errored\n`, "");
        assert.deepEqual(failureLines(error), [
            "the Kubernetes cluster at https://127.0.0.1:39411 is unreachable (connect: connection refused); nothing " +
                "was changed and nothing was dropped from the state: start it (or wait until it answers) and run this again",
        ]);
    });

    it("a cluster known gone is dropped from the state, not the failure: the resources' own errors are", () => {
        // What test:kind's case 3 printed (CI, 2026-12-02): the refresh dropped the deleted cluster's objects
        // (PULUMI_K8S_DELETE_UNREACHABLE), then the new cluster's pods timed out; stderr empty.
        const dropped =
            "  kubernetes:core/v1:Service (slurm-compute):\n    warning: configured Kubernetes cluster is unreachable: " +
            'unable to load schema information from the API server: Get "https://127.0.0.1:36947/openapi/v2?timeout' +
            '=32s": dial tcp 127.0.0.1:36947: connect: connection refused\n    configured Kubernetes cluster is ' +
            "unreachable and the `deleteUnreachable` option is enabled. Deleting the unreachable resource from Pulumi " +
            "state\n";
        const timedOut =
            '    error: 2 errors occurred:\n    \t* resource "urn:pulumi:kindtest::ai-hyperscaler::hyperscaler:slurm:' +
            'StaticSlurm$kubernetes:apps/v1:StatefulSet::slurm-slurmctld" was successfully created, but the ' +
            "Kubernetes API server reported that it failed to fully initialize or become live: 'slurmctld' timed out " +
            "waiting to be Ready\n    \t* 0 out of 1 replicas succeeded readiness checks\n";
        const stack = "  pulumi:pulumi:Stack (ai-hyperscaler-kindtest):\n    error: update failed\n";
        const lines = failureLines(commandError(`Updating (kindtest)\n${dropped}${timedOut}${stack}${dropped}`, ""));
        assert.equal(lines.length, 2, lines.join("\n"));
        assert.match(lines[0], /^\* resource .*slurm-slurmctld.* timed out waiting to be Ready$/);
        assert.equal(lines[1], "* 0 out of 1 replicas succeeded readiness checks");
        // With nothing but the stack's closing line, that line is the report.
        assert.deepEqual(failureLines(commandError(`Updating (kindtest)\n${dropped}${stack}`, "")), [
            "error: update failed",
        ]);
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
    it("keeps only lines that start with error: (any case), not lines that mention it", () => {
        const error = commandError("", "warning: not an error: a note\nError: the real one\nERROR: another\n");
        assert.deepEqual(failureLines(error), ["Error: the real one", "ERROR: another"]);
    });

    it("without the CLI's own stderr, reads the CommandError itself: its stderr, its error, its code", () => {
        const bare = (stderr: string, code: number, err?: object) => ({ commandResult: { stderr, code, err } });
        assert.deepEqual(failureLines(bare("error: from the result\n", 7)), ["error: from the result"]);
        assert.deepEqual(failureLines(bare("", 7)), ["the Pulumi CLI exited with code 7; its output is above"]);
        assert.deepEqual(failureLines(bare("", 7, new Error("spawn pulumi ENOENT\nat ..."))), ["spawn pulumi ENOENT"]);
        // execa's error: its exit code, or when a signal killed the CLI, the first line of its message.
        const killed = "Command was killed with SIGTERM (Termination): pulumi up";
        assert.deepEqual(failureLines(bare("", -2, { stderr: "", message: `${killed}\nmore` })), [killed]);
        assert.deepEqual(failureLines(bare("", -2, { stderr: "", exitCode: 3, message: "Command failed" })), [
            "the Pulumi CLI exited with code 3; its output is above",
        ]);
    });

    it("splits any other error into its lines, once each, without list dashes", () => {
        assert.deepEqual(failureLines(new Error("first\n\n  - second  \nfirst\n- third")), [
            "first",
            "second",
            "third",
        ]);
        assert.deepEqual(failureLines("a thrown string"), ["a thrown string"]);
        assert.deepEqual(failureLines(new Stop(["one", "two"])), ["one", "two"]);
    });

    it("masks secrets of four characters or more; shorter ones would mask ordinary words", () => {
        assert.deepEqual(failureLines(new Stop(["the key abc and abcd"]), ["abc"]), ["the key abc and abcd"]);
        assert.deepEqual(failureLines(new Stop(["the key abc and abcd"]), ["abcd"]), ["the key abc and [secret]"]);
        assert.deepEqual(failureLines(new Stop(["x1234 and x1234"]), ["x1234", "and"]), ["[secret] and [secret]"]);
    });
    it("is a Stop whose message is its problems, one a line", () => {
        const stop = new Stop(["a", "b"]);
        assert.deepEqual([stop.name, stop.message, stop.problems], ["Stop", "a\nb", ["a", "b"]]);
    });

    it("reads indented error lines of the CLI, keeps dashes inside a line, and copes with no error at all", () => {
        assert.deepEqual(failureLines(commandError("", "    error: indented\n")), ["error: indented"]);
        assert.deepEqual(failureLines(new Error("use a - b")), ["use a - b"]);
        assert.deepEqual(failureLines(undefined), ["undefined"]);
        assert.deepEqual(failureLines(null), ["null"]);
    });
});
