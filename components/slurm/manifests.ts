/**
 * Pure builders of the static Slurm stack's Kubernetes objects (everything but the Secrets' values), as plain
 * objects: unit-tested and schema-validated without Pulumi, wrapped into resources by `SlurmCluster`.
 */
import type * as k8s from "@pulumi/kubernetes";
import { ComputeSettings, SlurmStorageSettings } from "../../config/schema";
import { renderNodeConf } from "./render";
import { DATABASE, MOUNTS, NAMES, PORTS, ROLES } from "./topology";
import { podSecurityLabels } from "../podSecurity";

type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;
type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type Probe = k8s.types.input.core.v1.Probe;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
type ResourceRequirements = k8s.types.input.core.v1.ResourceRequirements;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** A Kubernetes object as plain data; `kind` tells which. */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: ObjectMeta & { name: string };
    readonly [field: string]: unknown;
}

/** What the builders need besides the config. */
export interface SlurmManifestInput {
    /** Namespace of every object. */
    readonly namespace: string;
    /** Image of every Slurm role. */
    readonly image: string;
    /** MariaDB image (upstream, pinned). */
    readonly mariadbImage: string;
    /** Compute node shape and count. */
    readonly compute: ComputeSettings;
    /** Volume sizes and class. */
    readonly storage: SlurmStorageSettings;
    /** sha256 of the `slurm-config` ConfigMap's files: a change rolls the pods that mount it. */
    readonly slurmConfigChecksum: string;
    /** sha256 of slurmdbd.conf as rendered without its password: a change rolls slurmdbd. */
    readonly slurmdbdConfigChecksum: string;
}

/** MariaDB image: the upstream image's 11.8 LTS line. */
export const DEFAULT_MARIADB_IMAGE = "docker.io/library/mariadb:11.8";

/** Memory slurmd, slurmstepd and munged need on top of what a node offers to jobs. */
export const SLURMD_OVERHEAD_MIB = 256;

const ENTRYPOINT = "/usr/local/bin/entrypoint.sh";

/**
 * Linux capabilities each Slurm role keeps, all others dropped; each one was found necessary by removing it in
 * turn with the real daemons. CHOWN: the entrypoint gives the MUNGE key and spool directories to their users.
 * SETUID/SETGID: munged, slurmctld and slurmdbd run as their own users, and slurmd starts job steps as the
 * submitting user. KILL (slurmd): signal job processes of other users, e.g. on scancel. All are in the Pod
 * Security "baseline" set. Jobs of non-root users would also need SYS_NICE on slurmd (task/affinity binds their
 * CPUs), which "baseline" forbids: users submit as root from the login pod in this lab.
 */
export const CAPABILITIES: Readonly<Record<"controller" | "dbd" | "compute" | "login", readonly string[]>> = {
    controller: ["CHOWN", "SETGID", "SETUID"],
    dbd: ["CHOWN", "SETGID", "SETUID"],
    compute: ["CHOWN", "KILL", "SETGID", "SETUID"],
    login: ["CHOWN", "SETGID", "SETUID"],
};

/** Labels of one role's objects. */
export function labelsFor(role: string): Record<string, string> {
    return { ...selectorFor(role), "app.kubernetes.io/part-of": "ai-hyperscaler", "app.kubernetes.io/managed-by": "pulumi" };
}

/** The labels that select one role's pods. */
export function selectorFor(role: string): Record<string, string> {
    return { "app.kubernetes.io/name": "slurm", "app.kubernetes.io/component": role };
}

const meta = (input: SlurmManifestInput, name: string, role: string) => ({ name, namespace: input.namespace, labels: labelsFor(role) });

/** The namespace: Pod Security "baseline" enforced (the Slurm pods run as root with a few capabilities). */
export function namespaceObject(namespace: string): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name: namespace,
            labels: { "app.kubernetes.io/part-of": "ai-hyperscaler", ...podSecurityLabels("baseline", "restricted") },
        },
    };
}

