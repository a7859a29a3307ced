import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { firstLine, runCommand } from "../../../scripts/lib/run";

describe("npm run up / preview / destroy: running the host's CLIs", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-run-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const node = process.execPath;

    it("captures the exit status, standard output and standard error as text", () => {
        const result = runCommand(node, [
            "-e",
            "process.stdout.write('out\\n'); console.error('err'); process.exit(3)",
        ]);
        assert.deepEqual(result, { status: 3, stdout: "out\n", stderr: "err\n", notFound: false });
    });

    it("runs in the given folder", () => {
        const result = runCommand(node, ["-e", "process.stdout.write(process.cwd())"], { cwd: dir });
        assert.equal(fs.realpathSync(result.stdout), fs.realpathSync(dir));
    });

    it("adds the given variables to this process's environment, keeping the rest", () => {
        const show =
            "process.stdout.write(`${process.env.KIND_EXPERIMENTAL_PROVIDER}|${process.env.PATH === undefined}`)";
        const result = runCommand(node, ["-e", show], { env: { KIND_EXPERIMENTAL_PROVIDER: "podman" } });
        assert.equal(result.stdout, "podman|false");
    });

    it("keeps a long output whole (a docker build's log runs to megabytes)", () => {
        const result = runCommand(node, ["-e", "process.stdout.write('x'.repeat(4 * 1024 * 1024))"]);
        assert.equal(result.status, 0);
        assert.equal(result.stdout.length, 4 * 1024 * 1024);
    });

    it("streams the output to the user with inherit, capturing none", () => {
        // Inherited, the child's standard output is this process's own (same inode); captured, it is a new pipe.
        const own = fs.fstatSync(1).ino;
        const sameOutput = `process.exit(require("fs").fstatSync(1).ino === ${own} ? 0 : 1)`;
        assert.deepEqual(runCommand(node, ["-e", sameOutput], { inherit: true }), {
            status: 0,
            stdout: "",
            stderr: "",
            notFound: false,
        });
        assert.equal(runCommand(node, ["-e", sameOutput]).status, 1);
    });

    it("says a command is not found, or not executable, instead of throwing", () => {
        const missing = runCommand(path.join(dir, "no-such-tool"), ["version"]);
        assert.equal(missing.notFound, true);
        assert.equal(missing.status, null);
        assert.match(missing.stderr, /ENOENT/);
        const plain = path.join(dir, "not-executable");
        fs.writeFileSync(plain, "#!/bin/sh\n", { mode: 0o644 });
        // Not even root may run a file without an x bit.
        const refused = runCommand(plain, []);
        assert.equal(refused.notFound, true);
        assert.match(refused.stderr, /EACCES/);
    });

    it("a command that ran and failed is found", () => {
        assert.equal(runCommand(node, ["-e", "process.exit(1)"]).notFound, false);
    });

    it("takes the first non-empty line, trimmed", () => {
        assert.equal(firstLine("\n  \n  kind v0.29.0 go1.24  \nsecond\n"), "kind v0.29.0 go1.24");
        assert.equal(firstLine("one"), "one");
        assert.equal(firstLine(" \n\n"), "");
        assert.equal(firstLine(""), "");
    });
});
