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
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { podman, podmanOk, CommandResult } from "./podman";

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

/** How rendered images map to images that exist here. */
export type ImageMap = Readonly<Record<string, string>>;

const PLACEHOLDER_TEXT = /PLACEHOLDER[A-Za-z0-9]*/g;

export class PodmanLab {
    private objects: Obj[] = [];
    private readonly secretValues = new Map<string, string>();
    private readonly started = new Set<string>();
    private readonly addresses = new Map<string, string>();
    private subnetPrefix = "";
    private readonly network: string;
    private readonly anchor: string;

    /**
     * @param runId  unique per run: prefixes every container, volume and network, and labels them for cleanup
     * @param workDir  host folder for the mounted ConfigMap and Secret files
     * @param images  rendered image → local image
     */
    constructor(
        readonly runId: string,
        private readonly workDir: string,
        private readonly images: ImageMap,
    ) {
        this.network = `${runId}-net`;
        this.anchor = `${runId}-anchor`;
    }

    /** Reads (again) every Kubernetes object of a render folder. */
    load(renderDir: string): void {
        const files = walk(renderDir).filter((f) => f.endsWith(".yaml") && !/helm-release\.|kind-config\.|cert-manager\./.test(f));
        this.objects = files.map((f) => parse(fs.readFileSync(f, "utf8")) as Obj);
    }

    /** Every pod the loaded render declares, in a stable order. */
    pods(): PlannedPod[] {
        const pods: PlannedPod[] = [];
        for (const o of this.objects) {
            if (o.kind === "StatefulSet") {
                for (let i = 0; i < (o.spec.replicas ?? 1); i++) pods.push(this.planned(`${o.metadata.name}-${i}`, `StatefulSet/${o.metadata.name}`, o.spec.template));
            } else if (o.kind === "Deployment") {
                for (let i = 0; i < (o.spec.replicas ?? 1); i++) pods.push(this.planned(`${o.metadata.name}-e2e${i}`, `Deployment/${o.metadata.name}`, o.spec.template));
            }
        }
        return pods.sort((a, b) => a.podName.localeCompare(b.podName));
    }

    /** The pod called `podName`; throws when the render has none. */
    pod(podName: string): PlannedPod {
        const found = this.pods().find((p) => p.podName === podName);
        if (!found) throw new Error(`the render has no pod ${podName}; it has ${this.pods().map((p) => p.podName).join(", ")}`);
        return found;
    }

