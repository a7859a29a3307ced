/**
 * The e2e harness's podman transport for verify (tests/e2e/harness/podmanTransport.ts), against a fake podman on
 * PATH: what it runs, and verify's transport contract (never rejects; 124 at the time limit, 127 when missing). The
 * e2e test runs it against the real podman and daemons.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { podmanTransport } from "../e2e/harness/podmanTransport";

// Records its argv, one argument a line, then acts as FAKE_PODMAN_MODE says.
const FAKE_PODMAN = `#!/bin/bash
printf '%s\\n' "$@" > "$FAKE_PODMAN_DIR/argv"
case "$FAKE_PODMAN_MODE" in
    hang) exec sleep 600 ;;
    *) echo out; echo err >&2; exit 3 ;;
esac
`;

describe("e2e harness: podman transport for verify's checks", () => {
    let dir: string;
    const saved = { PATH: process.env.PATH, dir: process.env.FAKE_PODMAN_DIR, mode: process.env.FAKE_PODMAN_MODE };
    const transport = podmanTransport({ login: "lab-login-0" });

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "podman-transport-"));
        fs.writeFileSync(path.join(dir, "podman"), FAKE_PODMAN, { mode: 0o755 });
        process.env.PATH = `${dir}:${saved.PATH}`;
        process.env.FAKE_PODMAN_DIR = dir;
        delete process.env.FAKE_PODMAN_MODE;
    });

    afterEach(() => {
        process.env.PATH = saved.PATH;
        for (const [name, value] of [
            ["FAKE_PODMAN_DIR", saved.dir],
            ["FAKE_PODMAN_MODE", saved.mode],
        ] as const) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("runs podman exec in /tmp of the target's container and hands back code and output as they are", async () => {
        const result = await transport.exec("login", ["sbatch", "--wrap", "echo a b"], { timeoutMs: 30_000 });
        assert.deepEqual(result, { code: 3, stdout: "out\n", stderr: "err\n" });
        assert.deepEqual(fs.readFileSync(path.join(dir, "argv"), "utf8").split("\n").slice(0, -1), [
            "exec",
            "--workdir",
            "/tmp",
            "lab-login-0",
            "sbatch",
            "--wrap",
            "echo a b",
        ]);
    });

    it("answers 124 when the time limit stops the call", async () => {
        process.env.FAKE_PODMAN_MODE = "hang";
        const result = await transport.exec("login", ["sinfo"], { timeoutMs: 500 });
        assert.equal(result.code, 124);
        assert.equal(result.stderr, "sinfo stopped after 0.5 s (time limit)");
    });

    it("answers 127, without rejecting, when podman is not on PATH", async () => {
        process.env.PATH = dir;
        fs.rmSync(path.join(dir, "podman"));
        const result = await transport.exec("login", ["sinfo"], { timeoutMs: 30_000 });
        assert.deepEqual(result, { code: 127, stdout: "", stderr: "podman was not found on PATH" });
    });

    it("answers 2 and names the target when no container plays it, without calling podman", async () => {
        const result = await transport.exec("slurmctld", ["true"], { timeoutMs: 30_000 });
        assert.deepEqual(result, { code: 2, stdout: "", stderr: 'no container is known for the target "slurmctld"' });
        assert.equal(fs.existsSync(path.join(dir, "argv")), false);
    });
});
