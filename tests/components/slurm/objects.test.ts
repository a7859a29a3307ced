import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { parseStackConfig } from "../../../config/schema";
import { SlurmNamespace } from "../../../components/slurm/SlurmNamespace";
import { StaticSlurm } from "../../../components/slurm/StaticSlurm";
import { ROLE_SPECS, SLURM_ROLES, slurmWaitFor } from "../../../components/slurm/topology";
import { PLACEHOLDER_MARK, RecordedResource, underMocks } from "../../../evaluation/mocks";
import { renderResources } from "../../../evaluation/render";

const GOLDEN = path.join(__dirname, "golden", "static-objects.yaml");

/** A fixed config that sets every input the objects depend on. */
const FIXED = {
    namespace: "hpc",
    clusterName: "lab",
    image: "registry.example.com:5000/team/slurm:24.11-0123456789ab",
    compute: { replicas: 3, maxNodes: 64, cpus: 2, memoryMiB: 2048, gpus: 1 },
    partitions: [{ name: "batch" }, { name: "debug", maxTimeMinutes: 30 }],
    storage: { storageClassName: "fast", stateSizeGiB: 3, databaseSizeGiB: 5 },
};

async function register(raw: Record<string, unknown>): Promise<RecordedResource[]> {
    const slurm = parseStackConfig({ cluster: { type: "existing" }, gpuOperator: { enabled: true }, slurm: raw }).slurm;
    const { resources, error } = await underMocks(() => {
        const namespace = new SlurmNamespace("slurm", { namespace: slurm.namespace, mode: "static" });
        return new StaticSlurm("slurm", { ...slurm, namespace });
    });
    if (error) throw error;
    return resources;
}

/** Every registered resource (type and name), then every object as the render writes it, secrets as placeholders. */
function goldenText(resources: RecordedResource[]): string {
    const names = resources.map((r) => `#   ${r.type} ${r.name}`).sort();
    const files = [...renderResources(resources)].map(([file, text]) => `--- # ${file}\n${text}`);
    return ["# Resources registered:", ...names, ...files].join("\n") + "\n";
}

