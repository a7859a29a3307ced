/**
 * The static Slurm stack (`slurm.mode: static`): MariaDB, slurmdbd, slurmctld, a StatefulSet of slurmd dynamic
 * nodes and a login pod, from this project's image, configured from the typed settings, with the MUNGE key and
 * database passwords generated here and kept only in Kubernetes Secrets (and, encrypted, in Pulumi state).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { SlurmSettings } from "../../config/schema";
import { check, imageReference, problem, refuse } from "../../config/rules";
import { SlurmConnection } from "./connection";
import { DEFAULT_MARIADB_IMAGE, databaseCredentials, mariadbObjects } from "./database";
import { networkPolicyObjects } from "./networkPolicies";
import { KubeObject, labelsFor } from "./objects";
import { creationGroups, registerObject } from "./register";
import { renderSlurmdbdConf, slurmConfigMap, slurmdbdConfChecksum } from "./render";
import { SlurmRolesInput, computeObjects, slurmctldObjects, slurmdbdObjects } from "./roles";
import { homeClaimObjects, loginObjects, restApiObjects } from "./access";
import { sshHostKey } from "./sshHostKey";
import { usersConfigMap } from "./users";
import { userAccess } from "./userAccess";
import { SlurmNamespace, slurmNamespaceProblems } from "./SlurmNamespace";
import { DATABASE, KEY_FILES, NAMES, PORTS, ROLE_SPECS } from "./topology";
import { legacyAliases } from "./legacyNames";

/** Type token of {@link StaticSlurm}. */
export const STATIC_SLURM_TYPE = "hyperscaler:slurm:StaticSlurm";
/** Type token the component had when it was called `SlurmCluster`; aliased so existing stacks keep their state. */
export const PREVIOUS_STATIC_SLURM_TYPE = "hyperscaler:slurm:SlurmCluster";

/** Arguments of {@link StaticSlurm}: the stack's `slurm` settings with their namespace, plus what tests change. */
export interface StaticSlurmArgs extends Omit<SlurmSettings, "namespace" | "mode" | "mariadbImage"> {
    /** Where the lab runs: on Kind the Services' NodePorts are the host's ports at 127.0.0.1. Default false. */
    readonly onKind?: boolean;
    /** The Slurm namespace (created in `static` mode). Required. */
    readonly namespace: SlurmNamespace;
    /** MariaDB image. Default {@link DEFAULT_MARIADB_IMAGE}. */
    readonly mariadbImage?: string;
}

/** Every object of the static stack but the Namespace, ConfigMap and Secrets, in role order. Pure. */
export function staticSlurmObjects(
    input: SlurmRolesInput & { readonly mariadbImage: string; readonly databaseSizeGiB: number },
): KubeObject[] {
    return [
        ...mariadbObjects(input),
        ...slurmdbdObjects(input),
        ...slurmctldObjects(input),
        ...computeObjects(input),
        ...loginObjects(input),
        ...restApiObjects(input),
        ...homeClaimObjects(input),
        ...networkPolicyObjects(input),
    ];
}

/** The static Slurm stack in a {@link SlurmNamespace}. */
export class StaticSlurm extends pulumi.ComponentResource {
    /** Namespace of every object. */
    public readonly namespace: pulumi.Output<string>;
    /** Connection info for the stack outputs; holds no secret (the SSH host key's public half only). */
    public readonly connection: pulumi.Output<SlurmConnection>;

