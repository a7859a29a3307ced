/** What the e2e test and the bring-up benchmark share: images, renders, labs, and reading Slurm's state. */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { parse, stringify } from "yaml";
import { runProgram } from "../../../evaluation/program";
import { renderResources } from "../../../evaluation/render";
import { readStackSettings } from "../../../config/stackFile";
import { onInterrupt, release } from "./cleanup";
import { PodmanLab } from "./lab";
import { podman, podmanOk, waitFor } from "./podman";

const ROOT = path.resolve(__dirname, "../../..");

/** The Slurm image built here from containers/images/slurm-base/Docker, unchanged. */
export const SLURM_LOCAL_IMAGE = "localhost/ai-hyperscaler/slurm:24.11";
/**
 * MariaDB's upstream image cannot be pulled on this machine: a stand-in built from Debian's mariadb-server
 * (tests/e2e/images/mariadb) honours the same environment variables.
 */
export const MARIADB_LOCAL_IMAGE = "localhost/ai-hyperscaler/mariadb-standin:test";

/** Rendered image → image built here: any tag of the project's Slurm image, and upstream MariaDB. */
export function localImage(rendered: string): string | undefined {
    if (/^ai-hyperscaler\/slurm:/.test(rendered)) return SLURM_LOCAL_IMAGE;
    if (/^(docker\.io\/(library\/)?)?mariadb:/.test(rendered)) return MARIADB_LOCAL_IMAGE;
    return undefined;
}

/** Builds the base, Slurm and MariaDB stand-in images (tests/e2e/build-images.sh) and sets CONTAINERS_CONF. */
export async function buildImages(): Promise<void> {
    const { stdout } = await promisify(execFile)("bash", [path.join(ROOT, "tests/e2e/build-images.sh")], {
        maxBuffer: 64 * 1024 * 1024,
    });
    const match = /^export CONTAINERS_CONF=(.+)$/m.exec(stdout);
    if (!match) throw new Error(`build-images.sh printed no CONTAINERS_CONF: ${stdout}`);
    process.env.CONTAINERS_CONF = match[1].replace(/^'(.*)'$/, "$1");
    onInterrupt(removeImages);
}

/** Removes the images buildImages made (kept when E2E_KEEP_IMAGES=1, for quicker reruns by hand). */
export async function removeImages(): Promise<void> {
    release(removeImages);
    if (process.env.E2E_KEEP_IMAGES === "1") return;
    // No --force: it would also remove the containers of another run that uses the images at the same time; an
    // image still in use stays (podman says so), and the prune below only takes images no container uses.
    await podman(["rmi", SLURM_LOCAL_IMAGE, MARIADB_LOCAL_IMAGE, "localhost/debian:trixie-slim"], {
        timeoutMs: 300_000,
    });
    // Older builds under the same tags left untagged images behind; the Slurm image's carry its title label.
    await podmanOk(["image", "prune", "-f", "--filter", "label=org.opencontainers.image.title=ai-hyperscaler/slurm"], {
        timeoutMs: 300_000,
    });
}

/** A lab for one run, removed on an interrupt too; `destroy()` it in the test's `after` hook. */
export function newLab(runId: string, workDir: string): PodmanLab {
    const lab = new PodmanLab(runId, workDir, localImage, SLURM_LOCAL_IMAGE);
    const undo = async () => {
        release(undo);
        await lab.destroy();
    };
    onInterrupt(undo);
    return lab;
}

/** Compute nodes: the dev stack's own 2, or E2E_NODES. */
export function nodesFromEnvironment(value = process.env.E2E_NODES): number {
    if (value === undefined || value === "") return 2;
    if (!/^\d+$/.test(value) || Number(value) < 2 || Number(value) > 200) {
        throw new Error(`E2E_NODES is "${value}"; allowed: a whole number of compute nodes from 2 to 200`);
    }
    return Number(value);
}

/** What a render may change from the dev stack. */
export interface RenderOptions {
    /** slurm.conf `TreeWidth` instead of the rendered one (the benchmark compares fan-outs). */
    readonly treeWidth?: number;
    /** `slurm.users` instead of the dev stack's (the test logs in with a key it made). */
    readonly users?: readonly Record<string, unknown>[];
}

/** Renders the dev stack with `replicas` compute nodes into `dir` (as `npm run render` would) and returns the files. */
export async function renderDev(
    dir: string,
    replicas: number,
    options: RenderOptions = {},
): Promise<Map<string, string>> {
    const dev = readStackSettings("dev") as { slurm: { compute: Record<string, unknown> } };
    const users = options.users ? { users: options.users } : {};
    const settings = { ...dev, slurm: { ...dev.slurm, ...users, compute: { ...dev.slurm.compute, replicas } } };
    const files = renderResources((await runProgram(settings, "e2e")).resources);
    for (const [name, text] of files) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(
            path.join(dir, name),
            options.treeWidth === undefined ? text : withTreeWidth(text, options.treeWidth),
        );
    }
    return files;
}

