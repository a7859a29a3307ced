import { strict as assert } from "node:assert";
import { DEFAULT_KIND_NODE_IMAGE, parseStackConfig } from "../../config/schema";

/** Asserts that `raw` is refused with exactly one problem line that contains every `expected` fragment. */
function assertRefused(raw: Record<string, unknown>, ...expected: string[]): void {
    assert.throws(
        () => parseStackConfig(raw),
        (error: Error & { problems?: string[] }) => {
            assert.equal(error.name, "ConfigError");
            assert.equal(error.problems?.length, 1, `expected one problem, got:\n${error.message}`);
            for (const fragment of expected) {
                assert.ok(
                    error.message.includes(fragment),
                    `message lacks ${JSON.stringify(fragment)}:\n${error.message}`,
                );
            }
            return true;
        },
    );
}

describe("stack config", () => {
    it("resolves every default from an empty config", () => {
        const config = parseStackConfig({});
        assert.deepEqual(config.cluster, {
            type: "kind",
            name: "ai-hyperscaler",
            workers: 2,
            gpuWorkers: 0,
            engine: "docker",
            nodeImage: DEFAULT_KIND_NODE_IMAGE,
            portMappings: [],
        });
        assert.equal(config.slurm.mode, "static");
        assert.equal(config.slurm.mariadbImage, "docker.io/library/mariadb:11.8");
        assert.equal(config.slurm.namespace, "slurm");
        assert.deepEqual(config.slurm.compute, { replicas: 2, maxNodes: 1024, cpus: 1, memoryMiB: 1024, gpus: 0 });
        assert.deepEqual(config.slurm.partitions, [{ name: "batch", default: true }]);
        assert.deepEqual(config.slurm.storage, { stateSizeGiB: 1, databaseSizeGiB: 2, homeSizeGiB: 10 });
        assert.deepEqual([config.slurm.users, config.slurm.groups, config.slurm.sharedHome], [[], [], undefined]);
        assert.deepEqual(config.gpuOperator, { enabled: false, namespace: "gpu-operator", driverEnabled: false });
        assert.deepEqual(config.vcluster, { firstPort: 31443, maxTenants: 5, serviceType: "NodePort", tenants: [] });
    });

    it("fills nested defaults around the values given", () => {
        const config = parseStackConfig({ slurm: { compute: { replicas: 5 } }, cluster: { type: "kind", workers: 0 } });
        assert.equal(config.slurm.compute.replicas, 5);
        assert.equal(config.slurm.compute.cpus, 1);
        assert.equal(config.cluster.type === "kind" && config.cluster.workers, 0);
    });

    it("accepts an existing cluster with a context and no kind settings", () => {
        const config = parseStackConfig({ cluster: { type: "existing", context: "prod" }, slurm: { mode: "none" } });
        assert.deepEqual(config.cluster, { type: "existing", context: "prod" });
    });

    it("makes the first partition the default only when none is marked", () => {
        const none = parseStackConfig({ slurm: { partitions: [{ name: "a" }, { name: "b" }] } });
        assert.deepEqual(
            none.slurm.partitions.map((p) => p.default),
            [true, false],
        );
        const marked = parseStackConfig({ slurm: { partitions: [{ name: "a" }, { name: "b", default: true }] } });
        assert.deepEqual(
            marked.slurm.partitions.map((p) => p.default),
            [false, true],
        );
    });

    it("reports every problem of a config at once, one line each", () => {
        assert.throws(
            () => parseStackConfig({ slurm: { namespace: "A", compute: { cpus: 0 } } }),
            (e: Error & { problems: string[] }) => e.problems.length === 2,
        );
    });

    describe("refuses bad values with the path, the value and what is allowed", () => {
        const cases: Array<[string, Record<string, unknown>, string[]]> = [
            [
                "an unknown top-level setting",
                { slurmm: {} },
                ["slurmm: unknown setting", "allowed here: cluster, slurm, gpuOperator, vcluster"],
            ],
            [
                "an unknown cluster type",
                { cluster: { type: "vm" } },
                ['cluster.type = "vm"', 'must be "kind" or "existing"'],
            ],
            // A cluster without `type` is a Kind cluster now (as documented), so a type of the wrong kind stands in.
            [
                "a cluster type that is not a name",
                { cluster: { type: 3, workers: 1 } },
                ["cluster.type = 3", 'must be "kind" or "existing"'],
            ],
            [
                "a negative worker count",
                { cluster: { type: "kind", workers: -1 } },
                ["cluster.workers = -1", "whole number from 0 to 100"],
            ],
            [
                "a fractional worker count",
                { cluster: { type: "kind", workers: 1.5 } },
                ["cluster.workers = 1.5", "whole number"],
            ],
            [
                "a kind setting on an existing cluster",
                { cluster: { type: "existing", workers: 1 } },
                ["cluster.workers: unknown setting", "allowed here: type, kubeconfigPath, context"],
            ],
            [
                "a cluster name that is not a DNS label",
                { cluster: { type: "kind", name: "My_Lab" } },
                ['cluster.name = "My_Lab"', "DNS-1123 label"],
            ],
            [
                "a node image without a digest",
                { cluster: { type: "kind", nodeImage: "kindest/node:v1.33.1" } },
                ['cluster.nodeImage = "kindest/node:v1.33.1"', "pinned by digest"],
            ],
            [
                "more GPU workers than workers",
                { cluster: { type: "kind", workers: 1, gpuWorkers: 2 } },
                ["cluster.gpuWorkers = 2", "must not exceed cluster.workers (1)"],
            ],
            [
                "a port out of range",
                { cluster: { type: "kind", portMappings: [{ containerPort: 30000, hostPort: 70000 }] } },
                ["cluster.portMappings[0].hostPort = 70000", "from 1 to 65535"],
            ],
            [
                "a port mapping without its container port",
                { cluster: { type: "kind", portMappings: [{ hostPort: 8080 }] } },
                ["cluster.portMappings[0].containerPort = (missing)", "whole number"],
            ],
            [
                "an unknown protocol",
                { cluster: { type: "kind", portMappings: [{ containerPort: 1, hostPort: 2, protocol: "HTTP" }] } },
                ['cluster.portMappings[0].protocol = "HTTP"', "one of TCP, UDP, SCTP"],
            ],
            [
                "a bad listen address",
                {
                    cluster: {
                        type: "kind",
                        portMappings: [{ containerPort: 1, hostPort: 2, listenAddress: "localhost" }],
                    },
                },
                ['listenAddress = "localhost"', "IPv4 or IPv6 address"],
            ],
            [
                "the same host port twice",
                {
                    cluster: {
                        type: "kind",
                        portMappings: [
                            { containerPort: 1, hostPort: 8080 },
                            { containerPort: 2, hostPort: 8080 },
                        ],
                    },
                },
                ["cluster.portMappings[1].hostPort = 8080", "mapped twice"],
            ],
            [
                "an empty kubeconfig path",
                { cluster: { type: "existing", kubeconfigPath: "" } },
                ['cluster.kubeconfigPath = ""', "must not be empty"],
            ],
            [
                "a Slurm mode that does not exist",
                { slurm: { mode: "dynamic" } },
                ['slurm.mode = "dynamic"', "one of static, slinky, none"],
            ],
            [
                "a namespace that is not a DNS label",
                { slurm: { namespace: "Slurm NS" } },
                ['slurm.namespace = "Slurm NS"', "DNS-1123 label"],
            ],
            [
                "a Slurm cluster name with capitals",
                { slurm: { clusterName: "Lab" } },
                ['slurm.clusterName = "Lab"', "lowercase letters"],
            ],
            [
                "a negative replica count",
                { slurm: { compute: { replicas: -3 } } },
                ["slurm.compute.replicas = -3", "whole number from 0 to 100000"],
            ],
            [
                "a replica count given as text",
                { slurm: { compute: { replicas: "3" } } },
                ['slurm.compute.replicas = "3"', "whole number"],
            ],
            [
                "zero CPUs per node",
                { slurm: { compute: { cpus: 0 } } },
                ["slurm.compute.cpus = 0", "whole number from 1 to 4096"],
            ],
            [
                "too little memory per node",
                { slurm: { compute: { memoryMiB: 10 } } },
                ["slurm.compute.memoryMiB = 10", "from 64"],
            ],
            [
                "an unknown compute setting (a unit left out)",
                { slurm: { compute: { memory: 1024 } } },
                ["slurm.compute.memory: unknown setting", "memoryMiB"],
            ],
            [
                "more replicas than maxNodes",
                { slurm: { compute: { replicas: 20, maxNodes: 10 } } },
                ["slurm.compute.replicas = 20", "must not exceed slurm.compute.maxNodes (10)"],
            ],
            [
                "GPUs per node without the GPU operator",
                { slurm: { compute: { gpus: 1 } } },
                ["slurm.compute.gpus = 1", "needs gpuOperator.enabled = true"],
            ],
            [
                "the GPU operator on Kind without GPU workers",
                { gpuOperator: { enabled: true } },
                ["gpuOperator.enabled = true", "cluster.gpuWorkers >= 1"],
            ],
            ["no partitions", { slurm: { partitions: [] } }, ["slurm.partitions = []", "at least one partition"]],
            [
                "two default partitions",
                {
                    slurm: {
                        partitions: [
                            { name: "a", default: true },
                            { name: "b", default: true },
                        ],
                    },
                },
                ['slurm.partitions = ["a","b"]', "at most one partition may be the default"],
            ],
            [
                "a duplicate partition",
                { slurm: { partitions: [{ name: "a" }, { name: "a" }] } },
                ['slurm.partitions[].name = "a"', "must be unique"],
            ],
            [
                "a zero partition time limit",
                { slurm: { partitions: [{ name: "a", maxTimeMinutes: 0 }] } },
                ["slurm.partitions[0].maxTimeMinutes = 0", "from 1"],
            ],
            [
                "a zero volume size",
                { slurm: { storage: { stateSizeGiB: 0 } } },
                ["slurm.storage.stateSizeGiB = 0", "from 1 to 10000"],
            ],
            [
                "a non-boolean flag",
                { gpuOperator: { enabled: "yes" } },
                ['gpuOperator.enabled = "yes"', "true or false"],
            ],
            [
                "a tenant name that is not a DNS label",
                { vcluster: { tenants: [{ name: "Team A" }] } },
                ['vcluster.tenants[0].name = "Team A"', "DNS-1123 label"],
            ],
            [
                "tenants given as names rather than objects",
                { vcluster: { tenants: ["a"] } },
                ['vcluster.tenants[0] = "a"', "must be an object with the fields name"],
            ],
            [
                "a duplicate tenant",
                { vcluster: { tenants: [{ name: "a" }, { name: "a" }] } },
                ['vcluster.tenants[].name = "a"', "must be unique"],
            ],
            [
                "a tenant namespace that collides with Slurm's",
                { slurm: { namespace: "vcluster-x" }, vcluster: { tenants: [{ name: "x" }] } },
                ['vcluster.tenants[0].name = "x"', "already used by slurm.namespace"],
            ],
            [
                "a structured setting given as a scalar",
                { slurm: 3 },
                ["slurm = 3", "must be an object with the fields mode, namespace"],
            ],
        ];
        for (const [what, raw, expected] of cases) {
            it(what, () => assertRefused(raw, ...expected));
        }
    });
});
