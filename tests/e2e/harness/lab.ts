/**
 * Runs a rendered stack's pods as podman containers, as a kubelet would run them: every StatefulSet and
 * Deployment replica becomes a container with the pod spec's command, args, env, user, capabilities and limits;
 * ConfigMaps and Secrets are mounted the way kubelet lays them out (files behind a `..data` symlink, with the
 * declared modes); volumeClaimTemplates become named volumes that outlive the container, like PVCs; Services
 * become host names (`slurmctld`, `<pod>.<service>`, and the `.svc.cluster.local` forms). Each pod keeps a fixed
 * address on a podman network, and names go into every container's /etc/hosts: podman 4.3's DNS server stalls
 * all lookups for ~50 s whenever a container starts or restarts on its network, which made runs slow and flaky.
 *
 * Not emulated: the Kubernetes API, scheduling, probes run by a kubelet (the tests run the probe commands
 * themselves), restarts (a container that exits stays down, so a crash fails the test rather than hiding in a
 * restart loop) and NetworkPolicies (podman has no policy engine).
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PodArgs } from "./podArgs";
import { runProbe } from "./probes";
import { startOrder } from "./startOrder";
import { exec, mapLimited, podman, podmanOk, CommandResult } from "./podman";

type Obj = Record<string, any>;

/** One pod of the render, planned as a container. */
export interface PlannedPod {
    /** Kubernetes pod name (`slurmctld-0`, `login-e2e0`); the container's hostname unless the spec sets one. */
    readonly podName: string;
    /** podman container name. */
    readonly containerName: string;
    /** `StatefulSet/compute`, for messages. */
    readonly owner: string;
    /** The pod spec. */
    readonly spec: Obj;
}

/** The local image that stands for a rendered image reference; undefined when there is none. */
export type ImageResolver = (rendered: string) => string | undefined;

/**
 * How many `podman run` calls go at once. Measured here (24 containers, machine loaded): one at a time 8.9-9.5 s,
 * 4 at once 5.5-6.8 s, 16 at once 4.0-5.6 s; podman serializes much of a creation on its own locks, and more
 * calls at once only queue the pods of the dependency chain behind compute nodes that were handed over earlier.
 */
const PODMAN_RUN_PARALLEL = 8;

/** The pods of a render, run as podman containers on their own network. */
export class PodmanLab {
    private objects: Obj[] = [];
    private readonly podArgs: PodArgs;
    private readonly started = new Set<string>();
    private readonly addresses = new Map<string, string>();
    private subnetPrefix = "";
    private readonly network: string;
    private readonly anchor: string;

    /**
     * @param runId  unique per run: prefixes every container, volume and network, and labels them for cleanup
     * @param workDir  host folder for the mounted ConfigMap and Secret files
     * @param images  rendered image → local image
     * @param anchorImage  local image of the anchor container (it only runs `sleep infinity` and probes)
     */
    constructor(
        readonly runId: string,
        private readonly workDir: string,
        private readonly images: ImageResolver,
        private readonly anchorImage: string,
    ) {
        this.network = `${runId}-net`;
        this.anchor = `${runId}-anchor`;
        this.podArgs = new PodArgs(runId, workDir, this.label(), (kind, name) => this.find(kind, name));
    }

    /** Reads (again) every Kubernetes object of a render folder. */
    load(renderDir: string): void {
        const files = walk(renderDir).filter(
            (f) => f.endsWith(".yaml") && !/helm-release\.|kind-config\.|cert-manager\./.test(f),
        );
        this.objects = files.map((f) => parse(fs.readFileSync(f, "utf8")) as Obj);
    }