function withTreeWidth(text: string, treeWidth: number): string {
    const object = parse(text);
    const conf: unknown = object?.kind === "ConfigMap" ? object.data?.["slurm.conf"] : undefined;
    if (typeof conf !== "string") return text;
    if (!/^TreeWidth=\d+$/m.test(conf)) throw new Error("the rendered slurm.conf has no TreeWidth line to replace");
    object.data["slurm.conf"] = conf.replace(/^TreeWidth=\d+$/m, `TreeWidth=${treeWidth}`);
    return stringify(object);
}

/** Node name → Slurm state (`idle`, `alloc`, `down*`, ...), as the login pod's `sinfo` sees them. */
export async function nodeStates(lab: PodmanLab, login: string): Promise<Map<string, string>> {
    const out = await lab.sh(login, "sinfo -h -N -o '%N %t'");
    const states = new Map<string, string>();
    for (const line of out.trim().split("\n").filter(Boolean)) {
        const [node, state] = line.trim().split(/\s+/);
        states.set(node, state);
    }
    return states;
}

/** Waits until every named node is idle; a timeout names the nodes that were not, and their states. */
export function waitForIdle(
    lab: PodmanLab,
    login: string,
    nodes: readonly string[],
    timeoutMs: number,
    maxDelayMs?: number,
): Promise<Map<string, string>> {
    let notIdle = "no sinfo answer yet";
    return waitFor(
        `${nodes.length} nodes (${abbreviate(nodes)}) idle in sinfo`,
        async () => {
            const states = await nodeStates(lab, login);
            const waiting = nodes.filter((n) => states.get(n) !== "idle");
            notIdle = waiting.map((n) => `${n}=${states.get(n) ?? "absent"}`).join(", ");
            return waiting.length === 0 ? states : undefined;
        },
        timeoutMs,
        { maxDelayMs, lastSeen: () => `not idle: ${notIdle}` },
    );
}

function abbreviate(names: readonly string[]): string {
    return names.length <= 4 ? names.join(", ") : `${names.slice(0, 2).join(", ")}, ..., ${names[names.length - 1]}`;
}

/** The pod names of the compute StatefulSet in a lab, in order. */
export function computeNodes(lab: PodmanLab): string[] {
    return lab
        .pods()
        .filter((p) => p.owner === "StatefulSet/compute")
        .map((p) => p.podName)
        .sort((a, b) => ordinal(a) - ordinal(b));
}

function ordinal(podName: string): number {
    return Number(/-(\d+)$/.exec(podName)?.[1] ?? 0);
}

/** The login pod's name. */
export function loginPod(lab: PodmanLab): string {
    const login = lab.pods().find((p) => p.owner === "Deployment/login");
    if (!login) throw new Error("the render has no login Deployment");
    return login.podName;
}

/**
 * Resident memory (MiB) of the daemon named `command` in each listed pod, read from the host's /proc through the
 * containers' init PIDs (one podman call, not one exec per pod).
 */
export async function daemonRssMiB(lab: PodmanLab, pods: readonly string[], command: string): Promise<number[]> {
    const out = await podmanOk(["inspect", "--format", "{{.State.Pid}}", ...pods.map((p) => lab.containerOf(p))]);
    const roots = new Set(out.trim().split("\n").map(Number));
    const rss: number[] = [];
    for (const pid of descendants(roots)) {
        const status = readProc(pid, "status");
        if (!status || !new RegExp(`^Name:\\s+${command}$`, "m").test(status)) continue;
        rss.push(Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 1024);
    }
    return rss;
}

/** CPU seconds (user + system) the process named `command` in a pod has used so far. */
export async function daemonCpuSeconds(lab: PodmanLab, pod: string, command: string): Promise<number> {
    const root = Number((await podmanOk(["inspect", "--format", "{{.State.Pid}}", lab.containerOf(pod)])).trim());
    const ticksPerSecond = 100; // USER_HZ on Linux
    for (const pid of descendants(new Set([root]))) {
        const stat = readProc(pid, "stat");
        const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (stat && stat.includes(`(${command})`) && fields)
            return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    }
    throw new Error(`no ${command} process in ${pod}`);
}

/** The given PIDs and every process below them. */
function descendants(roots: Set<number>): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        const stat = readProc(Number(entry), "stat");
        if (!stat) continue;
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    }
    const found: number[] = [];
    const queue = [...roots];
    for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
        found.push(pid);
        queue.push(...(children.get(pid) ?? []));
    }
    return found;
}

function readProc(pid: number, file: string): string | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
        return undefined;
    }
}
