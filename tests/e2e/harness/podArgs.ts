/**
 * What kubelet would do with a pod spec, as `podman run` arguments: ConfigMap and Secret volumes laid out as kubelet
 * lays them out (files behind a `..data` symlink, with the declared modes; placeholder secret values replaced by real
 * random ones), emptyDirs, volumeClaimTemplates as named volumes that outlive the container (like PVCs), env, the
 * security context and the resource limits.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { podman, podmanOk } from "./podman";

type Obj = Record<string, any>;

/** The part of a planned pod these arguments need. */
export interface PodOfRender {
    readonly podName: string;
    readonly owner: string;
    readonly spec: Obj;
}
type PlannedPod = PodOfRender;

const PLACEHOLDER_TEXT = /PLACEHOLDER[A-Za-z0-9]*/g;

/** Builds `podman run` arguments for the pods of one lab. */
export class PodArgs {
    private readonly secretValues = new Map<string, string>();

    /**
     * @param runId  prefixes the named volumes
     * @param workDir  host folder for the mounted ConfigMap, Secret and emptyDir files
     * @param label  `key=value` put on every volume, for cleanup
     * @param find  the render's object of a kind and name; throws when there is none
     */
    constructor(
        private readonly runId: string,
        private readonly workDir: string,
        private readonly label: string,
        private readonly find: (kind: string, name: string) => Obj,
    ) {}

    /** Secret values with placeholders replaced by real random ones, the same value wherever one placeholder recurs. */
    realSecretData(secret: Obj): Record<string, Buffer> {
        const out: Record<string, Buffer> = {};
        for (const [key, text] of Object.entries<string>(secret.stringData ?? {})) {
            out[key] = Buffer.from(
                text.replace(PLACEHOLDER_TEXT, (p) =>
                    this.randomFor(p, () =>
                        randomBytes(24)
                            .toString("base64")
                            .replace(/[^A-Za-z0-9]/g, "")
                            .slice(0, 24)
                            .padEnd(24, "x"),
                    ),
                ),
            );
        }
        for (const [key, b64] of Object.entries<string>(secret.data ?? {})) {
            const decoded = Buffer.from(b64, "base64");
            out[key] = decoded.includes("PLACEHOLDER")
                ? Buffer.from(
                      this.randomFor(b64, () => randomBytes(decoded.length).toString("base64")),
                      "base64",
                  )
                : decoded;
        }
        return out;
    }

    private randomFor(placeholder: string, make: () => string): string {
        if (!this.secretValues.has(placeholder)) this.secretValues.set(placeholder, make());
        return this.secretValues.get(placeholder)!;
    }

    /** A ConfigMap or Secret volume as kubelet lays it out: `..<timestamp>/` files, a `..data` link, a link per key. */
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

    async volumes(pod: PlannedPod, container: Obj): Promise<string[]> {
        const args: string[] = [];
        const volumes: Obj[] = pod.spec.volumes ?? [];
        const owner = pod.owner.startsWith("StatefulSet/") ? this.find("StatefulSet", pod.owner.slice(12)) : undefined;
        for (const mount of container.volumeMounts ?? []) {
            const ro = mount.readOnly ? ":ro" : "";
            const volume = volumes.find((v) => v.name === mount.name);
            if (volume?.configMap) {
                const data = this.find("ConfigMap", volume.configMap.name).data ?? {};
                const files = Object.fromEntries(Object.entries<string>(data).map(([k, v]) => [k, Buffer.from(v)]));
                args.push(
                    "-v",
                    `${this.projectedDir(pod, mount.name, files, volume.configMap.defaultMode ?? 0o644)}:${mount.mountPath}${ro}`,
                );
            } else if (volume?.secret) {
                const files = this.realSecretData(this.find("Secret", volume.secret.secretName));
                args.push(
                    "-v",
                    `${this.projectedDir(pod, mount.name, files, volume.secret.defaultMode ?? 0o644)}:${mount.mountPath}${ro}`,
                );
            } else if (volume?.emptyDir) {
                const dir = path.join(this.workDir, pod.podName, mount.name);
                fs.mkdirSync(dir, { recursive: true });
                args.push("-v", `${dir}:${mount.mountPath}${ro}`);
            } else if (owner?.spec.volumeClaimTemplates?.some((t: Obj) => t.metadata.name === mount.name)) {
                // A PVC: a named volume that survives the container, as a claim survives its pod.
                const name = `${this.runId}-${mount.name}-${pod.podName}`;
                if ((await podman(["volume", "exists", name])).code !== 0) {
                    await podmanOk(["volume", "create", "--label", this.label, name]);
                    const fsGroup = pod.spec.securityContext?.fsGroup;
                    if (fsGroup !== undefined) {
                        // kubelet's fsGroup: the volume's group becomes fsGroup, group-writable, setgid.
                        const mountpoint = (
                            await podmanOk(["volume", "inspect", "--format", "{{.Mountpoint}}", name])
                        ).trim();
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

    env(pod: PlannedPod, container: Obj): string[] {
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

    security(pod: PlannedPod, container: Obj): string[] {
        const podContext: Obj = pod.spec.securityContext ?? {};
        const context: Obj = { ...podContext, ...(container.securityContext ?? {}) };
        const args: string[] = [];
        if (context.runAsUser !== undefined) {
            if (context.runAsNonRoot && context.runAsUser === 0)
                throw new Error(`${pod.podName}: runAsNonRoot with runAsUser 0`);
            args.push(
                "--user",
                context.runAsGroup !== undefined
                    ? `${context.runAsUser}:${context.runAsGroup}`
                    : String(context.runAsUser),
            );
        }
        if (podContext.fsGroup !== undefined) args.push("--group-add", String(podContext.fsGroup));
        if (context.privileged) args.push("--privileged");
        for (const cap of context.capabilities?.drop ?? [])
            args.push("--cap-drop", cap.toLowerCase() === "all" ? "all" : cap);
        for (const cap of context.capabilities?.add ?? []) args.push("--cap-add", cap);
        if (context.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
        if (context.readOnlyRootFilesystem) args.push("--read-only");
        return args;
    }

    resources(container: Obj): string[] {
        const limits: Obj = container.resources?.limits ?? {};
        const args: string[] = [];
        if (limits.memory) args.push("--memory", toBytes(limits.memory));
        if (limits.cpu) args.push("--cpus", String(toCpus(limits.cpu)));
        return args;
    }
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