    /** Every pod the loaded render declares, in a stable order. */
    pods(): PlannedPod[] {
        const pods: PlannedPod[] = [];
        for (const o of this.objects) {
            if (o.kind === "StatefulSet") {
                for (let i = 0; i < (o.spec.replicas ?? 1); i++)
                    pods.push(
                        this.planned(`${o.metadata.name}-${i}`, `StatefulSet/${o.metadata.name}`, o.spec.template),
                    );
            } else if (o.kind === "Deployment") {
                for (let i = 0; i < (o.spec.replicas ?? 1); i++)
                    pods.push(
                        this.planned(`${o.metadata.name}-e2e${i}`, `Deployment/${o.metadata.name}`, o.spec.template),
                    );
            }
        }
        return pods.sort((a, b) => a.podName.localeCompare(b.podName));
    }

    /** The pod called `podName`; throws when the render has none. */
    pod(podName: string): PlannedPod {
        const found = this.pods().find((p) => p.podName === podName);
        if (!found)
            throw new Error(
                `the render has no pod ${podName}; it has ${this.pods()
                    .map((p) => p.podName)
                    .join(", ")}`,
            );
        return found;
    }

    /**
     * Creates the network (no DNS server: names come from /etc/hosts) and an anchor container that probes run
     * from.
     */
    async createNetwork(): Promise<void> {
        await podmanOk(["network", "create", "--disable-dns", "--label", this.label(), this.network]);
        const subnet = (
            await podmanOk(["network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}} {{end}}", this.network])
        )
            .trim()
            .split(" ")[0];
        const match = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet);
        if (!match)
            throw new Error(`podman gave network ${this.network} the subnet ${subnet}; this harness expects a /24`);
        this.subnetPrefix = match[1];
        await podmanOk([
            "run",
            "-d",
            "--pull=never",
            "--name",
            this.anchor,
            "--label",
            this.label(),
            "--network",
            this.network,
            "--ip",
            `${this.subnetPrefix}.2`,
            "--entrypoint",
            "sleep",
            this.anchorImage,
            "infinity",
        ]);
    }

    /**
     * Starts every pod of the render not started yet, without waiting for one to be ready before the next, as
     * Kubernetes does. Pods that others wait for (their Service names in the others' SLURM_WAIT_FOR) are handed to
     * podman first: its creation of dozens of containers is serial, and the dependency chain should not queue behind
     * the compute nodes. Returns the names in the order started.
     */
    async startPending(): Promise<string[]> {
        const byName = new Map<string, PlannedPod>();
        for (const pod of this.pods())
            for (const name of this.aliases(pod)) if (!byName.has(name)) byName.set(name, pod);
        const pending = startOrder(
            this.pods().filter((p) => !this.started.has(p.podName)),
            byName,
        );
        await mapLimited(pending, PODMAN_RUN_PARALLEL, (pod) => this.run(pod));
        return pending.map((p) => p.podName);
    }

    /** The pod's container name, for `exec` and other podman calls. */
    containerOf(podName: string): string {
        return this.pod(podName).containerName;
    }

    /** Runs a command in a pod's container. */
    exec(podName: string, command: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
        return exec(this.containerOf(podName), command, timeoutMs);
    }

    /** Runs a shell command in a pod and returns stdout; rejects on a non-zero exit. */
    async sh(podName: string, script: string, timeoutMs = 120_000): Promise<string> {
        const r = await this.exec(podName, ["bash", "-c", script], timeoutMs);
        if (r.code !== 0)
            throw new Error(`${podName}: \`${script}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
        return r.stdout;
    }

    /** Sends a signal to the pod's main process (SIGKILL: the container dies, its volumes stay). */
    async kill(podName: string, signal = "KILL"): Promise<void> {
        await podmanOk(["kill", "--signal", signal, this.pod(podName).containerName]);
        await podmanOk(["wait", this.pod(podName).containerName], { timeoutMs: 180_000 });
    }

    /** Stops a pod's container gracefully (SIGTERM, then its grace period). */
    async stop(podName: string): Promise<void> {
        // Beyond the pod's grace period (30 s), podman itself may be slow on a loaded machine.
        await podmanOk(["stop", this.pod(podName).containerName], { timeoutMs: 180_000 });
    }

    /** Starts a stopped pod's container again: same hostname, volumes and mounts, as kubelet restarts a container. */
    async start(podName: string): Promise<void> {
        await podmanOk(["start", this.pod(podName).containerName]);
    }

    /** `running`, `exited`, ...; and when it started, to tell a restart. */
    async state(podName: string): Promise<{ status: string; startedAt: string; exitCode: number }> {
        const out = await podmanOk([
            "inspect",
            "--format",
            "{{.State.Status}}|{{.State.StartedAt}}|{{.State.ExitCode}}",
            this.pod(podName).containerName,
        ]);
        const [status, startedAt, exitCode] = out.trim().split("|");
        return { status, startedAt, exitCode: Number(exitCode) };
    }

    /** Checks a pod's readiness and liveness probes as kubelet would run them; returns the failures. */
    async probeFailures(podName: string): Promise<string[]> {
        const pod = this.pod(podName);
        const failures: string[] = [];
        for (const container of pod.spec.containers) {
            for (const kind of ["readinessProbe", "livenessProbe"]) {
                const probe = container[kind];
                if (!probe) continue;
                const result = await runProbe(probe, pod.containerName, this.addressOf(pod.podName), this.anchor);
                if (result === undefined) continue;
                if (result.code !== 0)
                    failures.push(`${podName} ${kind} failed (exit ${result.code}): ${result.stderr.trim()}`);
            }
        }
        return failures;
    }

    /**
     * The last lines containers logged, for a failing test's report: every pod but the compute nodes, and of
     * those the first three and any that is not running.
     */
    async logs(lines = 30): Promise<string> {
        const parts: string[] = [];
        const started = this.pods().filter((p) => this.started.has(p.podName));
        const computes = started.filter((p) => p.owner === "StatefulSet/compute");
        for (const p of started) {
            if (
                p.owner === "StatefulSet/compute" &&
                computes.indexOf(p) >= 3 &&
                (await this.state(p.podName)).status === "running"
            )
                continue;
            const r = await podman(["logs", "--tail", String(lines), p.containerName]);
            parts.push(`--- ${p.podName} ---\n${r.stdout}${r.stderr}`);
        }
        return parts.join("\n");
    }

    /**
     * Removes every container, volume and the network this lab made, each step whatever the others did; then
     * checks that nothing labelled for this run is left, and throws naming what is.
     */
    async destroy(): Promise<void> {
        const filter = ["--filter", `label=${this.label()}`];
        const list = async (args: string[]) => (await podman([...args, ...filter])).stdout.split("\n").filter(Boolean);
        const ids = await list(["ps", "-aq"]);
        // Generous: removing dozens of containers on a loaded machine takes a while, and only a hang reaches it.
        if (ids.length) await podman(["rm", "-f", "-t", "0", ...ids], { timeoutMs: 600_000 });
        const volumes = await list(["volume", "ls", "-q"]);
        if (volumes.length) await podman(["volume", "rm", "-f", ...volumes], { timeoutMs: 300_000 });
        await podman(["network", "rm", "-f", this.network]);
        fs.rmSync(this.workDir, { recursive: true, force: true });
        this.started.clear();
        const left = [
            ...(await list(["ps", "-a", "--format", "container {{.Names}}"])),
            ...(await list(["volume", "ls", "--format", "volume {{.Name}}"])),
            ...((await podman(["network", "exists", this.network])).code === 0 ? [`network ${this.network}`] : []),
        ];
        if (left.length) throw new Error(`lab ${this.runId} could not remove: ${left.join(", ")}`);
    }

    /** The pod's address on the lab network, which the host reaches directly (podman's bridge), as a client would. */
    address(podName: string): string {
        return this.addressOf(this.pod(podName).podName);
    }

    /** The pod's fixed address on the lab network, assigned when first asked for and kept across re-renders. */
    private addressOf(podName: string): string {
        if (!this.addresses.has(podName)) {
            if (this.addresses.size >= 240) throw new Error("this harness gives out at most 240 pod addresses");
            this.addresses.set(podName, `${this.subnetPrefix}.${10 + this.addresses.size}`);
        }
        return this.addresses.get(podName)!;
    }

    /** `--add-host` for every name a Service gives any pod of the render (the first pod, for a shared name). */
    private hostArgs(): string[] {
        const hosts = new Map<string, string>();
        for (const pod of this.pods()) {
            for (const name of this.aliases(pod)) if (!hosts.has(name)) hosts.set(name, this.addressOf(pod.podName));
        }
        return [...hosts].flatMap(([name, ip]) => ["--add-host", `${name}:${ip}`]);
    }

    private label(): string {
        return `ai-hyperscaler-e2e=${this.runId}`;
    }

    private planned(podName: string, owner: string, template: Obj): PlannedPod {
        return {
            podName,
            owner,
            containerName: `${this.runId}-${podName}`,
            spec: { ...template.spec, metadata: template.metadata },
        };
    }

    private find(kind: string, name: string): Obj {
        const found = this.objects.find((o) => o.kind === kind && o.metadata.name === name);
        if (!found) throw new Error(`the render has no ${kind} ${name}`);
        return found;
    }

    /** The DNS names Services give a pod. */
    private aliases(pod: PlannedPod): string[] {
        const labels: Record<string, string> = pod.spec.metadata?.labels ?? {};
        const owner = pod.owner.startsWith("StatefulSet/") ? this.find("StatefulSet", pod.owner.slice(12)) : undefined;
        const names: string[] = [];
        for (const svc of this.objects.filter((o) => o.kind === "Service")) {
            const selector: Record<string, string> = svc.spec.selector ?? {};
            if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
            const ns = svc.metadata.namespace;
            const name = svc.metadata.name;
            // Any Service's name resolves to its pods (a ClusterIP Service's through a virtual IP, a headless one's
            // directly); a headless Service also names each pod it governs: `<hostname>.<service>`.
            names.push(name, `${name}.${ns}`, `${name}.${ns}.svc.cluster.local`);
            if (svc.spec.clusterIP === "None" && (owner?.spec.serviceName === name || pod.spec.subdomain === name)) {
                const host = hostnameOf(pod);
                names.push(`${host}.${name}`, `${host}.${name}.${ns}.svc.cluster.local`);
            }
        }
        return names;
    }

    private async run(pod: PlannedPod): Promise<void> {
        if (pod.spec.containers.length !== 1)
            throw new Error(`${pod.podName}: this harness runs single-container pods`);
        const container = pod.spec.containers[0];
        const image = this.images(container.image);
        if (!image) throw new Error(`${pod.podName}: no local image for ${container.image}`);
        const args = [
            "run",
            "-d",
            "--pull=never",
            "--name",
            pod.containerName,
            "--label",
            this.label(),
            "--hostname",
            hostnameOf(pod),
            "--network",
            this.network,
            "--ip",
            this.addressOf(pod.podName),
            // A fixed MAC too: a restarted container would otherwise come back with a new one, and its peers'
            // stale ARP entries would drop its packets for ~45 s (Kubernetes gives a new pod a new address).
            "--mac-address",
            macFor(this.addressOf(pod.podName)),
            ...this.hostArgs(),
            "--stop-timeout",
            String(pod.spec.terminationGracePeriodSeconds ?? 30),
            ...this.podArgs.security(pod, container),
            ...this.podArgs.resources(container),
            ...this.podArgs.env(pod, container),
            ...(await this.podArgs.volumes(pod, container)),
            ...(container.command ? ["--entrypoint", JSON.stringify(container.command)] : []),
            image,
            ...(container.args ?? []),
        ];
        await podmanOk(args);
        this.started.add(pod.podName);
    }
}

/** A locally administered MAC address derived from an IPv4 address, so that one stays with the other. */
function macFor(ip: string): string {
    return ["02", "00", ...ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0"))].join(":");
}

/** A pod's hostname: the spec's `hostname`, else its name (as Kubernetes does). */
function hostnameOf(pod: PlannedPod): string {
    return pod.spec.hostname ?? pod.podName;
}

function walk(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))
        .sort();
}
