/** What the e2e test and the bring-up benchmark share: images, renders, and reading Slurm's state. */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { runProgram } from "../../../offline/evaluate";
import { renderResources } from "../../../offline/render";
import { readStackSettings } from "../../../offline/stack";
import { PodmanLab } from "./lab";
import { podman, waitFor } from "./podman";

const ROOT = path.resolve(__dirname, "../../..");

/**
 * Rendered image → image built here. MariaDB's upstream image cannot be pulled on this machine: a stand-in built
 * from Debian's mariadb-server (tests/e2e/images/mariadb) honours the same environment variables.
 */
export const LOCAL_IMAGES = {
    "ai-hyperscaler/slurm:24.11": "localhost/ai-hyperscaler/slurm:24.11",
    "docker.io/library/mariadb:11.8": "localhost/ai-hyperscaler/mariadb-standin:test",
} as const;

/** Builds the base, Slurm and MariaDB stand-in images (tests/e2e/build-images.sh) and sets CONTAINERS_CONF. */
export async function buildImages(): Promise<void> {
    const { stdout } = await promisify(execFile)("bash", [path.join(ROOT, "tests/e2e/build-images.sh")], { maxBuffer: 64 * 1024 * 1024 });
    const match = /^export CONTAINERS_CONF=(.+)$/m.exec(stdout);
    if (!match) throw new Error(`build-images.sh printed no CONTAINERS_CONF: ${stdout}`);
    process.env.CONTAINERS_CONF = match[1].replace(/^'(.*)'$/, "$1");
}

/** Removes the images buildImages made (kept when E2E_KEEP_IMAGES=1, for quicker reruns by hand). */
export async function removeImages(): Promise<void> {
    if (process.env.E2E_KEEP_IMAGES === "1") return;
    await podman(["rmi", "-f", ...Object.values(LOCAL_IMAGES), "localhost/debian:trixie-slim"], { timeoutMs: 120_000 });
}

/** Renders the dev stack with `replicas` compute nodes into `dir` (as `npm run render` would) and returns the files. */
export async function renderDev(dir: string, replicas: number): Promise<Map<string, string>> {
    const dev = readStackSettings("dev") as { slurm: { compute: Record<string, unknown> } };
    const settings = { ...dev, slurm: { ...dev.slurm, compute: { ...dev.slurm.compute, replicas } } };
    const files = renderResources((await runProgram(settings, "e2e")).resources);
    for (const [name, text] of files) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
    }
    return files;
}

/** Node name → Slurm state (`idle`, `alloc`, `down*`, ...), as the login pod's `sinfo` sees them. */
export async function nodeStates(lab: PodmanLab, login: string): Promise<Map<string, string>> {
    const out = await lab.sh(login, "sinfo -h -N -o '%N %t'", 30_000);
    const states = new Map<string, string>();
    for (const line of out.trim().split("\n").filter(Boolean)) {
        const [node, state] = line.trim().split(/\s+/);
        states.set(node, state);
    }
    return states;
}

/** Waits until every named node is idle. */
export function waitForIdle(lab: PodmanLab, login: string, nodes: readonly string[], timeoutMs: number): Promise<Map<string, string>> {
    return waitFor(
        `nodes ${nodes.join(", ")} idle`,
        async () => {
            const states = await nodeStates(lab, login);
            return nodes.every((n) => states.get(n) === "idle") ? states : undefined;
        },
        timeoutMs,
    );
}

/** The pod names of the compute StatefulSet in a lab, in order. */
export function computeNodes(lab: PodmanLab): string[] {
    return lab.pods().filter((p) => p.owner === "StatefulSet/compute").map((p) => p.podName);
}

/** The login pod's name. */
export function loginPod(lab: PodmanLab): string {
    const login = lab.pods().find((p) => p.owner === "Deployment/login");
    if (!login) throw new Error("the render has no login Deployment");
    return login.podName;
}
