/**
 * The name of the project's Slurm image, with a tag that follows the content of its build context.
 *
 * Kind nodes keep an image loaded under a tag, and pods with `imagePullPolicy: IfNotPresent` never look again:
 * a rebuilt image under the same tag would not reach running pods. A tag made from the files the image is built
 * from changes exactly when the image does, so the Kind provider loads the new image and the pod templates
 * change, which rolls the StatefulSets. `npm run up` builds under this tag; the program uses the same function.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { ContainerEngine } from "./rules";

/** Repository part of the image name; the image is only ever in the local engine and the Kind nodes. */
export const SLURM_IMAGE_REPOSITORY = "ai-hyperscaler/slurm";

/** Slurm release the image installs (Debian trixie's); the first part of every tag. */
export const SLURM_VERSION = "24.11";

/** Build context of the image, relative to the repository root. */
export const SLURM_IMAGE_CONTEXT = "containers/images/slurm-base/Docker";

const REPO_ROOT = path.resolve(__dirname, "..");

/**
 * `<SLURM_VERSION>-<first 12 hex digits of a SHA-256 over the context>`; the hash covers each file's path
 * relative to the context, its executable bit and its bytes, in sorted order, so it is the same on every machine.
 */
export function slurmImageTag(contextDir = path.join(REPO_ROOT, SLURM_IMAGE_CONTEXT)): string {
    const hash = createHash("sha256");
    for (const file of listFiles(contextDir)) {
        const full = path.join(contextDir, file);
        const executable = (fs.statSync(full).mode & 0o111) !== 0;
        hash.update(`${file}\0${executable ? "x" : "-"}\0`);
        hash.update(fs.readFileSync(full));
        hash.update("\0");
    }
    return `${SLURM_VERSION}-${hash.digest("hex").slice(0, 12)}`;
}

/**
 * The image every static-mode Slurm pod runs unless `slurm.image` says otherwise. Built by Podman, it is
 * `localhost/<repository>:<tag>`: Podman stores a local image under that name, the Kind nodes receive it under that
 * name, so the pods must ask for it by that name (without it, Kubernetes would look on Docker Hub).
 */
export function defaultSlurmImage(contextDir?: string, engine: ContainerEngine = "docker"): string {
    const repository = engine === "podman" ? `localhost/${SLURM_IMAGE_REPOSITORY}` : SLURM_IMAGE_REPOSITORY;
    return `${repository}:${slurmImageTag(contextDir)}`;
}

function listFiles(dir: string, prefix = ""): string[] {
    return fs
        .readdirSync(path.join(dir, prefix), { withFileTypes: true })
        .flatMap((entry) => {
            const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
            return entry.isDirectory() ? listFiles(dir, relative) : [relative];
        })
        .sort();
}
