import { strict as assert } from "node:assert";
import { parseStackConfig } from "../../../config/schema";
import { SlurmNamespace } from "../../../components/slurm/SlurmNamespace";
import { StaticSlurm } from "../../../components/slurm/StaticSlurm";
import {
    PLACEHOLDER_MARK,
    RecordedResource,
    containsSecret,
    dependencyRecorder,
    holdsPlaceholder,
    resolve,
    underMocks,
} from "../../../evaluation/mocks";
import { isKubeObject, validateKubeObject } from "../../kubeSchema";

/** An image from a registry: an existing cluster cannot be loaded with a local build. */
const IMAGE = "registry.example.com/slurm:24.11";

const settings = (raw: Record<string, unknown> = {}, gpus = false) =>
    parseStackConfig({
        cluster: { type: "existing" },
        slurm: { image: IMAGE, ...raw },
        ...(gpus ? { gpuOperator: { enabled: true } } : {}),
    }).slurm;

/** The static stack as index.ts builds it: its namespace component, then the stack in it. */
function staticSlurm(raw: Record<string, unknown> = {}, gpus = false): StaticSlurm {
    const slurm = settings(raw, gpus);
    const namespace = new SlurmNamespace("slurm", { namespace: slurm.namespace, mode: "static" });
    return new StaticSlurm("slurm", { ...slurm, namespace });
}

async function build(raw: Record<string, unknown> = {}) {
    const { resources, result, error } = await underMocks(() => staticSlurm(raw));
    if (error) throw error;
    const named = (type: string, name: string) => {
        const found = resources.find((r) => r.type === type && r.name === name);
        assert.ok(
            found,
            `${type} ${name} was not registered; got ${resources.map((r) => `${r.type} ${r.name}`).join(", ")}`,
        );
        return found;
    };
    return { resources, cluster: result!, named };
}

const kinds = (resources: RecordedResource[]) => resources.map((r) => r.type).sort();

