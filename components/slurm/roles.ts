/**
 * Pure builders of the Slurm roles' Kubernetes objects (slurmdbd, slurmctld, compute, login), each from the role
 * table in `topology.ts`: one name per role for its Service, workload, container, entrypoint role and probe.
 */
import type { ComputeSettings, SlurmServiceSettings } from "../../config/schema";
import {
    Container,
    KubeObject,
    ObjectPlacement,
    PodSpec,
    Probe,
    Volume,
    VolumeMount,
    clusterIpService,
    metadata,
    mib,
    podTemplate,
    resources,
    selectorFor,
    startupProbe,
    statefulSet,
    tcpProbe,
    volumeClaim,
} from "./objects";
import { renderNodeConf } from "./render";
import { MOUNTS, NAMES, PORTS, ROLE_SPECS, SlurmRole, slurmWaitFor } from "./topology";

/** The shared /home: one ReadWriteMany claim mounted on the login and compute pods (`slurm.sharedHome`). */
export interface SharedHome {
    /** Its StorageClass, which must offer ReadWriteMany. */
    readonly storageClassName: string;
    /** Its size, GiB. */
    readonly sizeGiB: number;
}

/** What the Slurm role builders need besides the role table. */
export interface SlurmRolesInput extends ObjectPlacement {
    /** Image of every Slurm role. */
    readonly image: string;
    /** Compute node shape and count. */
    readonly compute: ComputeSettings;
    /** Size of slurmctld's StateSaveLocation volume, in GiB. */
    readonly stateSizeGiB: number;
    /** sha256 of the `slurm-config` ConfigMap's files: a change rolls the pods that mount it. */
    readonly slurmConfigChecksum: string;
    /** sha256 of slurmdbd.conf as rendered without its password: a change rolls slurmdbd. */
    readonly slurmdbdConfigChecksum: string;
    /** sha256 of the `slurm-users` ConfigMap's files: a change (a user added or removed) rolls every Slurm pod. */
    readonly usersChecksum: string;
    /** The shared /home; absent: each login and compute pod has its own, made by the entrypoint. */
    readonly sharedHome?: SharedHome;
    /** The login pod's SSH Service: type and NodePort. */
    readonly login: SlurmServiceSettings;
    /** slurmrestd's Service: type and NodePort. */
    readonly restApi: SlurmServiceSettings;
}

/** Memory slurmd, slurmstepd and munged need on top of what a node offers to jobs. */
export const SLURMD_OVERHEAD_MIB = 256;

/** The Slurm image's entrypoint: `entrypoint.sh <role> [args]` runs a role, `entrypoint.sh probe <role>` checks it. */
export const ENTRYPOINT = "/usr/local/bin/entrypoint.sh";

/** The readiness probe of a Slurm role: the entrypoint's own check of its daemon. */
export function roleProbe(role: SlurmRole): Probe {
    return {
        exec: { command: [ENTRYPOINT, "probe", ROLE_SPECS[role].name] },
        periodSeconds: 10,
        timeoutSeconds: 8,
        failureThreshold: 3,
    };
}

export const mungeKeyVolume: Volume = {
    name: "munge-key",
    secret: { secretName: NAMES.mungeKeySecret, defaultMode: 0o400 },
};
export const mungeKeyMount: VolumeMount = { name: "munge-key", mountPath: MOUNTS.mungeKeyDir, readOnly: true };
export const slurmConfigVolume: Volume = {
    name: "slurm-config",
    configMap: { name: NAMES.configMap, defaultMode: 0o644 },
};
export const slurmConfigMount: VolumeMount = { name: "slurm-config", mountPath: MOUNTS.slurmConfigDir, readOnly: true };
const usersVolume: Volume = { name: "users", configMap: { name: NAMES.usersConfigMap, defaultMode: 0o644 } };
const usersMount: VolumeMount = { name: "users", mountPath: MOUNTS.usersDir, readOnly: true };
/** The JWT key, for slurmctld (it signs `scontrol token`s) and slurmdbd (it checks them); 0400 like the MUNGE key. */
export const jwtKeyVolume: Volume = { name: "jwt-key", secret: { secretName: NAMES.jwtKeySecret, defaultMode: 0o400 } };
/** Where the entrypoint finds the JWT key (`jwt.sh`). */
export const jwtKeyMount: VolumeMount = { name: "jwt-key", mountPath: MOUNTS.jwtKeyDir, readOnly: true };
/** The shared /home claim's volume and mount, when there is one. */
export function homeVolumes(input: SlurmRolesInput): { volumes: Volume[]; mounts: VolumeMount[] } {
    if (!input.sharedHome) return { volumes: [], mounts: [] };
    return {
        volumes: [{ name: "home", persistentVolumeClaim: { claimName: NAMES.homeClaim } }],
        mounts: [{ name: "home", mountPath: MOUNTS.home }],
    };
}

