import { strict as assert } from "node:assert";
import { readStackSettings } from "../../config/stackFile";
import { describeIssue, formatPath, knownKeys, REDACTED, valueAt } from "../../config/errors";
import { defaultSlurmImage } from "../../config/slurmImage";
import { ConfigError, parseStackConfig, SETTING_NAMES, SETTINGS, stackConfigSchema } from "../../config/schema";
import { assertAccepted, assertRefused, problemsOf } from "./helpers";

const gpuKind = { workers: 1, gpuWorkers: 1 };

describe("exact problem lines", () => {
    it("an existing cluster with the static stack needs slurm.image (issue 7.8)", () => {
        assert.deepEqual(problemsOf({ cluster: { type: "existing" } }), [
            "slurm.image = (missing): is required with cluster.type existing and slurm.mode static: the nodes pull " +
                "the image, so push it to a registry they can reach and set slurm.image to its reference",
        ]);
        assertAccepted({ cluster: { type: "existing" }, slurm: { image: "registry.example.com/hpc/slurm:24.11" } });
        assertAccepted({ cluster: { type: "existing" }, slurm: { mode: "slinky" } });
        assertAccepted({ cluster: { type: "existing" }, slurm: { mode: "none" } });
        assert.equal(parseStackConfig({}).slurm.image, defaultSlurmImage(), "on Kind the content-derived image");
        assert.equal(parseStackConfig({}, { defaultSlurmImage: () => "x/y:z" }).slurm.image, "x/y:z");
        assert.equal(
            parseStackConfig({ slurm: { image: "a/b:c" } }, { defaultSlurmImage: () => "x" }).slurm.image,
            "a/b:c",
        );
    });

    it("a host port mapped twice says which mapping it overlaps", () => {
        assert.deepEqual(
            problemsOf({
                cluster: {
                    portMappings: [
                        { containerPort: 1, hostPort: 8080, listenAddress: "0.0.0.0" },
                        { containerPort: 2, hostPort: 8081 },
                        { containerPort: 3, hostPort: 8080 },
                    ],
                },
            }),
            [
                "cluster.portMappings[2].hostPort = 8080: is mapped twice: cluster.portMappings[0] binds TCP port 8080 " +
                    "on 0.0.0.0, and 127.0.0.1 overlaps it; each host port may be used once",
            ],
        );
    });

    it("namespace clashes name the setting that has the namespace", () => {
        assert.deepEqual(problemsOf({ cluster: gpuKind, gpuOperator: { enabled: true, namespace: "slurm" } }), [
            'gpuOperator.namespace = "slurm": is already used by slurm.namespace; give each its own namespace',
        ]);
        assert.deepEqual(
            problemsOf({ slurm: { namespace: "vcluster-b" }, vcluster: { tenants: [{ name: "a" }, { name: "b" }] } }),
            [
                'vcluster.tenants[1].name = "b": its namespace vcluster-b is already used by slurm.namespace; ' +
                    "give each its own namespace",
            ],
        );
        assertAccepted({
            slurm: { mode: "none", namespace: "gpu-operator" },
            cluster: gpuKind,
            gpuOperator: { enabled: true },
        });
        assertAccepted({ slurm: { namespace: "gpu-operator" }, gpuOperator: { enabled: false } });
    });

    it("GPUs with a GPU operator setting that is itself wrong report only that setting", () => {
        assert.deepEqual(problemsOf({ slurm: { compute: { gpus: 1 } }, gpuOperator: { enabled: "yes" } }), [
            'gpuOperator.enabled = "yes": must be true or false',
        ]);
    });

    it("tenant pool problems, exactly", () => {
        assert.deepEqual(problemsOf({ vcluster: { maxTenants: 1, tenants: [{ name: "a" }, { name: "b" }] } }), [
            'vcluster.tenants = ["a","b"]: has 2 tenants but vcluster.maxTenants is 1: raise maxTenants to at least 2 ' +
                "(kind cannot add host ports to a running cluster, so the Kind cluster is then deleted and created " +
                "again, with everything on it) or remove tenants",
        ]);
        assert.deepEqual(problemsOf({ vcluster: { maxTenants: 0, tenants: [{ name: "a", port: 31443 }] } }), [
            'vcluster.tenants = ["a"]: has 1 tenants but vcluster.maxTenants is 0: raise maxTenants to at least 1 ' +
                "(kind cannot add host ports to a running cluster, so the Kind cluster is then deleted and created " +
                "again, with everything on it) or remove tenants",
            "vcluster.tenants[0].port = 31443: has no host port to use: vcluster.maxTenants is 0, so Kind maps no " +
                "tenant ports",
        ]);
        // The first tenant of the gpu stack (maxTenants 0, to run beside dev) is refused before anything changes.
        const gpu = readStackSettings("gpu") as { vcluster: Record<string, unknown> };
        assert.deepEqual(problemsOf({ ...gpu, vcluster: { ...gpu.vcluster, tenants: [{ name: "team-b" }] } }), [
            'vcluster.tenants = ["team-b"]: has 1 tenants but vcluster.maxTenants is 0: raise maxTenants to at ' +
                "least 1 (kind cannot add host ports to a running cluster, so the Kind cluster is then deleted and " +
                "created again, with everything on it) or remove tenants",
        ]);
        assertRefused(
            { vcluster: { tenants: [{ name: "a", port: 31444 }, { name: "b" }] } },
            "vcluster.tenants[1].port = 31444",
        );
        for (const hostPort of [31443, 31447]) {
            assertRefused({ cluster: { portMappings: [{ containerPort: 80, hostPort }] } }, `hostPort = ${hostPort}`);
        }
        assert.deepEqual(
            problemsOf({
                cluster: { type: "existing" },
                slurm: { mode: "none" },
                vcluster: { tenants: [{ name: "a" }] },
            }),
            [
                "vcluster.tenants[0].server = (missing): is required with cluster.type existing: the https URL at which " +
                    "the tenant's Service (vcluster.serviceType) is reached from where kubectl runs",
            ],
        );
    });

    it("kubelet NodePort problems, exactly", () => {
        // firstPort 30000 puts tenant 0's API port on its own default kubelet port, 30000 + (30000 - 30000).
        assert.deepEqual(problemsOf({ vcluster: { firstPort: 30000, tenants: [{ name: "a" }] } }), [
            "vcluster.tenants[0].kubeletPort = 30000: is already the port of vcluster.tenants[0]; every tenant's " +
                "API and kubelet NodePorts must differ (keep tenant ports out of 30000-30085, the default kubelet ports)",
        ]);
        assert.deepEqual(problemsOf({ vcluster: { tenants: [{ name: "a" }, { name: "b", kubeletPort: 30000 }] } }), [
            "vcluster.tenants[1].kubeletPort = 30000: is already the kubeletPort of vcluster.tenants[0]; every " +
                "tenant's API and kubelet NodePorts must differ (keep tenant ports out of 30000-30085, the " +
                "default kubelet ports)",
        ]);
        assert.deepEqual(
            problemsOf({
                cluster: { type: "existing" },
                slurm: { mode: "none" },
                vcluster: { tenants: [{ name: "a", port: 32000, server: "https://a.example.com" }] },
            }),
            [
                "vcluster.tenants[0].kubeletPort = (missing): must be set for port 32000: its default, 30000 + " +
                    "(port - firstPort 31443), falls outside 30000-30085, the NodePorts Kubernetes never picks at random",
            ],
        );
        // A LoadBalancer Service has no kubelet port: nothing to check.
        assertAccepted({
            cluster: { type: "existing" },
            slurm: { mode: "none" },
            vcluster: {
                serviceType: "LoadBalancer",
                tenants: [{ name: "a", port: 32000, server: "https://a.example.com" }],
            },
        });
        assertAccepted({ vcluster: { firstPort: 30086, tenants: [{ name: "a" }] } });
        assertRefused({ vcluster: { tenants: [{ name: "a", kubeletPort: 29999 }] } }, "kubeletPort = 29999");
    });

    it("wrong types get the setting's own words, without 'is required'", () => {
        assert.deepEqual(problemsOf({ slurm: { namespace: 5, compute: { replicas: "3" }, mode: "dynamic" } }), [
            'slurm.mode = "dynamic": must be one of static, slinky, none',
            "slurm.namespace = 5: must be a DNS-1123 label of at most 63 characters: lowercase letters, digits and " +
                "'-', starting and ending with a letter or digit, and none of default, kube-system, kube-public, " +
                "kube-node-lease, local-path-storage",
            'slurm.compute.replicas = "3": must be a whole number from 0 to 100000',
        ]);
        assertRefused({ cluster: { portMappings: {} } }, "cluster.portMappings = {}: must be a list of port mappings");
        assertRefused({ slurm: { partitions: "batch" } }, 'slurm.partitions = "batch": must be a list of partitions');
        assertRefused({ vcluster: { tenants: "a" } }, 'vcluster.tenants = "a": must be a list of tenants like');
        assertRefused(
            { cluster: { type: "existing", kubeconfigPath: 5 }, slurm: { mode: "none" } },
            "= 5: must be the path of a kubeconfig file",
        );
        assertRefused(
            { cluster: { type: "existing", context: 5 }, slurm: { mode: "none" } },
            "cluster.context = 5: must be a kubeconfig context name",
        );
        assertRefused(
            { cluster: { type: "existing", context: "" }, slurm: { mode: "none" } },
            'cluster.context = "": must not be empty',
        );
        assertRefused({ slurm: { compute: { replicas: { n: 3 } } } }, 'slurm.compute.replicas = {"n":3}: must be');
    });

    it("the file check is skipped when there is no kubeconfig path", () => {
        assertAccepted({ cluster: { type: "existing" }, slurm: { mode: "none" } }, { readableFile: () => "never" });
    });

    it("a config that is not an object", () => {
        for (const raw of [null, "x", []]) {
            assert.throws(
                () => parseStackConfig(raw as unknown as Record<string, unknown>),
                (e: ConfigError) =>
                    e.problems[0] ===
                    `(stack config) = ${JSON.stringify(raw)}: must be an object with the settings cluster, slurm, gpuOperator, vcluster`,
            );
        }
    });

    it("ConfigError lists each problem on its own line", () => {
        assert.equal(new ConfigError(["a", "b"]).message, "Invalid stack configuration:\n  - a\n  - b");
        assert.equal(REDACTED, "(not shown: it looks like kubeconfig contents, which hold credentials)");
    });

    it("paths: names joined by dots, list indexes of any length in brackets", () => {
        assert.equal(formatPath(["slurm", "partitions", 10, "name"]), "slurm.partitions[10].name");
        assert.equal(formatPath(["slurm", "compute2"]), "slurm.compute2");
        assert.equal(formatPath(["slurm", "2x"]), "slurm.2x");
        const partitions = [...Array.from({ length: 10 }, (_, i) => ({ name: `p${i}` })), { name: "P" }];
        assertRefused({ slurm: { partitions } }, 'slurm.partitions[10].name = "P"');
        assertRefused({ slurm: { compute2: {} } }, "slurm.compute2: unknown setting");
    });

    it("valueAt and knownKeys look only where there are objects", () => {
        assert.equal(valueAt({ a: null }, ["a", "b"]), undefined);
        assert.equal(valueAt({ a: "text" }, ["a", "length"]), undefined);
        assert.equal(valueAt({ a: [{ b: 1 }] }, ["a", 0, "b"]), 1);
        assert.equal(knownKeys(stackConfigSchema, ["slurm", "mode"], {}), undefined);
        assert.deepEqual(knownKeys(stackConfigSchema, ["cluster"], {}), [
            "type",
            "name",
            "workers",
            "gpuWorkers",
            "engine",
            "nodeImage",
            "portMappings",
        ]);
        assert.deepEqual(knownKeys(stackConfigSchema, ["cluster"], { cluster: { type: "existing" } }), [
            "type",
            "kubeconfigPath",
            "context",
        ]);
        assert.deepEqual(
            describeIssue(
                { code: "unrecognized_keys", keys: ["x"], path: ["slurm", "mode"], message: "", input: {} },
                {},
                stackConfigSchema,
            ),
            ["slurm.mode.x: unknown setting"],
        );
    });

    it("the four settings have descriptions for Pulumi.yaml", () => {
        for (const key of SETTING_NAMES) assert.ok((SETTINGS[key].description ?? "").length > 20, key);
    });
});
