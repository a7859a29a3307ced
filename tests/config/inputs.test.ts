import { strict as assert } from "node:assert";
import { parseStackConfig } from "../../config/schema";
import { REDACTED } from "../../config/errors";
import { assertAccepted, assertRefused, problemsOf } from "./helpers";

const KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    server: https://10.0.0.1:6443
users:
- name: admin
  user:
    token: s3cr3t-token-value`;

const mapping = (hostPort: number, listenAddress?: string, protocol?: string) => ({
    containerPort: 30000 + (hostPort % 1000),
    hostPort,
    ...(listenAddress ? { listenAddress } : {}),
    ...(protocol ? { protocol } : {}),
});
const kindWith = (portMappings: unknown[]) => ({ cluster: { portMappings } });

describe("input classes once judged wrong", () => {
    describe("refused", () => {
        for (const name of ["default", "Default", "DEFAULT"]) {
            it(`a partition named ${name}`, () => {
                assertRefused({ slurm: { partitions: [{ name }] } }, "slurm.partitions[0].name", "DNS-1123 label");
            });
        }
        it("says why `default` in particular is refused", () => {
            assertRefused({ slurm: { partitions: [{ name: "default" }] } }, 'not "default"', "PartitionName=DEFAULT");
        });

        for (const name of ["1team", "9", "-a"]) {
            it(`a tenant name that does not start with a letter: ${name}`, () => {
                assertRefused(
                    { vcluster: { tenants: [{ name }] } },
                    `vcluster.tenants[0].name = "${name}"`,
                    "starting with a letter",
                );
            });
        }

        for (const namespace of ["kube-system", "kube-public", "kube-node-lease", "default", "local-path-storage"]) {
            it(`the system namespace ${namespace} for slurm.namespace and gpuOperator.namespace`, () => {
                assertRefused(
                    { slurm: { namespace } },
                    `slurm.namespace = "${namespace}"`,
                    "none of default, kube-system",
                );
                assertRefused({ gpuOperator: { namespace } }, `gpuOperator.namespace = "${namespace}"`, "none of");
            });
        }

        for (const helperImage of [
            "docker.io/library/alpine:latest",
            "alpine",
            "registry:5000/alpine",
            "Alpine:3.22",
        ]) {
            it(`slurm.helperImage not pinned, or no image reference: ${helperImage}`, () => {
                assertRefused(
                    { slurm: { mode: "slinky", helperImage } },
                    `slurm.helperImage = "${helperImage}": must be a container image reference pinned by a tag ` +
                        "other than latest or by a digest",
                );
            });
        }

        for (const namespace of ["slinky", "cert-manager"]) {
            it(`in slinky mode, the operators' namespace ${namespace}`, () => {
                assertRefused(
                    { slurm: { mode: "slinky", namespace } },
                    `slurm.namespace = "${namespace}"`,
                    "already used by",
                );
                assertRefused(
                    {
                        slurm: { mode: "slinky" },
                        cluster: { workers: 1, gpuWorkers: 1 },
                        gpuOperator: { enabled: true, namespace },
                    },
                    `gpuOperator.namespace = "${namespace}"`,
                    "(slurm.mode slinky)",
                );
                assertAccepted({ slurm: { mode: "static", namespace } });
            });
        }

        for (const image of [
            "Slurm:24.11",
            "slurm:",
            "registry:5000/",
            "slurm:24.11 ",
            "a//b",
            "slurm@sha256:123",
            "-slurm",
        ]) {
            it(`the malformed image reference ${JSON.stringify(image)}`, () => {
                assertRefused(
                    { slurm: { image } },
                    `slurm.image = ${JSON.stringify(image)}`,
                    "container image reference",
                );
            });
        }

        for (const wildcard of ["0.0.0.0", "::"]) {
            it(`two mappings of one host port when one listens on ${wildcard}`, () => {
                assertRefused(
                    kindWith([mapping(8080, wildcard), mapping(8080)]),
                    "cluster.portMappings[1].hostPort = 8080",
                    "mapped twice",
                );
                assertRefused(
                    kindWith([mapping(8080), mapping(8080, wildcard)]),
                    "cluster.portMappings[1].hostPort = 8080",
                    "mapped twice",
                );
            });
        }

        it("but not one host port on two specific addresses, nor over two protocols", () => {
            assertAccepted(kindWith([mapping(8080, "127.0.0.1"), mapping(8080, "::1")]));
            assertAccepted(kindWith([mapping(8080, "0.0.0.0", "TCP"), mapping(8080, "0.0.0.0", "UDP")]));
            assertRefused(kindWith([mapping(8080, "::1"), mapping(8080, "::1")]), "mapped twice");
        });

        it("a kubeconfig path that is not a readable file (checked by the injected file check)", () => {
            const asked: string[] = [];
            const readableFile = (file: string) => (
                asked.push(file),
                file === "/ok" ? undefined : "must be a readable kubeconfig file; /nope does not exist"
            );
            const raw = (kubeconfigPath: string) => ({
                cluster: { type: "existing", kubeconfigPath },
                slurm: { mode: "none" },
            });
            assert.deepEqual(problemsOf(raw("/nope"), { readableFile }), [
                'cluster.kubeconfigPath = "/nope": must be a readable kubeconfig file; /nope does not exist',
            ]);
            assert.deepEqual(problemsOf(raw("/ok"), { readableFile }), []);
            assert.deepEqual(asked, ["/nope", "/ok"]);
            assert.deepEqual(problemsOf(raw("/nope")), [], "the pure parse does no I/O");
        });

        it("kubeconfig contents pasted as the path, without echoing them", () => {
            for (const contents of [KUBECONFIG, '{"apiVersion":"v1","clusters":[]}', "current-context: prod"]) {
                const line = assertRefused(
                    { cluster: { type: "existing", kubeconfigPath: contents }, slurm: { mode: "none" } },
                    "cluster.kubeconfigPath",
                    "not its contents",
                    REDACTED,
                );
                assert.ok(!line.includes("s3cr3t") && !line.includes("apiVersion") && !line.includes("10.0.0.1"), line);
            }
        });

        it("kubeconfig contents are not echoed among several problems, nor handed to the file check", () => {
            let checked = false;
            const problems = problemsOf(
                { cluster: { type: "existing", kubeconfigPath: KUBECONFIG }, slurm: { mode: "bogus" } },
                { readableFile: () => ((checked = true), "unreadable") },
            );
            assert.equal(problems.length, 2);
            assert.ok(!problems.join("\n").includes("s3cr3t"));
            assert.equal(checked, false);
        });
    });

    describe("accepted", () => {
        it("slurm.helperImage pinned by tag (a mirror with a port too) or by digest, default alpine:3.22", () => {
            assert.equal(
                parseStackConfig({ slurm: { mode: "slinky" } }).slurm.helperImage,
                "docker.io/library/alpine:3.22",
            );
            for (const helperImage of [
                "mirror.example.com:5000/library/alpine:3.22",
                `alpine@sha256:${"0".repeat(64)}`,
                `registry:5000/alpine:latest@sha256:${"0".repeat(64)}`,
            ])
                assert.equal(
                    parseStackConfig({ slurm: { mode: "slinky", helperImage } }).slurm.helperImage,
                    helperImage,
                );
        });
        it("capital letters in an image tag", () => {
            assert.equal(
                parseStackConfig({ slurm: { image: "registry.example.com:5000/hpc/slurm:24.11-RC1" } }).slurm.image,
                "registry.example.com:5000/hpc/slurm:24.11-RC1",
            );
        });
        it("dots in storageClassName (a DNS subdomain)", () => {
            assert.equal(
                parseStackConfig({ slurm: { storage: { storageClassName: "fast.ssd.example.com" } } }).slurm.storage
                    .storageClassName,
                "fast.ssd.example.com",
            );
        });
        it("an IPv6 listen address", () => {
            const config = parseStackConfig(kindWith([mapping(8080, "::1")]));
            assert.equal(config.cluster.type === "kind" && config.cluster.portMappings[0].listenAddress, "::1");
        });
        it("a cluster without type, which is a Kind cluster", () => {
            const config = parseStackConfig({ cluster: { workers: 3 } });
            assert.equal(config.cluster.type, "kind");
            assert.equal(config.cluster.type === "kind" && config.cluster.workers, 3);
            assert.deepEqual(parseStackConfig({ cluster: {} }).cluster, parseStackConfig({}).cluster);
        });
    });

    describe("said more clearly", () => {
        it("cluster: null says an object is expected", () => {
            assertRefused({ cluster: null }, "cluster = null", "must be an object");
            assertRefused({ cluster: "kind" }, 'cluster = "kind"', "must be an object");
        });
        it("a partition without a name says the name is required", () => {
            assertRefused(
                { slurm: { partitions: [{ maxTimeMinutes: 5 }] } },
                "slurm.partitions[0].name = (missing)",
                "is required",
            );
        });
        it("an unknown field of an existing cluster names that variant's fields only", () => {
            assertRefused({ cluster: { type: "existing", workers: 1 } }, "allowed here: type, kubeconfigPath, context");
            assertRefused(
                { cluster: { wokers: 1 } },
                "cluster.wokers: unknown setting",
                "allowed here: type, name, workers",
            );
        });
        it("a whole config that is not an object", () => {
            assert.throws(
                () => parseStackConfig([] as unknown as Record<string, unknown>),
                /must be an object with the settings cluster, slurm/,
            );
        });
    });

    it("reports every problem at once: each setting's own and the cross-setting ones", () => {
        const problems = problemsOf({
            cluster: { workers: 1, gpuWorkers: 2 },
            slurm: { namespace: "kube-system", compute: { replicas: 5, maxNodes: 2 } },
            gpuOperator: { enabled: "yes" },
            vcluster: { tenants: [{ name: "a" }, { name: "a" }] },
            extra: 1,
        });
        assert.deepEqual(
            problems.map((p) => p.split(/ = |:/)[0]),
            ["extra", "slurm.namespace", "gpuOperator.enabled", "cluster.gpuWorkers", "vcluster.tenants[].name"],
        );
    });
});
