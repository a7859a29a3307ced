import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SlurmSettings } from "../../config/schema";
import { SlurmConnection } from "./connection";
import { DEFAULT_MARIADB_IMAGE, KubeObject, namespaceObject, slurmWorkloadObjects, labelsFor } from "./manifests";
import { renderSlurmConfigFiles, renderSlurmdbdConf } from "./render";
import { DATABASE, NAMES, PORTS, ROLES } from "./topology";

/** Arguments of {@link SlurmCluster}: the stack's `slurm` settings, plus what only tests and benchmarks change. */
export interface SlurmClusterArgs extends SlurmSettings {
    /** MariaDB image. Default {@link DEFAULT_MARIADB_IMAGE}. */
    readonly mariadbImage?: string;
}

/**
 * A static Slurm cluster: MariaDB, slurmdbd, slurmctld, a StatefulSet of slurmd dynamic nodes and a login pod,
 * configured from the typed settings, with the MUNGE key and database passwords generated here and kept only
 * in Kubernetes Secrets (and, encrypted, in Pulumi state).
 */
export class SlurmCluster extends pulumi.ComponentResource {
    /** Namespace of every object. */
    public readonly namespace: pulumi.Output<string>;
    /** Connection info for the stack outputs; holds no secret. */
    public readonly connection: pulumi.Output<SlurmConnection>;

    constructor(name: string, args: SlurmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hyperscaler:slurm:SlurmCluster", name, {}, opts);
        validate(args);
        const ns = args.namespace;

        const namespace = this.kube(namespaceObject(ns));
        const inNamespace = { parent: this, dependsOn: [namespace] }; // Namespaced objects fail until it exists.

        // 1024 random bytes, far above munged's 32-byte minimum.
        const mungeKey = new random.RandomBytes(`${name}-munge-key`, { length: 1024 }, { parent: this });
        // Letters and digits only: slurmdbd.conf cannot quote other characters, and MariaDB's init SQL needs none
        // escaped. 32 of 62 symbols is ~190 bits.
        const password = (purpose: string) =>
            new random.RandomPassword(`${name}-${purpose}`, { length: 32, special: false }, { parent: this });
        const rootPassword = password("mariadb-root-password");
        const slurmdbdPassword = password("slurmdbd-db-password");

        const configFiles = renderSlurmConfigFiles(args);
        // The template hashed without its password: the annotation reveals nothing about the secret.
        const slurmdbdTemplate = renderSlurmdbdConf("PASSWORD");

        const secret = (secretName: string, role: string, body: { data?: Record<string, pulumi.Input<string>>; stringData?: Record<string, pulumi.Input<string>> }) =>
            new k8s.core.v1.Secret(
                secretName,
                { metadata: { name: secretName, namespace: ns, labels: labelsFor(role) }, type: "Opaque", ...body },
                inNamespace,
            );
        const secrets = [
            secret(NAMES.mungeKeySecret, "munge", { data: { "munge.key": pulumi.secret(mungeKey.base64) } }),
            secret(NAMES.mariadbSecret, ROLES.mariadb, {
                stringData: { "root-password": pulumi.secret(rootPassword.result), password: pulumi.secret(slurmdbdPassword.result) },
            }),
            secret(NAMES.slurmdbdSecret, ROLES.dbd, {
                stringData: { "slurmdbd.conf": pulumi.secret(slurmdbdPassword.result.apply(renderSlurmdbdConf)) },
            }),
        ];
        new k8s.core.v1.ConfigMap(
            NAMES.configMap,
            { metadata: { name: NAMES.configMap, namespace: ns, labels: labelsFor("config") }, data: configFiles },
            inNamespace,
        );

        // Everything else is created at once: each daemon's entrypoint waits for what it needs, so no chain of
        // Pulumi waits is needed, only the namespace (above) and the Secrets their pods mount.
        for (const object of slurmWorkloadObjects({
            namespace: ns,
            image: args.image,
            mariadbImage: args.mariadbImage ?? DEFAULT_MARIADB_IMAGE,
            compute: args.compute,
            storage: args.storage,
            slurmConfigChecksum: sha256(JSON.stringify(configFiles)),
            slurmdbdConfigChecksum: sha256(slurmdbdTemplate),
        })) {
            // Pods that start before their Secrets exist sit in ContainerCreating; ordering avoids that noise.
            this.kube(object, { ...inNamespace, dependsOn: [namespace, ...secrets] });
        }

        this.namespace = pulumi.output(ns);
        this.connection = pulumi.output(connectionInfo(ns));
        this.registerOutputs({ namespace: this.namespace, connection: this.connection });
    }

    /** Registers one plain object as the matching Pulumi Kubernetes resource. */
    private kube(object: KubeObject, opts: pulumi.CustomResourceOptions = { parent: this }): pulumi.CustomResource {
        const name = object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
        const args = object as never;
        switch (object.kind) {
            case "Namespace":
                return new k8s.core.v1.Namespace(name, args, opts);
            case "Service":
                return new k8s.core.v1.Service(`${name}-svc`, args, opts);
            case "StatefulSet":
                return new k8s.apps.v1.StatefulSet(name, args, opts);
            case "Deployment":
                return new k8s.apps.v1.Deployment(name, args, opts);
            case "NetworkPolicy":
                return new k8s.networking.v1.NetworkPolicy(name, args, opts);
            default:
                throw new Error(`SlurmCluster: no resource type for kind ${object.kind}`);
        }
    }
}

function connectionInfo(ns: string): SlurmConnection {
    const exec = `kubectl -n ${ns} exec deploy/${ROLES.login} --`;
    return {
        namespace: ns,
        controllerAddress: `${ROLES.controller}.${ns}.svc.cluster.local:${PORTS.slurmctld}`,
        commands: {
            sinfo: `${exec} sinfo`,
            shell: `kubectl -n ${ns} exec -it deploy/${ROLES.login} -- bash`,
            submit: `${exec} sbatch --wrap 'srun hostname'`,
            accounting: `${exec} sacct --allusers`,
            database: `kubectl -n ${ns} exec ${ROLES.mariadb}-0 -- mariadb -u ${DATABASE.user} -p ${DATABASE.name}`,
        },
        secretNames: [NAMES.mungeKeySecret, NAMES.mariadbSecret, NAMES.slurmdbdSecret],
    };
}

function validate(args: SlurmClusterArgs): void {
    const { replicas, maxNodes } = args.compute;
    if (replicas > maxNodes) {
        throw new Error(`SlurmCluster: compute.replicas = ${replicas} must not exceed compute.maxNodes (${maxNodes})`);
    }
    if (args.partitions.length === 0) {
        throw new Error("SlurmCluster: partitions = []: at least one partition is needed for jobs to run");
    }
}

function sha256(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}