/** Pod annotations of a Slurm role: `checksums`, and the users' checksum, which every Slurm pod mounts. */
export function slurmAnnotations(input: SlurmRolesInput, checksums: Record<string, string>): Record<string, string> {
    return { ...checksums, "checksum/slurm-users": input.usersChecksum };
}

const slurmdbdConfigVolume: Volume = {
    name: "slurmdbd-config",
    secret: { secretName: NAMES.slurmdbdSecret, defaultMode: 0o400 },
};
const slurmdbdConfigMount: VolumeMount = {
    name: "slurmdbd-config",
    mountPath: MOUNTS.slurmdbdSecretDir,
    readOnly: true,
};

/**
 * The pod of a Slurm role: its container (named, run, confined and told what to wait for from the role table), with
 * the users' ConfigMap mounted as every Slurm pod has it.
 */
export function slurmPodSpec(
    input: SlurmRolesInput,
    role: SlurmRole,
    container: Partial<Container>,
    volumes: Volume[],
): PodSpec {
    const spec = ROLE_SPECS[role];
    const waitFor = slurmWaitFor(role);
    return {
        // Job processes and munged must not outlive a stop by much; slurmctld saves state on SIGTERM.
        terminationGracePeriodSeconds: 30,
        enableServiceLinks: false,
        securityContext: { seccompProfile: { type: "RuntimeDefault" } },
        containers: [
            {
                name: spec.container,
                image: input.image,
                imagePullPolicy: "IfNotPresent",
                command: [ENTRYPOINT],
                args: [spec.name],
                ...(waitFor ? { env: [{ name: "SLURM_WAIT_FOR", value: waitFor }] } : {}),
                ...(spec.port ? { ports: [{ name: spec.portName, containerPort: spec.port }] } : {}),
                securityContext: {
                    // Root only to hand the MUNGE key and spool directories to their users and start the daemons as
                    // theirs.
                    runAsUser: 0,
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"], add: [...spec.capabilities] },
                },
                readinessProbe: roleProbe(role),
                ...container,
                volumeMounts: [...(container.volumeMounts as VolumeMount[]), usersMount],
            },
        ],
        volumes: [...volumes, usersVolume],
    };
}

/** The probes of a role's daemon on its port: patient at startup, then liveness by the open port. */
function daemonProbes(port: number): Pick<Container, "startupProbe" | "livenessProbe"> {
    return { startupProbe: startupProbe(port), livenessProbe: tcpProbe(port, 20, 3) };
}

/** What differs between the two single-replica daemons (slurmdbd, slurmctld). */
interface SingleDaemon {
    /** Pod annotation that rolls the pod when its configuration changes. */
    readonly checksum: Record<string, string>;
    /** The daemon container's requests and limits. */
    readonly resources: Container["resources"];
    /** The daemon container's mounts. */
    readonly volumeMounts: VolumeMount[];
    /** The pod's volumes. */
    readonly volumes: Volume[];
    /** Further StatefulSet spec fields (volume claims). Default none. */
    readonly statefulSet?: Record<string, unknown>;
}