describe("StaticSlurm", () => {
    it("registers the whole static stack", async () => {
        const { resources } = await build();
        const count = (type: string) => resources.filter((r) => r.type === type).length;
        assert.equal(count("hyperscaler:slurm:StaticSlurm"), 1);
        assert.equal(count("hyperscaler:slurm:SlurmNamespace"), 1);
        assert.equal(count("kubernetes:core/v1:Namespace"), 1);
        // The MUNGE key, the SSH host key's seed, the JWT key.
        assert.equal(count("random:index/randomBytes:RandomBytes"), 3);
        assert.equal(count("random:index/randomPassword:RandomPassword"), 2);
        assert.equal(count("kubernetes:core/v1:Secret"), 5);
        assert.equal(count("kubernetes:core/v1:ConfigMap"), 2);
        // One per role, plus the login's SSH Service.
        assert.equal(count("kubernetes:core/v1:Service"), 7);
        assert.equal(count("kubernetes:apps/v1:StatefulSet"), 4);
        assert.equal(count("kubernetes:apps/v1:Deployment"), 2);
        assert.equal(count("kubernetes:networking.k8s.io/v1:NetworkPolicy"), 6);
        assert.equal(count("kubernetes:core/v1:PersistentVolumeClaim"), 0, "no shared /home unless asked");
    });

    it("generates a 1024-byte MUNGE key and letters-and-digits passwords", async () => {
        const { resources } = await build();
        const bytes = (name: string) =>
            resources.find((r) => r.type === "random:index/randomBytes:RandomBytes" && r.name === name)?.inputs.length;
        assert.equal(bytes("slurm-munge-key"), 1024);
        assert.equal(bytes("slurm-ssh-host-key"), 32, "an ed25519 seed");
        assert.equal(bytes("slurm-jwt-key"), 32);
        for (const p of resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword")) {
            assert.equal(p.inputs.length, 32);
            assert.equal(p.inputs.special, false);
        }
    });

    it("creates every workload after every object its pods use, and awaits no Service", async () => {
        // An up on a real Kind cluster stalled for 10 minutes when a Service queued behind workloads awaiting pods
        // that needed it; a workload's create must find everything it uses made already.
        const deps = dependencyRecorder();
        const { resources, error } = await underMocks(() => {
            const slurm = settings({ sharedHome: "nfs-rwx" });
            const namespace = new SlurmNamespace("slurm", { namespace: slurm.namespace, mode: "static" });
            return new StaticSlurm("slurm", { ...slurm, namespace }, { transformations: [deps.transformation] });
        });
        if (error) throw error;
        const kube = resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
        const isWorkload = (r: RecordedResource) => /:(StatefulSet|Deployment)$/.test(r.type);
        const key = (r: RecordedResource) => `${r.type} ${r.name}`;
        const workloads = kube.filter(isWorkload);
        const used = kube.filter((r) => !isWorkload(r) && !r.type.endsWith(":Namespace"));
        assert.equal(workloads.length, 6, workloads.map(key).join(", "));
        // 5 Secrets, 2 ConfigMaps, the Services, the NetworkPolicies and the shared home's claim.
        assert.ok(used.length >= 15, used.map(key).join(", "));
        for (const workload of workloads) {
            const before = deps.typedDependsOn(workload.type, workload.name);
            const missing = used.map(key).filter((k) => !before.includes(k));
            assert.deepEqual(missing, [], `${key(workload)} is created without waiting for these`);
        }
        for (const r of used) {
            const early = deps.typedDependsOn(r.type, r.name).filter((k) => workloads.map(key).includes(k));
            assert.deepEqual(early, [], `${key(r)} waits for a workload`);
        }
        for (const r of kube) {
            const skip = r.inputs.metadata?.annotations?.["pulumi.com/skipAwait"];
            assert.equal(skip, r.type.endsWith(":Service") ? "true" : undefined, `${r.type} ${r.name}: skipAwait`);
        }
    });

    it("gives every Kubernetes object a valid schema", async () => {
        const { resources } = await build({ compute: { replicas: 3, cpus: 2, memoryMiB: 2048 } });
        const objects = resources.filter((r) => isKubeObject(r.type));
        assert.ok(objects.length >= 19);
        objects.forEach(validateKubeObject);
    });

    it("runs compute.replicas slurmd pods as dynamic nodes with the configured shape", async () => {
        const { named } = await build({ compute: { replicas: 7, cpus: 2, memoryMiB: 3000 } });
        const compute = named("kubernetes:apps/v1:StatefulSet", "slurm-compute");
        assert.equal(compute.inputs.spec.replicas, 7);
        assert.equal(compute.inputs.spec.podManagementPolicy, "Parallel");
        const container = compute.inputs.spec.template.spec.containers[0];
        assert.deepEqual(container.args, ["compute", "-Z", "--conf", "CPUs=2 RealMemory=3000 Feature=compute"]);
        assert.deepEqual(container.resources.limits, { cpu: "2", memory: "3256Mi" });
        assert.deepEqual(container.resources.requests, container.resources.limits);
        const service = named("kubernetes:core/v1:Service", "slurm-compute");
        assert.equal(service.inputs.spec.clusterIP, "None");
    });

    it("asks for GPUs on compute pods when nodes have them", async () => {
        const { resources, error } = await underMocks(() => staticSlurm({ compute: { gpus: 2 } }, true));
        assert.ifError(error);
        const compute = resources.find(
            (r) => r.name === "slurm-compute" && r.type === "kubernetes:apps/v1:StatefulSet",
        )!;
        assert.equal(compute.inputs.spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"], "2");
        const configMap = resources.find((r) => r.name === "slurm-slurm-config")!;
        assert.match(configMap.inputs.data["gres.conf"], /Name=gpu Count=2/);
    });

    it("changes only the slurmd StatefulSet when replicas change", async () => {
        const small = await build({ compute: { replicas: 3 } });
        const large = await build({ compute: { replicas: 900 } });
        assert.deepEqual(kinds(small.resources), kinds(large.resources));
        const differing = small.resources
            .filter((r, i) => JSON.stringify(r.inputs) !== JSON.stringify(large.resources[i].inputs))
            .map((r) => r.name);
        assert.deepEqual(differing, ["slurm-compute"]);
        const spec = (run: typeof small) => run.named("kubernetes:apps/v1:StatefulSet", "slurm-compute").inputs.spec;
        assert.deepEqual(
            { ...spec(small), replicas: 0 },
            { ...spec(large), replicas: 0 },
            "only the replica count differs",
        );
    });

    it("rolls the pods that mount slurm.conf when it changes, through a checksum annotation", async () => {
        const before = await build({ compute: { cpus: 1 } });
        const after = await build({ partitions: [{ name: "batch" }, { name: "long" }] });
        for (const [type, name] of [
            ["kubernetes:apps/v1:StatefulSet", "slurm-slurmctld"],
            ["kubernetes:apps/v1:StatefulSet", "slurm-compute"],
            ["kubernetes:apps/v1:Deployment", "slurm-login"],
        ]) {
            const checksum = (run: typeof before) =>
                run.named(type, name).inputs.spec.template.metadata.annotations["checksum/slurm-config"];
            assert.match(checksum(before), /^[0-9a-f]{64}$/);
            assert.notEqual(checksum(before), checksum(after), `${name} would not roll`);
        }
        const dbd = (run: typeof before) =>
            run.named("kubernetes:apps/v1:StatefulSet", "slurm-slurmdbd").inputs.spec.template.metadata.annotations;
        assert.deepEqual(dbd(before), dbd(after), "slurmdbd does not mount slurm.conf and must not roll");
    });

    it("keeps generated secrets in Secrets only: not in ConfigMaps, annotations, objects, outputs", async () => {
        const { resources, cluster } = await build();
        for (const r of resources) {
            if (r.type === "kubernetes:core/v1:Secret" || r.type.startsWith("random:")) continue;
            assert.ok(
                !JSON.stringify(r.inputs).includes(PLACEHOLDER_MARK),
                `${r.type} ${r.name} holds a generated secret`,
            );
        }
        const connection = await resolve(cluster.connection);
        assert.ok(!JSON.stringify(connection).includes(PLACEHOLDER_MARK));
        // The host key and the JWT key hide the mark in their encodings: look for their own text instead.
        const secretText = (name: string, field: "data" | "stringData", key: string) =>
            resources.find((r) => r.name === name)!.inputs[field][key] as string;
        const hostKeyLines = secretText("slurm-slurm-ssh-host-key", "stringData", "ssh_host_ed25519_key")
            .split("\n")
            .filter((line) => line.length >= 40 && !line.startsWith("-----"));
        const jwtKey = secretText("slurm-slurm-jwt-key", "data", "jwt_hs256.key");
        assert.ok(hostKeyLines.length >= 3 && jwtKey.length >= 40);
        for (const r of resources.filter(
            (r) => r.type !== "kubernetes:core/v1:Secret" && !r.type.startsWith("random:"),
        )) {
            const text = JSON.stringify(r.inputs);
            assert.ok(!hostKeyLines.some((line) => text.includes(line)), `${r.name} holds the SSH host key`);
            assert.ok(!text.includes(jwtKey), `${r.name} holds the JWT key`);
        }
        const outputs = JSON.stringify(connection);
        assert.ok(!hostKeyLines.some((line) => outputs.includes(line)) && !outputs.includes(jwtKey));
        assert.equal(await containsSecret(cluster.connection), false, "connection info needs no secret");
        const secrets = resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
        assert.equal(secrets.length, 5);
        for (const s of secrets) {
            const field = s.inputs.data ? "data" : "stringData";
            assert.deepEqual(s.secretPaths, [field], `${s.name}'s values are marked secret in Pulumi state`);
            for (const value of Object.values<string>(s.inputs[field])) {
                const plain = field === "data" ? Buffer.from(value, "base64").toString("latin1") : value;
                assert.ok(holdsPlaceholder(plain), `${s.name} holds the generated value`);
            }
        }
    });

    it("puts the database password into slurmdbd.conf and MariaDB's Secret consistently", async () => {
        const { named } = await build();
        const mariadb = named("kubernetes:core/v1:Secret", "slurm-mariadb-credentials").inputs.stringData;
        const dbd = named("kubernetes:core/v1:Secret", "slurm-slurmdbd-config").inputs.stringData["slurmdbd.conf"];
        assert.match(dbd, new RegExp(`^StoragePass=${mariadb.password}$`, "m"));
        assert.notEqual(mariadb.password, mariadb["root-password"]);
    });

    it("gives the daemons the stable hostnames Slurm checks", async () => {
        const { named } = await build();
        const configMap = named("kubernetes:core/v1:ConfigMap", "slurm-slurm-config").inputs.data["slurm.conf"];
        assert.match(configMap, /^SlurmctldHost=slurmctld-0\(slurmctld\)$/m);
        const ctld = named("kubernetes:apps/v1:StatefulSet", "slurm-slurmctld").inputs.spec;
        assert.equal(ctld.replicas, 1, "one pod, named slurmctld-0");
        assert.equal(ctld.volumeClaimTemplates[0].metadata.name, "state");
        assert.equal(
            ctld.template.spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === "state").mountPath,
            "/var/spool/slurmctld",
        );
        const dbd = named("kubernetes:core/v1:Secret", "slurm-slurmdbd-config").inputs.stringData["slurmdbd.conf"];
        assert.match(dbd, /^DbdHost=slurmdbd-0$/m);
        assert.equal(named("kubernetes:apps/v1:StatefulSet", "slurm-slurmdbd").inputs.spec.replicas, 1);
    });

    it("has probes, resources and least-privilege security contexts on every container", async () => {
        const { resources } = await build();
        const workloads = resources.filter((r) => /StatefulSet|Deployment/.test(r.type));
        assert.equal(workloads.length, 6);
        for (const w of workloads) {
            const pod = w.inputs.spec.template.spec;
            for (const c of pod.containers) {
                assert.ok(c.readinessProbe, `${w.name} readiness`);
                assert.ok(c.livenessProbe, `${w.name} liveness`);
                assert.ok(c.resources.requests && c.resources.limits, `${w.name} resources`);
                assert.equal(c.securityContext.allowPrivilegeEscalation, false, `${w.name} escalation`);
                assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], `${w.name} drops all capabilities`);
                assert.ok(!c.securityContext.privileged, `${w.name} is not privileged`);
            }
            assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
        }
        const mariadb = workloads.find((w) => w.name === "slurm-mariadb")!.inputs.spec.template.spec;
        assert.equal(mariadb.securityContext.runAsNonRoot, true);
    });

    it("lets MariaDB be reached only from slurmdbd, and slurmdbd only from slurmctld, login and slurmrestd", async () => {
        const { named } = await build();
        const peers = (name: string) =>
            named("kubernetes:networking.k8s.io/v1:NetworkPolicy", name).inputs.spec.ingress[0].from.map(
                (f: { podSelector: { matchLabels: Record<string, string> } }) =>
                    f.podSelector.matchLabels["app.kubernetes.io/component"],
            );
        assert.deepEqual(peers("slurm-mariadb-ingress"), ["slurmdbd"]);
        assert.deepEqual(peers("slurm-slurmdbd-ingress"), ["slurmctld", "login", "restapi"]);
        assert.deepEqual(peers("slurm-slurmctld-ingress").sort(), ["compute", "login", "restapi", "slurmdbd"]);
    });

    it("outputs ready-to-paste commands and Secret names, never a value", async () => {
        const { cluster } = await build({ namespace: "hpc" });
        const connection = await resolve(cluster.connection);
        assert.equal(connection.namespace, "hpc");
        assert.equal(connection.controllerAddress, "slurmctld.hpc.svc.cluster.local:6817");
        assert.equal(connection.commands.sinfo, "kubectl -n hpc exec deploy/login -- sinfo");
        assert.deepEqual(connection.secretNames, [
            "slurm-munge-key",
            "mariadb-credentials",
            "slurmdbd-config",
            "slurm-ssh-host-key",
            "slurm-jwt-key",
        ]);
    });

    it("gives the login pod a hostname other pods resolve, since slurmctld calls srun back by it", async () => {
        const { named } = await build();
        const pod = named("kubernetes:apps/v1:Deployment", "slurm-login").inputs.spec.template.spec;
        assert.equal(pod.hostname, "login");
        assert.equal(pod.subdomain, "login");
        const service = named("kubernetes:core/v1:Service", "slurm-login").inputs.spec;
        assert.equal(service.clusterIP, "None");
        assert.deepEqual(service.selector, {
            "app.kubernetes.io/name": "slurm",
            "app.kubernetes.io/component": "login",
        });
    });

    it("labels the namespace for Pod Security", async () => {
        const { named } = await build();
        const labels = named("kubernetes:core/v1:Namespace", "slurm-namespace").inputs.metadata.labels;
        assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline");
    });

    it("refuses a namespace labelled for Slinky and bad arguments, registering nothing of its own", async () => {
        const slurm = settings();
        const { resources, error } = await underMocks(() => {
            const namespace = new SlurmNamespace("slurm", { namespace: "slurm", mode: "slinky" });
            return new StaticSlurm("slurm", {
                ...slurm,
                namespace,
                image: "Not An Image",
                compute: { ...slurm.compute, replicas: 5, maxNodes: 4 },
            });
        });
        assert.match(error?.message ?? "", /StaticSlurm "slurm" has invalid arguments/);
        assert.match(error!.message, /args\.namespace\.mode = "slinky": must be "static"/);
        assert.match(error!.message, /args\.image = "Not An Image": must be a container image reference/);
        assert.match(error!.message, /args\.compute\.replicas = 5: must not exceed compute\.maxNodes \(4\)/);
        assert.deepEqual(
            resources.map((r) => r.type),
            ["hyperscaler:slurm:SlurmNamespace", "kubernetes:core/v1:Namespace"],
        );
    });
});
