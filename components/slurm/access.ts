/**
 * How people reach the static stack, as pure Kubernetes objects: the login pod (sshd for the lab's users, the
 * Slurm commands), its SSH Service, slurmrestd (the REST API, JWT only) with its Service, and the shared /home
 * claim when `slurm.sharedHome` names a ReadWriteMany StorageClass.
 */
import type { SlurmServiceSettings } from "../../config/schema";
import { KubeObject, Volume, VolumeMount, metadata, podTemplate, resources, selectorFor, tcpProbe } from "./objects";
import {
    SlurmRolesInput,
    homeVolumes,
    mungeKeyMount,
    mungeKeyVolume,
    slurmAnnotations,
    slurmConfigMount,
    slurmConfigVolume,
    slurmPodSpec,
} from "./roles";
import { MOUNTS, NAMES, PORTS, ROLE_SPECS, SlurmRole } from "./topology";

/** The port the login's SSH Service answers on, whatever port sshd listens on in the pod. */
export const SSH_SERVICE_PORT = 22;

const hostKeyVolume: Volume = {
    name: "ssh-host-key",
    secret: { secretName: NAMES.sshHostKeySecret, defaultMode: 0o400 },
};
const hostKeyMount: VolumeMount = { name: "ssh-host-key", mountPath: MOUNTS.sshHostKeyDir, readOnly: true };

/** A Service of `type` for `role`'s pods: `port` to the pod's `targetPort`, on NodePort `nodePort` when a NodePort. */
function reachService(
    input: SlurmRolesInput,
    name: string,
    role: SlurmRole,
    settings: SlurmServiceSettings,
    port: number,
): KubeObject {
    const spec = ROLE_SPECS[role];
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(input, name, role),
        spec: {
            type: settings.serviceType,
            selector: selectorFor(role),
            ports: [
                {
                    name: spec.portName,
                    port,
                    targetPort: spec.port,
                    protocol: "TCP",
                    // Pinned on NodePort, as Kind maps exactly this port to the host; a LoadBalancer's is incidental.
                    ...(settings.serviceType === "NodePort" ? { nodePort: settings.port } : {}),
                },
            ],
        },
    };
}

/**
 * The login pod users SSH into and submit from. slurmctld calls srun back by the name of the host it runs on, so
 * that name must resolve from other pods: the pod's hostname is `login`, and a headless Service of the same name
 * gives it a DNS record (a Deployment's random pod name would not resolve, and every srun would stall on the
 * failed lookups). sshd is PID 1's child; its host key comes from a Secret; the users' keys from the users'
 * ConfigMap. The SSH Service (`login-ssh`) is apart from the headless one, whose name is the pod's DNS name.
 */
export function loginObjects(input: SlurmRolesInput): KubeObject[] {
    const role = ROLE_SPECS.login.name;
    const home = homeVolumes(input);
    return [
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: metadata(input, role, role),
            spec: { clusterIP: "None", selector: selectorFor(role), publishNotReadyAddresses: true },
        },
        reachService(input, NAMES.sshService, role, input.login, SSH_SERVICE_PORT),
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: metadata(input, role, role),
            spec: {
                replicas: 1,
                // One login pod at a time: two would share the hostname slurmctld resolves.
                strategy: { type: "Recreate" },
                selector: { matchLabels: selectorFor(role) },
                template: podTemplate(
                    role,
                    slurmAnnotations(input, { "checksum/slurm-config": input.slurmConfigChecksum }),
                    {
                        ...slurmPodSpec(
                            input,
                            role,
                            {
                                resources: resources("50m", 64, "1", 1024),
                                // Alive while munged is (no command authenticates without it) and sshd answers.
                                livenessProbe: {
                                    exec: {
                                        command: [
                                            "bash",
                                            "-c",
                                            `test -S /run/munge/munge.socket.2 && </dev/tcp/127.0.0.1/${PORTS.sshd}`,
                                        ],
                                    },
                                    periodSeconds: 20,
                                    failureThreshold: 3,
                                    timeoutSeconds: 3,
                                },
                                volumeMounts: [mungeKeyMount, slurmConfigMount, hostKeyMount, ...home.mounts],
                            },
                            [mungeKeyVolume, slurmConfigVolume, hostKeyVolume, ...home.volumes],
                        ),
                        hostname: role,
                        subdomain: role,
                    },
                ),
            },
        },
    ];
}

/**
 * slurmrestd, the REST API: its users authenticate with a JWT (`scontrol token`), which slurmrestd passes on to
 * slurmctld and slurmdbd, so it needs no MUNGE key; it runs as its own unprivileged user.
 */
export function restApiObjects(input: SlurmRolesInput): KubeObject[] {
    const role = ROLE_SPECS.restapi.name;
    return [
        reachService(input, role, role, input.restApi, PORTS.slurmrestd),
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: metadata(input, role, role),
            spec: {
                replicas: 1,
                selector: { matchLabels: selectorFor(role) },
                template: podTemplate(
                    role,
                    slurmAnnotations(input, { "checksum/slurm-config": input.slurmConfigChecksum }),
                    slurmPodSpec(
                        input,
                        role,
                        {
                            resources: resources("50m", 64, "1", 512),
                            livenessProbe: tcpProbe(PORTS.slurmrestd, 20, 3),
                            volumeMounts: [slurmConfigMount],
                        },
                        [slurmConfigVolume],
                    ),
                ),
            },
        },
    ];
}

/** The shared /home claim (ReadWriteMany), when `slurm.sharedHome` names a StorageClass; nothing otherwise. */
export function homeClaimObjects(input: SlurmRolesInput): KubeObject[] {
    if (!input.sharedHome) return [];
    return [
        {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: metadata(input, NAMES.homeClaim, "home"),
            spec: {
                accessModes: ["ReadWriteMany"],
                storageClassName: input.sharedHome.storageClassName,
                resources: { requests: { storage: `${input.sharedHome.sizeGiB}Gi` } },
            },
        },
    ];
}