const mib = (n: number) => `${n}Mi`;
const resources = (cpuRequest: string, memoryRequestMiB: number, cpuLimit: string, memoryLimitMiB: number): ResourceRequirements => ({
    requests: { cpu: cpuRequest, memory: mib(memoryRequestMiB) },
    limits: { cpu: cpuLimit, memory: mib(memoryLimitMiB) },
});

const tcpProbe = (port: number, periodSeconds: number, failureThreshold: number): Probe => ({
    tcpSocket: { port },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 3,
});

const execProbe = (role: string): Probe => ({
    exec: { command: [ENTRYPOINT, "probe", role] },
    periodSeconds: 10,
    timeoutSeconds: 8,
    failureThreshold: 3,
});

// The entrypoint waits up to SLURM_WAIT_TIMEOUT_SECONDS (300 s) for what its role needs: the startup probe
// allows 360 s so that liveness never kills a pod that is still waiting on a dependency.
const STARTUP_PERIOD_SECONDS = 5;
const STARTUP_FAILURE_THRESHOLD = 72;

/**
 * What each Slurm role's daemon needs up before it starts, as `host:port` of the Services: slurmctld exits on a first
 * start while slurmdbd is unreachable, slurmdbd needs its database, and slurmd and the client commands need slurmctld.
 */
export const WAIT_FOR: Readonly<Record<keyof typeof CAPABILITIES, string>> = {
    dbd: `${ROLES.mariadb}:${PORTS.mariadb}`,
    controller: `${ROLES.dbd}:${PORTS.slurmdbd}`,
    compute: `${ROLES.controller}:${PORTS.slurmctld}`,
    login: `${ROLES.controller}:${PORTS.slurmctld}`,
};

const slurmSecurityContext = (role: keyof typeof CAPABILITIES): SecurityContext => ({
    // Root only to hand the MUNGE key and spool directories to their users and start the daemons as theirs.
    runAsUser: 0,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"], add: [...CAPABILITIES[role]] },
});

const mungeKeyVolume: Volume = { name: "munge-key", secret: { secretName: NAMES.mungeKeySecret, defaultMode: 0o400 } };
const mungeKeyMount: VolumeMount = { name: "munge-key", mountPath: MOUNTS.mungeKeyDir, readOnly: true };
const slurmConfigVolume: Volume = { name: "slurm-config", configMap: { name: NAMES.configMap, defaultMode: 0o644 } };
const slurmConfigMount: VolumeMount = { name: "slurm-config", mountPath: MOUNTS.slurmConfigDir, readOnly: true };

function slurmPodSpec(input: SlurmManifestInput, role: keyof typeof CAPABILITIES, container: Partial<Container>, volumes: Volume[]): PodSpec {
    return {
        // Job processes and munged must not outlive a stop by much; slurmctld saves state on SIGTERM.
        terminationGracePeriodSeconds: 30,
        enableServiceLinks: false,
        securityContext: { seccompProfile: { type: "RuntimeDefault" } },
        containers: [
            {
                name: container.name ?? role,
                image: input.image,
                imagePullPolicy: "IfNotPresent",
                command: [ENTRYPOINT],
                // The entrypoint waits for these before the daemon starts (it no longer reads them from configs).
                env: [{ name: "SLURM_WAIT_FOR", value: WAIT_FOR[role] }],
                securityContext: slurmSecurityContext(role),
                ...container,
            },
        ],
        volumes,
    };
}

function podTemplate(role: string, annotations: Record<string, string>, spec: PodSpec) {
    return { metadata: { labels: labelsFor(role), annotations }, spec };
}

function clusterIpService(input: SlurmManifestInput, role: string, port: number): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(input, role, role),
        spec: { selector: selectorFor(role), ports: [{ name: role, port, targetPort: port, protocol: "TCP" }] },
    };
}