    /**
     * Creates the network (no DNS server: names come from /etc/hosts) and an anchor container that probes run
     * from.
     */
    async createNetwork(): Promise<void> {
        await podmanOk(["network", "create", "--disable-dns", "--label", this.label(), this.network]);
        const subnet = (await podmanOk(["network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}} {{end}}", this.network])).trim().split(" ")[0];
        const match = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet);
        if (!match) throw new Error(`podman gave network ${this.network} the subnet ${subnet}; this harness expects a /24`);
        this.subnetPrefix = match[1];
        const image = Object.values(this.images)[0];
        await podmanOk(["run", "-d", "--pull=never", "--name", this.anchor, "--label", this.label(), "--network", this.network, "--ip", `${this.subnetPrefix}.2`, "--entrypoint", "sleep", image, "infinity"]);
    }

    /** Starts every pod of the render not started yet, all at once. Returns their names. */
    async startPending(): Promise<string[]> {
        const pending = this.pods().filter((p) => !this.started.has(p.podName));
        await Promise.all(pending.map((p) => this.run(p)));
        return pending.map((p) => p.podName);
    }

    /** Runs a command in a pod's container. */
    exec(podName: string, command: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
        return podman(["exec", this.pod(podName).containerName, ...command], { timeoutMs });
    }

    /** Runs a shell command in a pod and returns stdout; rejects on a non-zero exit. */
    async sh(podName: string, script: string, timeoutMs = 60_000): Promise<string> {
        const r = await this.exec(podName, ["bash", "-c", script], timeoutMs);
        if (r.code !== 0) throw new Error(`${podName}: \`${script}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
        return r.stdout;
    }

    /** Sends a signal to the pod's main process (SIGKILL: the container dies, its volumes stay). */
    async kill(podName: string, signal = "KILL"): Promise<void> {
        await podmanOk(["kill", "--signal", signal, this.pod(podName).containerName]);
        await podmanOk(["wait", this.pod(podName).containerName], { timeoutMs: 60_000 });
    }

    /** Stops a pod's container gracefully (SIGTERM, then its grace period). */
    async stop(podName: string): Promise<void> {
        await podmanOk(["stop", this.pod(podName).containerName], { timeoutMs: 90_000 });
    }

    /** Starts a stopped pod's container again: same hostname, volumes and mounts, as kubelet restarts a container. */
    async start(podName: string): Promise<void> {
        await podmanOk(["start", this.pod(podName).containerName]);
    }

    /** `running`, `exited`, ...; and when it started, to tell a restart. */
    async state(podName: string): Promise<{ status: string; startedAt: string; exitCode: number }> {
        const out = await podmanOk(["inspect", "--format", "{{.State.Status}}|{{.State.StartedAt}}|{{.State.ExitCode}}", this.pod(podName).containerName]);
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
                let result: CommandResult;
                if (probe.exec) {
                    result = await podman(["exec", pod.containerName, ...probe.exec.command], { timeoutMs: (probe.timeoutSeconds ?? 1) * 1000 + 5000 });
                } else if (probe.tcpSocket) {
                    const script = `timeout ${probe.timeoutSeconds ?? 1} bash -c '</dev/tcp/${this.addressOf(pod.podName)}/${probe.tcpSocket.port}'`;
                    result = await podman(["exec", this.anchor, "bash", "-c", script]);
                } else {
                    continue;
                }
                if (result.code !== 0) failures.push(`${podName} ${kind} failed (exit ${result.code}): ${result.stderr.trim()}`);
            }
        }
        return failures;
    }

    /** The last lines each container logged, for a failing test's report. */
    async logs(lines = 30): Promise<string> {
        const parts: string[] = [];
        for (const p of this.pods().filter((p) => this.started.has(p.podName))) {
            const r = await podman(["logs", "--tail", String(lines), p.containerName]);
            parts.push(`--- ${p.podName} ---\n${r.stdout}${r.stderr}`);
        }
        return parts.join("\n");
    }

    /** Removes every container, volume and the network this lab made. */
    async destroy(): Promise<void> {
        const filter = ["--filter", `label=${this.label()}`];
        const ids = (await podman(["ps", "-aq", ...filter])).stdout.split("\n").filter(Boolean);
        if (ids.length) await podman(["rm", "-f", "-t", "0", ...ids], { timeoutMs: 120_000 });
        const volumes = (await podman(["volume", "ls", "-q", ...filter])).stdout.split("\n").filter(Boolean);
        if (volumes.length) await podman(["volume", "rm", "-f", ...volumes]);
        await podman(["network", "rm", "-f", this.network]);
        fs.rmSync(this.workDir, { recursive: true, force: true });
        this.started.clear();
    }

    // -----------------------------------------------------------------------------------------------------------

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
        return { podName, owner, containerName: `${this.runId}-${podName}`, spec: { ...template.spec, metadata: template.metadata } };
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

    /** Secret values with placeholders replaced by real random ones, the same value wherever one placeholder recurs. */
    private realSecretData(secret: Obj): Record<string, Buffer> {
        const out: Record<string, Buffer> = {};
        for (const [key, text] of Object.entries<string>(secret.stringData ?? {})) {
            out[key] = Buffer.from(text.replace(PLACEHOLDER_TEXT, (p) => this.randomFor(p, () => randomBytes(24).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 24).padEnd(24, "x"))));
        }
        for (const [key, b64] of Object.entries<string>(secret.data ?? {})) {
            const decoded = Buffer.from(b64, "base64");
            out[key] = decoded.includes("PLACEHOLDER")
                ? Buffer.from(this.randomFor(b64, () => randomBytes(decoded.length).toString("base64")), "base64")
                : decoded;
        }
        return out;
    }

    private randomFor(placeholder: string, make: () => string): string {
        if (!this.secretValues.has(placeholder)) this.secretValues.set(placeholder, make());
        return this.secretValues.get(placeholder)!;
    }

    /** Lays out a ConfigMap or Secret volume as kubelet does: `..<timestamp>/` files, `..data` link, one link per key. */
    private projectedDir(pod: PlannedPod, volumeName: string, files: Record<string, Buffer>, mode: number): string {
        const dir = path.join(this.workDir, pod.podName, volumeName);
        fs.rmSync(dir, { recursive: true, force: true });
        const stamp = "..2026_01_01_00_00_00.000000000";
        fs.mkdirSync(path.join(dir, stamp), { recursive: true });
        for (const [key, content] of Object.entries(files)) {
            fs.writeFileSync(path.join(dir, stamp, key), content, { mode });
            fs.chmodSync(path.join(dir, stamp, key), mode);
            fs.symlinkSync(path.join("..data", key), path.join(dir, key));
        }
        fs.symlinkSync(stamp, path.join(dir, "..data"));
        return dir;
    }

    private async volumeArgs(pod: PlannedPod, container: Obj): Promise<string[]> {
        const args: string[] = [];
        const volumes: Obj[] = pod.spec.volumes ?? [];
        const owner = pod.owner.startsWith("StatefulSet/") ? this.find("StatefulSet", pod.owner.slice(12)) : undefined;
        for (const mount of container.volumeMounts ?? []) {
            const ro = mount.readOnly ? ":ro" : "";
            const volume = volumes.find((v) => v.name === mount.name);
            if (volume?.configMap) {
                const data = this.find("ConfigMap", volume.configMap.name).data ?? {};
                const files = Object.fromEntries(Object.entries<string>(data).map(([k, v]) => [k, Buffer.from(v)]));
                args.push("-v", `${this.projectedDir(pod, mount.name, files, volume.configMap.defaultMode ?? 0o644)}:${mount.mountPath}${ro}`);
            } else if (volume?.secret) {
                const files = this.realSecretData(this.find("Secret", volume.secret.secretName));
                args.push("-v", `${this.projectedDir(pod, mount.name, files, volume.secret.defaultMode ?? 0o644)}:${mount.mountPath}${ro}`);
            } else if (volume?.emptyDir) {
                const dir = path.join(this.workDir, pod.podName, mount.name);
                fs.mkdirSync(dir, { recursive: true });
                args.push("-v", `${dir}:${mount.mountPath}${ro}`);
            } else if (owner?.spec.volumeClaimTemplates?.some((t: Obj) => t.metadata.name === mount.name)) {
                // A PVC: a named volume that survives the container, as a claim survives its pod.
                const name = `${this.runId}-${mount.name}-${pod.podName}`;
                if ((await podman(["volume", "exists", name])).code !== 0) {
                    await podmanOk(["volume", "create", "--label", this.label(), name]);
                    const fsGroup = pod.spec.securityContext?.fsGroup;
                    if (fsGroup !== undefined) {
                        // kubelet's fsGroup: the volume's group becomes fsGroup, group-writable, setgid.
                        const mountpoint = (await podmanOk(["volume", "inspect", "--format", "{{.Mountpoint}}", name])).trim();
                        fs.chownSync(mountpoint, 0, fsGroup);
                        fs.chmodSync(mountpoint, 0o2775);
                    }
                }
                args.push("-v", `${name}:${mount.mountPath}${ro}`);
            } else {
                throw new Error(`${pod.podName}: volume ${mount.name} has a source this harness does not emulate`);
            }
        }
        return args;
    }

    private envArgs(pod: PlannedPod, container: Obj): string[] {
        const args: string[] = [];
        for (const e of container.env ?? []) {
            let value: string;
            if (e.value !== undefined) value = String(e.value);
            else if (e.valueFrom?.secretKeyRef) {
                const ref = e.valueFrom.secretKeyRef;
                const data = this.realSecretData(this.find("Secret", ref.name));
                if (!data[ref.key]) throw new Error(`${pod.podName}: Secret ${ref.name} has no key ${ref.key}`);
                value = data[ref.key].toString();
            } else if (e.valueFrom?.configMapKeyRef) {
                value = this.find("ConfigMap", e.valueFrom.configMapKeyRef.name).data[e.valueFrom.configMapKeyRef.key];
            } else throw new Error(`${pod.podName}: env ${e.name} has a source this harness does not emulate`);
            args.push("--env", `${e.name}=${value}`);
        }
        return args;
    }

    private securityArgs(pod: PlannedPod, container: Obj): string[] {
        const podContext: Obj = pod.spec.securityContext ?? {};
        const context: Obj = { ...podContext, ...(container.securityContext ?? {}) };
        const args: string[] = [];
        if (context.runAsUser !== undefined) {
            if (context.runAsNonRoot && context.runAsUser === 0) throw new Error(`${pod.podName}: runAsNonRoot with runAsUser 0`);
            args.push("--user", context.runAsGroup !== undefined ? `${context.runAsUser}:${context.runAsGroup}` : String(context.runAsUser));
        }
        if (podContext.fsGroup !== undefined) args.push("--group-add", String(podContext.fsGroup));
        if (context.privileged) args.push("--privileged");
        for (const cap of context.capabilities?.drop ?? []) args.push("--cap-drop", cap.toLowerCase() === "all" ? "all" : cap);
        for (const cap of context.capabilities?.add ?? []) args.push("--cap-add", cap);
        if (context.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
        if (context.readOnlyRootFilesystem) args.push("--read-only");
        return args;
    }

    private resourceArgs(container: Obj): string[] {
        const limits: Obj = container.resources?.limits ?? {};
        const args: string[] = [];
        if (limits.memory) args.push("--memory", toBytes(limits.memory));
        if (limits.cpu) args.push("--cpus", String(toCpus(limits.cpu)));
        return args;
    }

    private async run(pod: PlannedPod): Promise<void> {
        if (pod.spec.containers.length !== 1) throw new Error(`${pod.podName}: this harness runs single-container pods`);
        const container = pod.spec.containers[0];
        const image = this.images[container.image];
        if (!image) throw new Error(`${pod.podName}: no local image for ${container.image}`);
        const args = [
            "run", "-d", "--pull=never",
            "--name", pod.containerName,
            "--label", this.label(),
            "--hostname", hostnameOf(pod),
            "--network", this.network,
            "--ip", this.addressOf(pod.podName),
            // A fixed MAC too: a restarted container would otherwise come back with a new one, and its peers'
            // stale ARP entries would drop its packets for ~45 s (Kubernetes gives a new pod a new address).
            "--mac-address", macFor(this.addressOf(pod.podName)),
            ...this.hostArgs(),
            "--stop-timeout", String(pod.spec.terminationGracePeriodSeconds ?? 30),
            ...this.securityArgs(pod, container),
            ...this.resourceArgs(container),
            ...this.envArgs(pod, container),
            ...(await this.volumeArgs(pod, container)),
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
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)])).sort();
}

function toBytes(quantity: string): string {
    const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
    if (!m) throw new Error(`memory quantity ${quantity} is not understood by this harness`);
    const factor = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] as "Ki" | "Mi" | "Gi"] ?? 1;
    return String(Number(m[1]) * factor);
}

function toCpus(quantity: string): number {
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}
