/**
 * Renders the kind cluster configuration (`kind.x-k8s.io/v1alpha4` Cluster) for the lab.
 *
 * Pure: no Pulumi, no I/O. The output is what the kind provider writes to `--config` and what Pulumi diffs to
 * decide whether the cluster must be replaced, so the same settings must always give the same bytes.
 */
import { stringify } from "yaml";
import { check, dnsLabel, kindNodeImage } from "../../config/rules";
import type { PortMapping } from "../../config/schema";

/** What the kind config is made from. */
export interface KindConfigArgs {
    /** Kind cluster name (also the kubeconfig context `kind-<name>`). Required; a DNS-1123 label, <= 32 characters. */
    readonly clusterName: string;
    /** Worker nodes besides the control plane. Required; 0 to 100 (0 runs workloads on the control plane). */
    readonly workers: number;
    /** How many of the workers (the first ones) get the NVIDIA device mount. Required; 0 to `workers`. */
    readonly gpuWorkers: number;
    /**
     * Image of every node: pinned by digest (`kindest/node:vX.Y.Z@sha256:...`, or a mirror's copy), or a local
     * `localhost/<name>:<tag>` (see `kindNodeImage` in config/rules.ts). Required.
     */
    readonly nodeImage: string;
    /** Host ports published by the control-plane node, in order. Required; may be empty. */
    readonly portMappings: readonly PortMapping[];
}

/**
 * The nvkind way of giving a node the host's GPUs: with `accept-nvidia-visible-devices-as-volume-mounts = true`
 * in the host's nvidia-container-runtime config, a mount at this path makes the runtime inject every GPU.
 * The host side is a dummy: only the container path carries meaning.
 */
export const GPU_DEVICES_MOUNT = {
    hostPath: "/dev/null",
    containerPath: "/var/run/nvidia-container-devices/all",
} as const;

const MAX_CLUSTER_NAME_LENGTH = 32;
const MAX_WORKERS = 100;
const PROTOCOLS: readonly string[] = ["TCP", "UDP", "SCTP"];

/**
 * Everything wrong with `args`, one line each (`field = value: what is allowed`); empty when they are usable.
 * Config validation already enforces these; the components check again because they can be used without it.
 */
export function kindConfigProblems(args: KindConfigArgs): string[] {
    const problems: string[] = [];
    const say = (field: string, value: unknown, rule: string) => problems.push(`${field} = ${show(value)}: ${rule}`);

    problems.push(...check("clusterName", args.clusterName, dnsLabel(MAX_CLUSTER_NAME_LENGTH)));
    if (!isWholeNumber(args.workers, 0, MAX_WORKERS)) {
        say("workers", args.workers, `must be a whole number from 0 to ${MAX_WORKERS}`);
    }
    const maxGpuWorkers = isWholeNumber(args.workers, 0, MAX_WORKERS) ? args.workers : MAX_WORKERS;
    if (!isWholeNumber(args.gpuWorkers, 0, maxGpuWorkers)) {
        say("gpuWorkers", args.gpuWorkers, `must be a whole number from 0 to workers (${show(args.workers)})`);
    }
    // Pinned: a node image that moves under its tag changes the cluster.
    problems.push(...check("nodeImage", args.nodeImage, kindNodeImage));
    if (!Array.isArray(args.portMappings)) {
        say("portMappings", args.portMappings, "must be a list of port mappings");
    } else {
        args.portMappings.forEach((m, i) => {
            const at = `portMappings[${i}]`;
            if (!isWholeNumber(m?.containerPort, 1, 65535))
                say(`${at}.containerPort`, m?.containerPort, "must be a whole number from 1 to 65535");
            if (!isWholeNumber(m?.hostPort, 1, 65535))
                say(`${at}.hostPort`, m?.hostPort, "must be a whole number from 1 to 65535");
            if (!PROTOCOLS.includes(m?.protocol))
                say(`${at}.protocol`, m?.protocol, `must be one of ${PROTOCOLS.join(", ")}`);
            if (typeof m?.listenAddress !== "string" || m.listenAddress.trim() === "") {
                say(`${at}.listenAddress`, m?.listenAddress, "must be a host address such as 127.0.0.1");
            }
        });
    }
    return problems;
}

/**
 * The kind config as YAML. Throws, naming every bad field, if {@link kindConfigProblems} finds any.
 *
 * Layout: one control-plane node carrying the port mappings, then `workers` worker nodes of which the first
 * `gpuWorkers` carry {@link GPU_DEVICES_MOUNT}; every node runs `nodeImage`.
 */
export function renderKindConfig(args: KindConfigArgs): string {
    const problems = kindConfigProblems(args);
    if (problems.length > 0) {
        throw new Error(`Invalid kind cluster settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    // Objects are built key by key (never spread from the input) so key order, and thus the bytes, never vary.
    const controlPlane: Record<string, unknown> = { role: "control-plane", image: args.nodeImage };
    if (args.portMappings.length > 0) {
        controlPlane.extraPortMappings = args.portMappings.map((m) => ({
            containerPort: m.containerPort,
            hostPort: m.hostPort,
            listenAddress: m.listenAddress,
            protocol: m.protocol,
        }));
    }
    const workers = Array.from({ length: args.workers }, (_, i) => {
        const worker: Record<string, unknown> = { role: "worker", image: args.nodeImage };
        if (i < args.gpuWorkers) {
            worker.extraMounts = [
                { hostPath: GPU_DEVICES_MOUNT.hostPath, containerPath: GPU_DEVICES_MOUNT.containerPath },
            ];
        }
        return worker;
    });
    const config = {
        kind: "Cluster",
        apiVersion: "kind.x-k8s.io/v1alpha4",
        name: args.clusterName,
        nodes: [controlPlane, ...workers],
    };
    // kind reads YAML 1.1, where a plain `yes`/`on`/`no` is a boolean: version 1.1 quotes such strings.
    // lineWidth 0: never fold a long value (an image digest) across lines.
    return stringify(config, { version: "1.1", lineWidth: 0 });
}

/** What a running kind cluster made from these settings looks like from Docker; compared before adopting one. */
export interface KindClusterShape {
    /** Worker node containers (role `worker`); the control plane is always one. */
    readonly workers: number;
    /**
     * The control plane's published ports, one per mapping, as `hostIp:hostPort->containerPort/protocol`
     * (`127.0.0.1:8080->30080/tcp`, IPv6 hosts in brackets): the bindings `docker inspect` records.
     */
    readonly publishedPorts: readonly string[];
}

/** The {@link KindClusterShape} of `args`. */
export function kindClusterShape(args: KindConfigArgs): KindClusterShape {
    return {
        workers: args.workers,
        publishedPorts: args.portMappings.map((m) => {
            const host = m.listenAddress.includes(":") ? `[${m.listenAddress}]` : m.listenAddress;
            return `${host}:${m.hostPort}->${m.containerPort}/${m.protocol.toLowerCase()}`;
        }),
    };
}

function isWholeNumber(value: unknown, min: number, max: number): value is number {
    return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function show(value: unknown): string {
    return value === undefined ? "(missing)" : JSON.stringify(value);
}
