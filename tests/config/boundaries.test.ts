import { strict as assert } from "node:assert";
import { DEFAULT_KIND_NODE_IMAGE, parseStackConfig } from "../../config/schema";
import { assertRefused } from "./helpers";

/** The value at a dotted path of the resolved config. */
const at = (config: unknown, dotted: string): unknown =>
    dotted.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);

/** A raw config that sets `dotted` to `value` (with whatever else the setting needs to be valid). */
function rawWith(dotted: string, value: unknown): Record<string, unknown> {
    const [top, ...rest] = dotted.split(".");
    const nested = rest.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
    const raw: Record<string, Record<string, unknown>> = { [top]: nested };
    if (dotted === "cluster.gpuWorkers") raw.cluster.workers = 100;
    if (dotted === "slurm.compute.replicas") raw.slurm.compute = { replicas: value, maxNodes: 100_000 };
    if (dotted === "slurm.compute.maxNodes") raw.slurm.compute = { maxNodes: value, replicas: 0 };
    if (dotted === "slurm.compute.gpus") raw.gpuOperator = { enabled: true };
    if (dotted === "slurm.compute.gpus" || dotted === "cluster.gpuWorkers") {
        raw.cluster = { ...(raw.cluster ?? {}), workers: 100, gpuWorkers: dotted === "cluster.gpuWorkers" ? value : 1 };
    }
    return raw;
}

describe("valid values are accepted unchanged", () => {
    const valid: Array<[string, unknown[]]> = [
        ["cluster.name", ["a", "lab-1", "x".repeat(32), "0lab"]],
        ["cluster.nodeImage", [DEFAULT_KIND_NODE_IMAGE, `kindest/node:v10.31.12@sha256:${"a".repeat(64)}`]],
        ["slurm.namespace", ["slurm", "a", "s".repeat(63), "hpc-1"]],
        ["slurm.clusterName", ["lab", "a", "hpc_2", `a${"b".repeat(39)}`]],
        [
            "slurm.image",
            [
                "slurm",
                "ai-hyperscaler/slurm:24.11-0123456789ab",
                "localhost:5000/a/b:T_1.x",
                `r.io/s@sha256:${"f".repeat(64)}`,
                "[::1]:5000/s:1",
            ],
        ],
        ["slurm.storage.storageClassName", ["standard", "a.b-c.d", "local-path"]],
        ["gpuOperator.namespace", ["gpu-operator", "nvidia"]],
        ["slurm.mode", ["static", "slinky", "none"]],
        ["vcluster.serviceType", ["NodePort", "LoadBalancer"]],
    ];
    for (const [setting, values] of valid) {
        for (const value of values) {
            it(`${setting} = ${JSON.stringify(value)}`, () => {
                assert.deepEqual(at(parseStackConfig(rawWith(setting, value)), setting), value);
            });
        }
    }

    it("the default listen address is 127.0.0.1 and the default protocol TCP", () => {
        const config = parseStackConfig({ cluster: { portMappings: [{ containerPort: 30080, hostPort: 8080 }] } });
        assert.deepEqual(config.cluster.type === "kind" && config.cluster.portMappings, [
            { containerPort: 30080, hostPort: 8080, protocol: "TCP", listenAddress: "127.0.0.1" },
        ]);
    });
});

describe("every count at its bounds", () => {
    const counts: Array<[string, number, number]> = [
        ["cluster.workers", 0, 100],
        ["cluster.gpuWorkers", 0, 100],
        ["slurm.compute.replicas", 0, 100_000],
        ["slurm.compute.maxNodes", 1, 100_000],
        ["slurm.compute.cpus", 1, 4096],
        ["slurm.compute.memoryMiB", 64, 16 * 1024 * 1024],
        ["slurm.compute.gpus", 0, 64],
        ["slurm.storage.stateSizeGiB", 1, 10_000],
        ["slurm.storage.databaseSizeGiB", 1, 10_000],
        ["vcluster.firstPort", 30000, 32767 - 4],
        ["vcluster.maxTenants", 0, 50],
    ];
    for (const [setting, min, max] of counts) {
        it(`${setting}: ${min} and ${max} accepted, ${min - 1} and ${max + 1} refused`, () => {
            for (const ok of [min, max]) assert.equal(at(parseStackConfig(rawWith(setting, ok)), setting), ok);
            const limit = setting === "vcluster.firstPort" ? 32767 : max;
            assertRefused(rawWith(setting, min - 1), `${setting} = ${min - 1}`, `from ${min} to ${limit}`);
            assertRefused(rawWith(setting, limit + 1), `${setting} = ${limit + 1}`);
        });
    }

    it("partition time limits and port mappings at their bounds", () => {
        const partition = (maxTimeMinutes: number) => ({ slurm: { partitions: [{ name: "p", maxTimeMinutes }] } });
        assert.equal(parseStackConfig(partition(1)).slurm.partitions[0].maxTimeMinutes, 1);
        assert.equal(parseStackConfig(partition(525_600)).slurm.partitions[0].maxTimeMinutes, 525_600);
        assertRefused(partition(525_601), "from 1 to 525600");
        const mapping = (hostPort: number) => ({ cluster: { portMappings: [{ containerPort: 1, hostPort }] } });
        assert.doesNotThrow(() => parseStackConfig(mapping(65535)));
        assert.doesNotThrow(() => parseStackConfig(mapping(1)));
        assertRefused(mapping(0), "from 1 to 65535");
    });

    it("names at their length limits", () => {
        assertRefused({ cluster: { name: "x".repeat(33) } }, "at most 32");
        assertRefused({ slurm: { namespace: "s".repeat(64) } }, "at most 63");
        assertRefused({ slurm: { clusterName: `a${"b".repeat(40)}` } }, "1-40 lowercase");
        assertRefused({ slurm: { partitions: [{ name: "p".repeat(41) }] } }, "at most 40");
    });
});

describe("patterns are anchored: a valid prefix followed by garbage is refused", () => {
    const cases: Array<[string, string]> = [
        ["cluster.name", "lab lab"],
        ["cluster.nodeImage", `${DEFAULT_KIND_NODE_IMAGE}x`],
        // Any registry's copy is allowed now, so the garbage in front must break the reference grammar.
        ["cluster.nodeImage", `-${DEFAULT_KIND_NODE_IMAGE}`],
        ["cluster.nodeImage", "localhost/kind-node:v1 x"],
        ["slurm.namespace", "slurm-"],
        ["slurm.namespace", "-slurm"],
        ["slurm.clusterName", "lab!"],
        ["slurm.clusterName", "_lab"],
        ["slurm.image", "slurm:24.11 garbage"],
        ["slurm.image", "/slurm"],
        ["slurm.storage.storageClassName", "fast."],
        ["slurm.storage.storageClassName", ".fast"],
        ["gpuOperator.namespace", "gpu operator"],
    ];
    for (const [setting, value] of cases) {
        it(`${setting} = ${JSON.stringify(value)}`, () => {
            assertRefused(rawWith(setting, value), `${setting} = ${JSON.stringify(value)}`);
        });
    }
});