/** A daemon that runs as one replica of a StatefulSet behind a ClusterIP Service on its port. */
function singleDaemonObjects(
    input: SlurmRolesInput,
    role: "slurmdbd" | "slurmctld",
    daemon: SingleDaemon,
): KubeObject[] {
    const name = ROLE_SPECS[role].name;
    const port = PORTS[role];
    const container = { resources: daemon.resources, ...daemonProbes(port), volumeMounts: daemon.volumeMounts };
    return [
        clusterIpService(input, name, port),
        statefulSet(input, name, {
            replicas: 1,
            template: podTemplate(
                name,
                slurmAnnotations(input, daemon.checksum),
                slurmPodSpec(input, name, container, daemon.volumes),
            ),
            ...daemon.statefulSet,
        }),
    ];
}

/** slurmdbd: one replica whose hostname is the `DbdHost` of slurmdbd.conf; slurmdbd.conf comes from a Secret. */
export function slurmdbdObjects(input: SlurmRolesInput): KubeObject[] {
    return singleDaemonObjects(input, "slurmdbd", {
        checksum: { "checksum/slurmdbd-config": input.slurmdbdConfigChecksum },
        resources: resources("50m", 128, "1", 512),
        volumeMounts: [mungeKeyMount, slurmdbdConfigMount, jwtKeyMount],
        volumes: [mungeKeyVolume, slurmdbdConfigVolume, jwtKeyVolume],
    });
}

/** slurmctld: one replica, hostname `slurmctld-0` as slurm.conf names it, StateSaveLocation on a volume. */
export function slurmctldObjects(input: SlurmRolesInput): KubeObject[] {
    return singleDaemonObjects(input, "slurmctld", {
        checksum: { "checksum/slurm-config": input.slurmConfigChecksum },
        resources: resources("100m", 256, "2", 2048),
        volumeMounts: [
            mungeKeyMount,
            slurmConfigMount,
            jwtKeyMount,
            { name: "state", mountPath: MOUNTS.stateSaveLocation },
        ],
        volumes: [mungeKeyVolume, slurmConfigVolume, jwtKeyVolume],
        statefulSet: { volumeClaimTemplates: [volumeClaim(input, "state", input.stateSizeGiB)] },
    });
}

/** The slurmd StatefulSet: `compute.replicas` dynamic nodes, and its headless Service. */
export function computeObjects(input: SlurmRolesInput): KubeObject[] {
    const spec = ROLE_SPECS.compute;
    const { compute } = input;
    const memoryMiB = compute.memoryMiB + SLURMD_OVERHEAD_MIB;
    const gpus: Record<string, string> = compute.gpus > 0 ? { "nvidia.com/gpu": String(compute.gpus) } : {};
    const home = homeVolumes(input);
    return [
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: metadata(input, spec.name, spec.name),
            spec: {
                clusterIP: "None",
                selector: selectorFor(spec.name),
                ports: [{ name: spec.portName, port: PORTS.slurmd, targetPort: PORTS.slurmd, protocol: "TCP" }],
                // A node must be addressable while it registers, before it is ready.
                publishNotReadyAddresses: true,
            },
        },
        statefulSet(input, spec.name, {
            replicas: compute.replicas,
            // Nodes are independent: start and stop them all at once rather than one by one.
            podManagementPolicy: "Parallel",
            template: podTemplate(
                spec.name,
                slurmAnnotations(input, { "checksum/slurm-config": input.slurmConfigChecksum }),
                slurmPodSpec(
                    input,
                    spec.name,
                    {
                        args: [spec.name, "-Z", "--conf", renderNodeConf(compute)],
                        // Requests equal limits (Guaranteed QoS): the node offers Slurm exactly what it reserves.
                        resources: {
                            requests: { cpu: String(compute.cpus), memory: mib(memoryMiB), ...gpus },
                            limits: { cpu: String(compute.cpus), memory: mib(memoryMiB), ...gpus },
                        },
                        ...daemonProbes(PORTS.slurmd),
                        volumeMounts: [
                            mungeKeyMount,
                            slurmConfigMount,
                            { name: "spool", mountPath: MOUNTS.slurmdSpoolDir },
                            ...home.mounts,
                        ],
                    },
                    [mungeKeyVolume, slurmConfigVolume, { name: "spool", emptyDir: {} }, ...home.volumes],
                ),
            ),
        }),
    ];
}