function volumeClaim(input: SlurmManifestInput, name: string, sizeGiB: number) {
    return {
        metadata: { name, labels: labelsFor(name) },
        spec: {
            accessModes: ["ReadWriteOnce"],
            ...(input.storage.storageClassName ? { storageClassName: input.storage.storageClassName } : {}),
            resources: { requests: { storage: `${sizeGiB}Gi` } },
        },
    };
}

function statefulSet(input: SlurmManifestInput, role: string, spec: Record<string, unknown>): KubeObject {
    return {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta(input, role, role),
        spec: { serviceName: role, selector: { matchLabels: selectorFor(role) }, ...spec },
    };
}

/** MariaDB: one replica on a persistent volume, credentials from the `mariadb-credentials` Secret. */
export function mariadbObjects(input: SlurmManifestInput): KubeObject[] {
    const env = [
        { name: "MARIADB_ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: NAMES.mariadbSecret, key: "root-password" } } },
        { name: "MARIADB_DATABASE", value: DATABASE.name },
        { name: "MARIADB_USER", value: DATABASE.user },
        { name: "MARIADB_PASSWORD", valueFrom: { secretKeyRef: { name: NAMES.mariadbSecret, key: "password" } } },
    ];
    // slurmdbd's recommended InnoDB settings; upstream's entrypoint passes `--key=value` arguments to mariadbd.
    const args = ["--innodb-buffer-pool-size=256M", "--innodb-lock-wait-timeout=900", "--innodb-log-file-size=64M"];
    return [
        clusterIpService(input, ROLES.mariadb, PORTS.mariadb),
        statefulSet(input, ROLES.mariadb, {
            replicas: 1,
            template: podTemplate(ROLES.mariadb, {}, {
                enableServiceLinks: false,
                // The upstream image runs as mysql (999) when started as it; fsGroup gives it the volume.
                securityContext: { runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                containers: [
                    {
                        name: ROLES.mariadb,
                        image: input.mariadbImage,
                        imagePullPolicy: "IfNotPresent",
                        args,
                        env,
                        ports: [{ name: "mysql", containerPort: PORTS.mariadb }],
                        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                        resources: resources("100m", 384, "1", 1024),
                        // The first start initialises the database before it listens; give it time.
                        startupProbe: tcpProbe(PORTS.mariadb, STARTUP_PERIOD_SECONDS, STARTUP_FAILURE_THRESHOLD),
                        readinessProbe: tcpProbe(PORTS.mariadb, 10, 3),
                        livenessProbe: tcpProbe(PORTS.mariadb, 20, 3),
                        volumeMounts: [{ name: "data", mountPath: MOUNTS.mariadbData }],
                    },
                ],
            }),
            volumeClaimTemplates: [volumeClaim(input, "data", input.storage.databaseSizeGiB)],
        }),
    ];
}

/** slurmdbd: one replica whose hostname is the `DbdHost` of slurmdbd.conf. */
export function slurmdbdObjects(input: SlurmManifestInput): KubeObject[] {
    return [
        clusterIpService(input, ROLES.dbd, PORTS.slurmdbd),
        statefulSet(input, ROLES.dbd, {
            replicas: 1,
            template: podTemplate(
                ROLES.dbd,
                { "checksum/slurmdbd-config": input.slurmdbdConfigChecksum },
                slurmPodSpec(
                    input,
                    "dbd",
                    {
                        name: ROLES.dbd,
                        args: [ROLES.dbd],
                        ports: [{ name: "slurmdbd", containerPort: PORTS.slurmdbd }],
                        resources: resources("50m", 128, "1", 512),
                        startupProbe: tcpProbe(PORTS.slurmdbd, STARTUP_PERIOD_SECONDS, STARTUP_FAILURE_THRESHOLD),
                        readinessProbe: execProbe(ROLES.dbd),
                        livenessProbe: tcpProbe(PORTS.slurmdbd, 20, 3),
                        volumeMounts: [mungeKeyMount, { name: "slurmdbd-config", mountPath: MOUNTS.slurmdbdSecretDir, readOnly: true }],
                    },
                    [mungeKeyVolume, { name: "slurmdbd-config", secret: { secretName: NAMES.slurmdbdSecret, defaultMode: 0o400 } }],
                ),
            ),
        }),
    ];
}

/** slurmctld: one replica, hostname `slurmctld-0` as slurm.conf names it, StateSaveLocation on a volume. */
export function slurmctldObjects(input: SlurmManifestInput): KubeObject[] {
    return [
        clusterIpService(input, ROLES.controller, PORTS.slurmctld),
        statefulSet(input, ROLES.controller, {
            replicas: 1,
            template: podTemplate(
                ROLES.controller,
                { "checksum/slurm-config": input.slurmConfigChecksum },
                slurmPodSpec(
                    input,
                    "controller",
                    {
                        name: ROLES.controller,
                        args: [ROLES.controller],
                        ports: [{ name: "slurmctld", containerPort: PORTS.slurmctld }],
                        resources: resources("100m", 256, "2", 2048),
                        startupProbe: tcpProbe(PORTS.slurmctld, STARTUP_PERIOD_SECONDS, STARTUP_FAILURE_THRESHOLD),
                        readinessProbe: execProbe(ROLES.controller),
                        livenessProbe: tcpProbe(PORTS.slurmctld, 20, 3),
                        volumeMounts: [mungeKeyMount, slurmConfigMount, { name: "state", mountPath: MOUNTS.stateSaveLocation }],
                    },
                    [mungeKeyVolume, slurmConfigVolume],
                ),
            ),
            volumeClaimTemplates: [volumeClaim(input, "state", input.storage.stateSizeGiB)],
        }),
    ];
}

/** The slurmd StatefulSet: `compute.replicas` dynamic nodes, and its headless Service. */
export function computeObjects(input: SlurmManifestInput): KubeObject[] {
    const { compute } = input;
    const memoryMiB = compute.memoryMiB + SLURMD_OVERHEAD_MIB;
    const gpus: Record<string, string> = compute.gpus > 0 ? { "nvidia.com/gpu": String(compute.gpus) } : {};
    return [
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: meta(input, ROLES.compute, ROLES.compute),
            spec: {
                clusterIP: "None",
                selector: selectorFor(ROLES.compute),
                ports: [{ name: "slurmd", port: PORTS.slurmd, targetPort: PORTS.slurmd, protocol: "TCP" }],
                // A node must be addressable while it registers, before it is ready.
                publishNotReadyAddresses: true,
            },
        },
        statefulSet(input, ROLES.compute, {
            replicas: compute.replicas,
            // Nodes are independent: start and stop them all at once rather than one by one.
            podManagementPolicy: "Parallel",
            template: podTemplate(
                ROLES.compute,
                { "checksum/slurm-config": input.slurmConfigChecksum },
                slurmPodSpec(
                    input,
                    "compute",
                    {
                        name: "slurmd",
                        args: [ROLES.compute, "-Z", "--conf", renderNodeConf(compute)],
                        ports: [{ name: "slurmd", containerPort: PORTS.slurmd }],
                        // Requests equal limits (Guaranteed QoS): the node offers Slurm exactly what it reserves.
                        resources: {
                            requests: { cpu: String(compute.cpus), memory: mib(memoryMiB), ...gpus },
                            limits: { cpu: String(compute.cpus), memory: mib(memoryMiB), ...gpus },
                        },
                        startupProbe: tcpProbe(PORTS.slurmd, STARTUP_PERIOD_SECONDS, STARTUP_FAILURE_THRESHOLD),
                        readinessProbe: execProbe(ROLES.compute),
                        livenessProbe: tcpProbe(PORTS.slurmd, 20, 3),
                        volumeMounts: [mungeKeyMount, slurmConfigMount, { name: "spool", mountPath: MOUNTS.slurmdSpoolDir }],
                    },
                    [mungeKeyVolume, slurmConfigVolume, { name: "spool", emptyDir: {} }],
                ),
            ),
        }),
    ];
}

/**
 * The login pod users submit from (`kubectl exec deploy/login -- sbatch ...`). slurmctld calls srun back by the
 * name of the host it runs on, so that name must resolve from other pods: the pod's hostname is `login`, and a
 * headless Service of the same name gives it a DNS record (a Deployment's random pod name would not resolve,
 * and every srun would stall on the failed lookups).
 */
export function loginObjects(input: SlurmManifestInput): KubeObject[] {
    return [
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: meta(input, ROLES.login, ROLES.login),
            spec: { clusterIP: "None", selector: selectorFor(ROLES.login), publishNotReadyAddresses: true },
        },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: meta(input, ROLES.login, ROLES.login),
            spec: {
                replicas: 1,
                // One login pod at a time: two would share the hostname slurmctld resolves.
                strategy: { type: "Recreate" },
                selector: { matchLabels: selectorFor(ROLES.login) },
                template: podTemplate(ROLES.login, { "checksum/slurm-config": input.slurmConfigChecksum }, {
                    ...slurmPodSpec(
                        input,
                        "login",
                        {
                            name: ROLES.login,
                            args: [ROLES.login],
                            resources: resources("50m", 64, "1", 1024),
                            readinessProbe: execProbe(ROLES.login),
                            // Alive while munged is: without it no command can authenticate.
                            livenessProbe: { exec: { command: ["test", "-S", "/run/munge/munge.socket.2"] }, periodSeconds: 20, failureThreshold: 3 },
                            volumeMounts: [mungeKeyMount, slurmConfigMount],
                        },
                        [mungeKeyVolume, slurmConfigVolume],
                    ),
                    hostname: ROLES.login,
                    subdomain: ROLES.login,
                }),
            },
        },
    ];
}

