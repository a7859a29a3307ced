/**
 * What the real-Kind test and benchmark share: the images a Kind stack runs here (built from Debian packages and
 * the toolchain, never pulled), the engine's environment, and reads of what a cluster left behind in podman.
 *
 * kind runs here through its podman provider: Docker's `--privileged` fails on these machines (FACTS.md), podman's
 * works. The node image comes from testbed/nodeimage/build.sh; the Slurm and MariaDB images from
 * tests/e2e/build-images.sh (which also writes the containers.conf podman needs here).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { podman } from "../../tests/e2e/harness/podman";

const REPO = path.resolve(__dirname, "../..");

/** The Slurm image tests/e2e/build-images.sh builds from containers/images/slurm-base/Docker. */
export const SLURM_IMAGE = "localhost/ai-hyperscaler/slurm:24.11";
/** MariaDB from Debian's packages (tests/e2e/images/mariadb): the upstream image cannot be pulled here. */
export const MARIADB_IMAGE = "localhost/ai-hyperscaler/mariadb-standin:test";

/** The images of a Kind stack and the environment its commands need. */
export interface KindImages {
    /** The node image (`localhost/ai-hyperscaler/kind-node:<k8s version>-<hash>`). */
    readonly nodeImage: string;
    /** podman's settings on this machine, for every command that runs podman (kind, the provider, the test). */
    readonly env: Record<string, string>;
}

/**
 * Builds (or finds, when nothing changed) the node, Slurm and MariaDB images, and sets CONTAINERS_CONF in this
 * process. kind's podman provider mounts /lib/modules into every node; a host without one (a container) cannot
 * run it, which is said here rather than by a failed `podman run`.
 */
export async function buildKindImages(): Promise<KindImages> {
    if (!fs.existsSync("/lib/modules")) {
        throw new Error(
            "kind's podman provider mounts /lib/modules into its nodes and this host has none; " +
                "create it (`mkdir -p /lib/modules`, as .ci/run does), then run again",
        );
    }
    const run = promisify(execFile);
    const images = await run("bash", [path.join(REPO, "tests/e2e/build-images.sh")], { maxBuffer: 64 << 20 });
    const conf = /^export CONTAINERS_CONF=(.+)$/m.exec(images.stdout)?.[1]?.replace(/^'(.*)'$/, "$1");
    if (!conf) throw new Error(`tests/e2e/build-images.sh printed no CONTAINERS_CONF: ${images.stdout}`);
    process.env.CONTAINERS_CONF = conf;
    const node = await run("bash", [path.join(REPO, "testbed/nodeimage/build.sh")], {
        maxBuffer: 64 << 20,
        env: process.env,
    });
    const nodeImage = node.stdout.trim().split("\n").pop() ?? "";
    if (!/^localhost\/\S+:\S+$/.test(nodeImage)) throw new Error(`testbed/nodeimage/build.sh printed ${node.stdout}`);
    return { nodeImage, env: { CONTAINERS_CONF: conf, KIND_EXPERIMENTAL_PROVIDER: "podman" } };
}

/**
 * The settings of a Kind stack on podman with every image local: kind cluster `name` of `workers` workers,
 * static Slurm with 2 compute nodes of 1 CPU, one partition, and `slurm` merged in (users, say).
 */
export function kindStackSettings(
    name: string,
    images: KindImages,
    workers: number,
    slurm: Record<string, unknown> = {},
): Record<string, unknown> {
    return {
        cluster: { type: "kind", name, engine: "podman", workers, nodeImage: images.nodeImage },
        slurm: {
            mode: "static",
            image: SLURM_IMAGE,
            mariadbImage: MARIADB_IMAGE,
            compute: { replicas: 2, cpus: 1, memoryMiB: 1024 },
            partitions: [{ name: "batch" }],
            ...slurm,
        },
    };
}