describe("the static stack's objects", () => {
    let resources: RecordedResource[];
    const object = (type: string, name: string) => {
        const found = resources.find((r) => r.type === type && r.name === name);
        assert.ok(found, `${type} ${name} was not registered`);
        return found.inputs;
    };
    const container = (kind: "StatefulSet" | "Deployment", role: string) =>
        object(`kubernetes:apps/v1:${kind}`, `slurm-${role}`).spec.template.spec.containers[0];
    before(async () => {
        resources = await register(FIXED);
    });

    it("are the golden file, byte for byte (UPDATE_GOLDEN=1 rewrites it after a deliberate change)", () => {
        const actual = goldenText(resources);
        if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(GOLDEN, actual);
        assert.equal(actual, fs.readFileSync(GOLDEN, "utf8"));
        // The golden file is YAML a strict parser reads, and its secrets are placeholders only.
        for (const doc of parseAllDocuments(actual)) assert.deepEqual(doc.errors, []);
        const secretDocs = actual.split("--- # ").filter((part) => part.includes("kind: Secret"));
        assert.equal(secretDocs.length, 5);
        for (const part of actual.split("--- # ").filter((p) => !p.includes("kind: Secret"))) {
            assert.ok(!part.includes(PLACEHOLDER_MARK), "a generated secret outside a Secret");
        }
    });

    it("are the same for the same config", async () => {
        assert.equal(goldenText(await register(FIXED)), goldenText(resources));
    });

    it("let each role in only from its peers, on its port, and sshd and slurmrestd from anyone: all six exactly", () => {
        const selector = (role: string) => ({
            matchLabels: { "app.kubernetes.io/name": "slurm", "app.kubernetes.io/component": role },
        });
        const expected: Record<string, { from: string[]; port?: number; open?: number }> = {
            mariadb: { from: ["slurmdbd"], port: 3306 },
            slurmdbd: { from: ["slurmctld", "login", "restapi"], port: 6819 },
            slurmctld: { from: ["compute", "login", "slurmdbd", "restapi"], port: 6817 },
            compute: { from: ["slurmctld", "compute", "login"] },
            login: { from: ["slurmctld", "compute"], open: 2222 },
            restapi: { from: [], open: 6820 },
        };
        const policies = resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
        assert.deepEqual(
            policies.map((p) => p.name).sort(),
            Object.keys(expected)
                .map((r) => `slurm-${r}-ingress`)
                .sort(),
        );
        for (const [role, { from, port, open }] of Object.entries(expected)) {
            const policy = object("kubernetes:networking.k8s.io/v1:NetworkPolicy", `slurm-${role}-ingress`);
            assert.deepEqual(policy.metadata.name, `${role}-ingress`);
            assert.equal(policy.metadata.namespace, "hpc");
            assert.deepEqual(policy.spec, {
                podSelector: selector(role),
                policyTypes: ["Ingress"],
                ingress: [
                    ...(from.length
                        ? [
                              {
                                  from: from.map((peer) => ({ podSelector: selector(peer) })),
                                  ...(port ? { ports: [{ protocol: "TCP", port }] } : {}),
                              },
                          ]
                        : []),
                    ...(open ? [{ ports: [{ protocol: "TCP", port: open }] }] : []),
                ],
            });
        }
    });

    it("give each Slurm container exactly its capabilities, all others dropped, and MariaDB none", () => {
        const expected: Record<string, [kind: "StatefulSet" | "Deployment", add: string[]]> = {
            slurmdbd: ["StatefulSet", ["CHOWN", "SETGID", "SETUID"]],
            slurmctld: ["StatefulSet", ["CHOWN", "SETGID", "SETUID"]],
            compute: ["StatefulSet", ["CHOWN", "KILL", "SETGID", "SETUID"]],
            login: ["Deployment", ["CHOWN", "SETGID", "SETUID", "SYS_CHROOT"]],
            restapi: ["Deployment", ["CHOWN", "SETGID", "SETUID"]],
        };
        for (const [role, [kind, add]] of Object.entries(expected)) {
            assert.deepEqual(
                container(kind, role).securityContext,
                {
                    runAsUser: 0,
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"], add },
                },
                role,
            );
        }
        assert.deepEqual(container("StatefulSet", "mariadb").securityContext, {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        });
    });

    it("run each role under its one name: container, entrypoint role, readiness probe and SLURM_WAIT_FOR", () => {
        const expected: Record<string, [kind: "StatefulSet" | "Deployment", container: string, waitFor: string]> = {
            slurmdbd: ["StatefulSet", "slurmdbd", "mariadb:3306"],
            slurmctld: ["StatefulSet", "slurmctld", "slurmdbd:6819"],
            compute: ["StatefulSet", "slurmd", "slurmctld:6817"],
            login: ["Deployment", "login", "slurmctld:6817"],
            restapi: ["Deployment", "slurmrestd", "slurmctld:6817"],
        };
        for (const [role, [kind, name, waitFor]] of Object.entries(expected)) {
            const c = container(kind, role);
            assert.equal(c.name, name);
            assert.deepEqual(c.command, ["/usr/local/bin/entrypoint.sh"]);
            assert.equal(c.args[0], role);
            assert.deepEqual(c.readinessProbe.exec.command, ["/usr/local/bin/entrypoint.sh", "probe", role]);
            assert.deepEqual(c.env, [{ name: "SLURM_WAIT_FOR", value: waitFor }]);
            assert.equal(slurmWaitFor(ROLE_SPECS[role as keyof typeof ROLE_SPECS].name), waitFor);
            assert.equal(c.image, FIXED.image);
        }
        assert.deepEqual(container("StatefulSet", "compute").args, [
            "compute",
            "-Z",
            "--conf",
            "CPUs=2 RealMemory=2048 Feature=compute Gres=gpu:1",
        ]);
        assert.deepEqual(SLURM_ROLES, ["mariadb", "slurmdbd", "slurmctld", "compute", "login", "restapi"]);
    });

    it("give slurmdbd its config from its Secret, and MariaDB its passwords from mariadb-credentials", () => {
        const dbdPod = object("kubernetes:apps/v1:StatefulSet", "slurm-slurmdbd").spec.template.spec;
        assert.deepEqual(dbdPod.volumes, [
            { name: "munge-key", secret: { secretName: "slurm-munge-key", defaultMode: 0o400 } },
            { name: "slurmdbd-config", secret: { secretName: "slurmdbd-config", defaultMode: 0o400 } },
            { name: "jwt-key", secret: { secretName: "slurm-jwt-key", defaultMode: 0o400 } },
            { name: "users", configMap: { name: "slurm-users", defaultMode: 0o644 } },
        ]);
        assert.deepEqual(dbdPod.containers[0].volumeMounts, [
            { name: "munge-key", mountPath: "/etc/munge-secret", readOnly: true },
            { name: "slurmdbd-config", mountPath: "/etc/slurm-secret", readOnly: true },
            { name: "jwt-key", mountPath: "/etc/slurm-jwt", readOnly: true },
            { name: "users", mountPath: "/etc/slurm-users", readOnly: true },
        ]);
        assert.deepEqual(container("StatefulSet", "mariadb").env, [
            {
                name: "MARIADB_ROOT_PASSWORD",
                valueFrom: { secretKeyRef: { name: "mariadb-credentials", key: "root-password" } },
            },
            { name: "MARIADB_DATABASE", value: "slurm_acct_db" },
            { name: "MARIADB_USER", value: "slurm" },
            { name: "MARIADB_PASSWORD", valueFrom: { secretKeyRef: { name: "mariadb-credentials", key: "password" } } },
        ]);
        const secret = object("kubernetes:core/v1:Secret", "slurm-mariadb-credentials");
        assert.deepEqual(Object.keys(secret.stringData).sort(), ["password", "root-password"]);
    });

    it("put every volume claim in storage.storageClassName (else the default class), sized", async () => {
        const claims = (rs: RecordedResource[]) =>
            rs
                .filter((r) => r.type === "kubernetes:apps/v1:StatefulSet")
                .flatMap((r) => (r.inputs.spec.volumeClaimTemplates ?? []).map((c: any) => [r.name, c.spec]));
        assert.deepEqual(claims(resources), [
            [
                "slurm-mariadb",
                {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: "fast",
                    resources: { requests: { storage: "5Gi" } },
                },
            ],
            [
                "slurm-slurmctld",
                {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: "fast",
                    resources: { requests: { storage: "3Gi" } },
                },
            ],
        ]);
        const unset = claims(await register({ ...FIXED, storage: { stateSizeGiB: 3, databaseSizeGiB: 5 } }));
        assert.equal(unset.length, 2);
        for (const [, spec] of unset) assert.equal("storageClassName" in spec, false);
    });

    it("put each object in the namespace, with the role's labels", () => {
        for (const role of SLURM_ROLES) {
            const kind = role === "login" || role === "restapi" ? "Deployment" : "StatefulSet";
            const workload = object(`kubernetes:apps/v1:${kind}`, `slurm-${role}`);
            assert.equal(workload.metadata.namespace, "hpc");
            assert.equal(workload.metadata.labels["app.kubernetes.io/component"], role);
            assert.equal(object("kubernetes:core/v1:Service", `slurm-${role}`).metadata.name, role);
        }
    });
    it("ask for no GPU on CPU-only compute nodes, and for compute.gpus otherwise", async () => {
        const computeResources = (rs: RecordedResource[]) =>
            rs.find((r) => r.name === "slurm-compute" && r.type === "kubernetes:apps/v1:StatefulSet")!.inputs.spec
                .template.spec.containers[0].resources;
        const cpuOnly = { cpu: "2", memory: "2304Mi" };
        const withGpu = { ...cpuOnly, "nvidia.com/gpu": "1" };
        assert.deepEqual(computeResources(resources), { requests: withGpu, limits: withGpu });
        const cpu = await register({ ...FIXED, compute: { ...FIXED.compute, gpus: 0 } });
        assert.deepEqual(computeResources(cpu), { requests: cpuOnly, limits: cpuOnly });
    });
    it("generate each database password as 32 letters and digits, which slurmdbd.conf can hold unquoted", () => {
        const passwords = resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
        assert.deepEqual(passwords.map((r) => [r.name, r.inputs]).sort(), [
            ["slurm-mariadb-root-password", { length: 32, special: false }],
            ["slurm-slurmdbd-db-password", { length: 32, special: false }],
        ]);
    });
});