/**
 * Ingress rules, one policy per role; each selected pod then refuses all other ingress. Beyond the issue's
 * minimum: slurmdbd also admits the login pod (`sacct` and `sacctmgr` talk to slurmdbd directly), slurmctld
 * admits slurmdbd (it pushes accounting changes to the controller), and compute/login admit each other and the
 * controller (srun listens on ephemeral ports that slurmstepd connects back to).
 */
export function networkPolicyObjects(input: SlurmManifestInput): KubeObject[] {
    const from = (...roles: string[]) => roles.map((role) => ({ podSelector: { matchLabels: selectorFor(role) } }));
    const policy = (role: string, peers: string[], port?: number): KubeObject => ({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: meta(input, `${role}-ingress`, role),
        spec: {
            podSelector: { matchLabels: selectorFor(role) },
            policyTypes: ["Ingress"],
            ingress: [{ from: from(...peers), ...(port ? { ports: [{ protocol: "TCP", port }] } : {}) }],
        },
    });
    return [
        policy(ROLES.mariadb, [ROLES.dbd], PORTS.mariadb),
        policy(ROLES.dbd, [ROLES.controller, ROLES.login], PORTS.slurmdbd),
        policy(ROLES.controller, [ROLES.compute, ROLES.login, ROLES.dbd], PORTS.slurmctld),
        policy(ROLES.compute, [ROLES.controller, ROLES.compute, ROLES.login]),
        policy(ROLES.login, [ROLES.controller, ROLES.compute]),
    ];
}

/** Every object of the static Slurm stack except the namespace, ConfigMap and Secrets. */
export function slurmWorkloadObjects(input: SlurmManifestInput): KubeObject[] {
    return [
        ...mariadbObjects(input),
        ...slurmdbdObjects(input),
        ...slurmctldObjects(input),
        ...computeObjects(input),
        ...loginObjects(input),
        ...networkPolicyObjects(input),
    ];
}