    constructor(name: string, args: StaticSlurmArgs, opts?: pulumi.ComponentResourceOptions) {
        refuse("StaticSlurm", name, problems(args));
        super(
            STATIC_SLURM_TYPE,
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: PREVIOUS_STATIC_SLURM_TYPE }],
                // First, so that transformations the caller adds see the aliases too.
                transformations: [
                    legacyAliases(name, args.namespace.namespaceName, opts?.parent),
                    ...(opts?.transformations ?? []),
                ],
            },
        );
        const ns = args.namespace.namespaceName;
        // Namespaced objects fail until the Namespace exists.
        const inNamespace: pulumi.CustomResourceOptions = { parent: this, dependsOn: [args.namespace] };

        // 1024 random bytes, far above munged's 32-byte minimum.
        const mungeKey = new random.RandomBytes(`${name}-munge-key`, { length: 1024 }, { parent: this });
        // The seed of the login's ed25519 host key: kept in state, so the key never changes (known_hosts works).
        const hostKeySeed = new random.RandomBytes(`${name}-ssh-host-key`, { length: 32 }, { parent: this });
        const hostKey = hostKeySeed.base64.apply((seed) => sshHostKey(Buffer.from(seed, "base64"), "login"));
        // 32 random bytes, the HS256 key size Slurm's JWT guide uses.
        const jwtKey = new random.RandomBytes(`${name}-jwt-key`, { length: 32 }, { parent: this });
        const database = databaseCredentials(name, ns, inNamespace);
        const secret = (secretName: string, role: string, body: Record<string, Record<string, pulumi.Input<string>>>) =>
            new k8s.core.v1.Secret(
                `${name}-${secretName}`,
                { metadata: { name: secretName, namespace: ns, labels: labelsFor(role) }, type: "Opaque", ...body },
                inNamespace,
            );
        const secrets = [
            secret(NAMES.mungeKeySecret, "munge", { data: { "munge.key": pulumi.secret(mungeKey.base64) } }),
            database.secret,
            secret(NAMES.slurmdbdSecret, ROLE_SPECS.slurmdbd.name, {
                stringData: { "slurmdbd.conf": pulumi.secret(database.password.apply(renderSlurmdbdConf)) },
            }),
            secret(NAMES.sshHostKeySecret, ROLE_SPECS.login.name, {
                stringData: { [KEY_FILES.sshHostKey]: pulumi.secret(hostKey.privateKey) },
            }),
            secret(NAMES.jwtKeySecret, "jwt", { data: { [KEY_FILES.jwtKey]: pulumi.secret(jwtKey.base64) } }),
        ];
        const config = slurmConfigMap({ namespace: ns }, args);
        const users = usersConfigMap({ namespace: ns }, args);
        const configMaps = [config.object, users.object].map((object) => registerObject(name, object, inNamespace));

        // No chain of waits between the daemons: each entrypoint waits for what it needs (SLURM_WAIT_FOR). The
        // workloads come after everything their pods use (creationGroups says why).
        const objects = staticSlurmObjects({
            namespace: ns,
            storageClassName: args.storage.storageClassName,
            image: args.image,
            mariadbImage: args.mariadbImage ?? DEFAULT_MARIADB_IMAGE,
            compute: args.compute,
            stateSizeGiB: args.storage.stateSizeGiB,
            databaseSizeGiB: args.storage.databaseSizeGiB,
            slurmConfigChecksum: config.checksum,
            slurmdbdConfigChecksum: slurmdbdConfChecksum(),
            usersChecksum: users.checksum,
            sharedHome:
                args.sharedHome === undefined
                    ? undefined
                    : { storageClassName: args.sharedHome, sizeGiB: args.storage.homeSizeGiB },
            login: args.login,
            restApi: args.restApi,
        });
        const groups = creationGroups(objects);
        const first = groups.first.map((object) => registerObject(name, object, inNamespace));
        for (const object of groups.workloads) {
            // After every object their pods use: a Service still queued behind awaiting workloads stalled an up.
            const before = [args.namespace, ...secrets, ...configMaps, ...first];
            registerObject(name, object, { ...inNamespace, dependsOn: before });
        }

        this.namespace = args.namespace.namespace;
        // The public half of the host key is public: unsecret it, so the known_hosts line can be pasted from outputs.
        const knownHostKey = pulumi.unsecret(hostKey.publicKey);
        this.connection = knownHostKey.apply((key) => ({
            ...staticConnection(ns),
            ...userAccess({
                namespace: ns,
                users: args.users,
                login: args.login,
                restApi: args.restApi,
                onKind: args.onKind ?? false,
                hostKey: key,
            }),
        }));
        this.registerOutputs({ namespace: this.namespace, connection: this.connection });
    }
}

/** What a user needs to reach the static stack in `ns`. Pure; names only, never secret values. */
export function staticConnection(ns: string): SlurmConnection {
    const login = ROLE_SPECS.login.name;
    const exec = `kubectl -n ${ns} exec deploy/${login} --`;
    return {
        namespace: ns,
        controllerAddress: `${ROLE_SPECS.slurmctld.name}.${ns}.svc.cluster.local:${PORTS.slurmctld}`,
        commands: {
            sinfo: `${exec} sinfo`,
            shell: `kubectl -n ${ns} exec -it deploy/${login} -- bash`,
            submit: `${exec} sbatch --wrap 'srun hostname'`,
            accounting: `${exec} sacct --allusers`,
            database:
                `kubectl -n ${ns} exec ${ROLE_SPECS.mariadb.name}-0 --` +
                ` mariadb -u ${DATABASE.user} -p ${DATABASE.name}`,
        },
        secretNames: [
            NAMES.mungeKeySecret,
            NAMES.mariadbSecret,
            NAMES.slurmdbdSecret,
            NAMES.sshHostKeySecret,
            NAMES.jwtKeySecret,
        ],
    };
}

function problems(args: StaticSlurmArgs): string[] {
    const found: string[] = [];
    found.push(...slurmNamespaceProblems(args.namespace, "static"));
    found.push(...check("args.image", args.image, imageReference));
    if (args.mariadbImage !== undefined) found.push(...check("args.mariadbImage", args.mariadbImage, imageReference));
    const { replicas, maxNodes } = args.compute;
    if (replicas > maxNodes) {
        found.push(problem("args.compute.replicas", replicas, `must not exceed compute.maxNodes (${maxNodes})`));
    }
    if (args.partitions.length === 0) {
        found.push(problem("args.partitions", args.partitions, "must list at least one partition for jobs to run in"));
    }
    return found;
}