/** What of kind cluster `name` is left in podman: node containers and volumes (by kind's cluster label). */
export async function leftovers(name: string): Promise<string[]> {
    const label = `label=io.x-k8s.kind.cluster=${name}`;
    const containers = await podman(["ps", "-a", "--filter", label, "--format", "{{.Names}}"]);
    const volumes = await podman(["volume", "ls", "--filter", label, "--format", "{{.Name}}"]);
    for (const r of [containers, volumes]) if (r.code !== 0) throw new Error(`podman failed: ${r.stderr}`);
    return [
        ...lines(containers.stdout).map((c) => `container ${c}`),
        ...lines(volumes.stdout).map((v) => `volume ${v}`),
    ];
}

/** Removes kind cluster `name` by its label, whatever state it is in: the test's last word on every exit. */
export async function removeCluster(name: string): Promise<void> {
    const label = `label=io.x-k8s.kind.cluster=${name}`;
    const ids = lines((await podman(["ps", "-aq", "--filter", label])).stdout);
    if (ids.length > 0) await podman(["rm", "-f", "-v", ...ids], { timeoutMs: 300_000 });
    const volumes = lines((await podman(["volume", "ls", "-q", "--filter", label])).stdout);
    if (volumes.length > 0) await podman(["volume", "rm", "-f", ...volumes], { timeoutMs: 300_000 });
}

function lines(text: string): string[] {
    return text
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
}

/**
 * What a failed case needs to be understood after the cluster is gone: the pods, the events that are not Normal,
 * each Slurm container's last log lines (and those of its previous run), the nodes' conditions. Everything is
 * written to `file`; the returned text is the part worth reading first, bounded for a test report. Each read is
 * bounded and its own failure is reported in its place, so a cluster that no longer answers still gives a report.
 */
export async function diagnose(name: string, env: Record<string, string>, file: string): Promise<string> {
    const run = promisify(execFile);
    const fullEnv = { ...process.env, ...env };
    const read = async (command: string, args: string[]): Promise<string> => {
        try {
            const r = await run(command, args, { env: fullEnv, maxBuffer: 64 << 20, timeout: 60_000 });
            return r.stdout.trim();
        } catch (error) {
            return `(${command} ${args.join(" ")} failed: ${String((error as Error).message).split("\n")[0]})`;
        }
    };
    const dir = fs.mkdtempSync(path.join(path.dirname(file), "diagnose-"));
    const config = path.join(dir, "kubeconfig");
    fs.writeFileSync(config, await read("kind", ["get", "kubeconfig", "--name", name]), { mode: 0o600 });
    const kubectl = (...args: string[]) => read("kubectl", ["--kubeconfig", config, "--request-timeout=20s", ...args]);
    const sections: [string, string][] = [
        ["pods", await kubectl("get", "pods", "-A", "-o", "wide")],
        [
            "events that are not Normal",
            await kubectl("get", "events", "-A", "--field-selector", "type!=Normal", "--sort-by=.lastTimestamp"),
        ],
    ];
    const pods = lines(await kubectl("-n", "slurm", "get", "pods", "-o", "name"));
    for (const pod of pods) {
        sections.push([`${pod}: log`, await kubectl("-n", "slurm", "logs", pod, "--all-containers", "--tail=25")]);
        sections.push([
            `${pod}: previous log`,
            await kubectl("-n", "slurm", "logs", pod, "--all-containers", "--previous", "--tail=25"),
        ]);
    }
    const summary = sections.map(([title, text]) => `=== ${title}\n${text}`).join("\n");
    const full = [
        summary,
        `=== nodes\n${await kubectl("describe", "nodes")}`,
        `=== slurm pods\n${await kubectl("-n", "slurm", "describe", "pods")}`,
        `=== kube-system pods\n${await kubectl("-n", "kube-system", "get", "pods", "-o", "wide")}`,
    ].join("\n");
    fs.writeFileSync(file, full);
    fs.rmSync(dir, { recursive: true, force: true });
    return summary.length > 12_000 ? `${summary.slice(0, 4_000)}\n[...]\n${summary.slice(-8_000)}` : summary;
}
