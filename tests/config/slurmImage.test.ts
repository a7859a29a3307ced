import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultSlurmImage, SLURM_IMAGE_CONTEXT, slurmImageTag } from "../../config/slurmImage";
import { imageReference } from "../../config/rules";

describe("the Slurm image's content-derived tag", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "slurm-context-"));
        fs.mkdirSync(path.join(dir, "scripts"));
        fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM debian:trixie-slim\n");
        fs.writeFileSync(path.join(dir, "scripts/entrypoint.sh"), "#!/bin/sh\n", { mode: 0o755 });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is <slurm version>-<12 hex digits>, a valid image reference, and the same on every call", () => {
        assert.match(slurmImageTag(dir), /^24\.11-[0-9a-f]{12}$/);
        assert.equal(slurmImageTag(dir), slurmImageTag(dir));
        assert.equal(defaultSlurmImage(dir), `ai-hyperscaler/slurm:${slurmImageTag(dir)}`);
        assert.ok(imageReference.test(defaultSlurmImage(dir)));
    });

    it("changes when a file's bytes change, and comes back when they do", () => {
        const before = slurmImageTag(dir);
        fs.writeFileSync(path.join(dir, "scripts/entrypoint.sh"), "#!/bin/sh\necho\n");
        assert.notEqual(slurmImageTag(dir), before);
        fs.writeFileSync(path.join(dir, "scripts/entrypoint.sh"), "#!/bin/sh\n");
        assert.equal(slurmImageTag(dir), before);
    });

    it("changes when a file's executable bit changes", () => {
        const before = slurmImageTag(dir);
        fs.chmodSync(path.join(dir, "scripts/entrypoint.sh"), 0o644);
        assert.notEqual(slurmImageTag(dir), before);
    });

    it("changes when a file is added or renamed", () => {
        const before = slurmImageTag(dir);
        fs.renameSync(path.join(dir, "Dockerfile"), path.join(dir, "Containerfile"));
        const renamed = slurmImageTag(dir);
        assert.notEqual(renamed, before);
        fs.writeFileSync(path.join(dir, "extra.conf"), "");
        assert.notEqual(slurmImageTag(dir), renamed);
    });

    it("does not depend on the order the directory lists files in, nor on file times", () => {
        const before = slurmImageTag(dir);
        fs.utimesSync(path.join(dir, "Dockerfile"), new Date(0), new Date(0));
        assert.equal(slurmImageTag(dir), before);
    });

    it("hashes the repository's own build context by default", () => {
        assert.ok(fs.existsSync(path.join(__dirname, "../..", SLURM_IMAGE_CONTEXT)));
        assert.equal(defaultSlurmImage(), defaultSlurmImage(path.join(__dirname, "../..", SLURM_IMAGE_CONTEXT)));
    });
});
