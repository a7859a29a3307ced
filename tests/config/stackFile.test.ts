import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackSettings, stackNames } from "../../config/stackFile";
import { expandHome, readableFile } from "../../config/files";

describe("stack files and the kubeconfig file check", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.lab.yaml"),
            [
                "config:",
                "  ai-hyperscaler:slurm:",
                "    mode: none",
                "  kubernetes:context: other",
                "  ai-hyperscaler:vcluster:",
                "    tenants: []",
                "",
            ].join("\n"),
        );
        fs.writeFileSync(path.join(dir, "Pulumi.empty.yaml"), "");
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: x\n");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("reads this project's settings without the prefix, and no other namespace's", () => {
        assert.deepEqual(readStackSettings("lab", dir), { slurm: { mode: "none" }, vcluster: { tenants: [] } });
        assert.deepEqual(readStackSettings("empty", dir), {});
    });

    it("lists the stacks, and names them when a stack does not exist", () => {
        assert.deepEqual(stackNames(dir), ["empty", "lab"]);
        assert.throws(
            () => readStackSettings("prod", dir),
            /^Error: no stack "prod": there is no Pulumi\.prod\.yaml; stacks here: empty, lab$/,
        );
        assert.throws(() => readStackSettings("../lab", dir), /no stack "\.\.\/lab"/);
        assert.deepEqual(stackNames(), ["dev", "gpu"], "the repository's own stacks");
    });

    it("readableFile: fine for a readable file, says why otherwise", () => {
        const file = path.join(dir, "kubeconfig");
        fs.writeFileSync(file, "apiVersion: v1\n");
        assert.equal(readableFile(file), undefined);
        assert.equal(
            readableFile(path.join(dir, "nope")),
            `must be a readable kubeconfig file; ${path.join(dir, "nope")} does not exist`,
        );
        assert.equal(readableFile(dir), `must be a readable kubeconfig file; ${dir} is not a regular file`);
    });

    it("expands ~ to the home directory as the Kubernetes provider does, and resolves relative paths", () => {
        assert.equal(expandHome("~/.kube/config", "/home/me"), "/home/me/.kube/config");
        assert.equal(expandHome("~", "/home/me"), "/home/me");
        assert.equal(expandHome("~other/x", "/home/me"), path.resolve("~other/x"));
        assert.equal(expandHome("kube/config", "/home/me"), path.resolve("kube/config"));
        assert.equal(expandHome("/etc/kube", "/home/me"), "/etc/kube");
    });
});
