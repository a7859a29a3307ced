import assert from "node:assert/strict";
import { parse } from "yaml";
import {
    GPU_DEVICES_MOUNT,
    KindConfigArgs,
    kindClusterShape,
    renderKindConfig,
} from "../../../components/cluster/kindConfig";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";

const IMAGE = DEFAULT_KIND_NODE_IMAGE;

function args(overrides: Partial<KindConfigArgs> = {}): KindConfigArgs {
    return {
        clusterName: "lab",
        workers: 3,
        gpuWorkers: 2,
        nodeImage: IMAGE,
        portMappings: [
            { containerPort: 30080, hostPort: 8080, protocol: "TCP", listenAddress: "127.0.0.1" },
            { containerPort: 30053, hostPort: 5353, protocol: "UDP", listenAddress: "0.0.0.0" },
        ],
        ...overrides,
    };
}

/** Parsed the way kind reads it: as YAML 1.1. */
function rendered(a: KindConfigArgs): any {
    return parse(renderKindConfig(a), { version: "1.1" });
}

describe("renderKindConfig", () => {
    it("renders the whole kind Cluster object: control plane with port mappings, GPU workers first", () => {
        assert.deepEqual(rendered(args()), {
            kind: "Cluster",
            apiVersion: "kind.x-k8s.io/v1alpha4",
            name: "lab",
            nodes: [
                {
                    role: "control-plane",
                    image: IMAGE,
                    extraPortMappings: [
                        { containerPort: 30080, hostPort: 8080, listenAddress: "127.0.0.1", protocol: "TCP" },
                        { containerPort: 30053, hostPort: 5353, listenAddress: "0.0.0.0", protocol: "UDP" },
                    ],
                },
                {
                    role: "worker",
                    image: IMAGE,
                    extraMounts: [{ hostPath: "/dev/null", containerPath: "/var/run/nvidia-container-devices/all" }],
                },
                {
                    role: "worker",
                    image: IMAGE,
                    extraMounts: [{ hostPath: "/dev/null", containerPath: "/var/run/nvidia-container-devices/all" }],
                },
                { role: "worker", image: IMAGE },
            ],
        });
    });

    it("has exactly one control plane and N workers, whatever N", () => {
        for (const workers of [0, 1, 5]) {
            const nodes = rendered(args({ workers, gpuWorkers: 0 })).nodes as { role: string }[];
            assert.deepEqual(
                nodes.map((n) => n.role),
                ["control-plane", ...Array<string>(workers).fill("worker")],
            );
        }
    });

    it("mounts the GPU devices on the first gpuWorkers workers only, never on the control plane", () => {
        const nodes = rendered(args({ workers: 4, gpuWorkers: 3 })).nodes as { role: string; extraMounts?: unknown }[];
        const withGpus = nodes.map((n) => n.extraMounts !== undefined);
        assert.deepEqual(withGpus, [false, true, true, true, false]);
        assert.deepEqual(nodes[1].extraMounts, [GPU_DEVICES_MOUNT]);
        assert.ok(!renderKindConfig(args({ gpuWorkers: 0 })).includes("nvidia"), "no GPU mount when gpuWorkers is 0");
    });

    it("puts the pinned node image on every node", () => {
        const other = `kindest/node:v1.32.5@sha256:${"a".repeat(64)}`;
        const nodes = rendered(args({ nodeImage: other, workers: 4 })).nodes as { image: string }[];
        assert.equal(nodes.length, 5);
        for (const node of nodes) assert.equal(node.image, other);
    });

    it("leaves extraPortMappings out when there are none", () => {
        const controlPlane = rendered(args({ portMappings: [] })).nodes[0];
        assert.deepEqual(controlPlane, { role: "control-plane", image: IMAGE });
    });

    it("renders byte-identical YAML for the same settings, whatever the key order of the input", () => {
        const first = renderKindConfig(args());
        const reordered = args({
            portMappings: args().portMappings.map((m) => ({
                listenAddress: m.listenAddress,
                protocol: m.protocol,
                hostPort: m.hostPort,
                containerPort: m.containerPort,
            })),
        });
        assert.equal(renderKindConfig(args()), first);
        assert.equal(renderKindConfig(reordered), first);
    });

    it("does not copy unknown fields of a port mapping into the config", () => {
        const extra = {
            containerPort: 1,
            hostPort: 2,
            protocol: "TCP",
            listenAddress: "127.0.0.1",
            surprise: "x",
        } as any;
        assert.ok(!renderKindConfig(args({ portMappings: [extra] })).includes("surprise"));
    });

    it("quotes values a YAML 1.1 reader (kind) would take for booleans", () => {
        for (const name of ["yes", "on", "no", "off", "y", "n"]) {
            const text = renderKindConfig(args({ clusterName: name }));
            assert.equal(parse(text, { version: "1.1" }).name, name, `name ${name} must stay a string:\n${text}`);
        }
    });

    it("starts with the kind apiVersion and kind, with no YAML directive kind might choke on", () => {
        const text = renderKindConfig(args());
        assert.ok(text.startsWith("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"), text);
    });

    it("rejects bad settings, naming each field, its value and what is allowed", () => {
        assert.throws(
            () => renderKindConfig(args({ workers: 1, gpuWorkers: 2 })),
            (e: Error) => e.message.includes("gpuWorkers = 2: must be a whole number from 0 to workers (1)"),
        );
        assert.throws(
            () => renderKindConfig(args({ clusterName: "Lab_1" })),
            /clusterName = "Lab_1": must be a DNS-1123 label/,
        );
        assert.throws(
            () => renderKindConfig(args({ workers: 1.5 })),
            /workers = 1\.5: must be a whole number from 0 to 100/,
        );
        assert.throws(
            () => renderKindConfig(args({ nodeImage: "kindest/node:v1.33.1" })),
            /nodeImage = "kindest\/node:v1\.33\.1": must be an image pinned by digest/,
        );
        // The stack setting's rule, written once (config/rules.ts): a mirror's digest and a local tag pass.
        for (const nodeImage of [
            `registry.example/kindest/node:v1.33.1@sha256:${"a".repeat(64)}`,
            "localhost/node:v1",
        ]) {
            assert.match(renderKindConfig(args({ nodeImage })), new RegExp(`image: ${nodeImage}\n`));
        }
        assert.throws(
            () => renderKindConfig(args({ nodeImage: "localhost/node" })),
            /nodeImage = "localhost\/node": must be an image pinned by digest.* or a local image localhost\/<name>:<tag>/,
        );
        assert.throws(
            () =>
                renderKindConfig(
                    args({
                        portMappings: [
                            { containerPort: 0, hostPort: 70000, protocol: "HTTP" as any, listenAddress: "" },
                        ],
                    }),
                ),
            (e: Error) =>
                [
                    "portMappings[0].containerPort = 0: must be a whole number from 1 to 65535",
                    "portMappings[0].hostPort = 70000: must be a whole number from 1 to 65535",
                    'portMappings[0].protocol = "HTTP": must be one of TCP, UDP, SCTP',
                    'portMappings[0].listenAddress = "": must be a host address such as 127.0.0.1',
                ].every((part) => e.message.includes(`\n  - ${part}`)),
        );
    });

    it("describes the cluster as docker ps shows it: workers, and published ports with IPv6 hosts in brackets", () => {
        const shape = kindClusterShape(
            args({
                workers: 4,
                portMappings: [
                    { containerPort: 30080, hostPort: 8080, protocol: "TCP", listenAddress: "127.0.0.1" },
                    { containerPort: 30053, hostPort: 5353, protocol: "UDP", listenAddress: "::1" },
                ],
            }),
        );
        assert.deepEqual(shape, { workers: 4, publishedPorts: ["127.0.0.1:8080->30080/tcp", "[::1]:5353->30053/udp"] });
    });
});

describe("kind config bounds", () => {
    const digest = "@sha256:" + "a".repeat(64);
    const valid: Array<[string, Partial<KindConfigArgs>]> = [
        ["no workers", { workers: 0, gpuWorkers: 0 }],
        ["the most workers", { workers: 100, gpuWorkers: 100 }],
        ["every worker a GPU worker", { workers: 2, gpuWorkers: 2 }],
        ["a 32-character name", { clusterName: "a".repeat(32) }],
        ["no port mappings", { portMappings: [] }],
        [
            "ports 1 and 65535, SCTP, an IPv6 host",
            { portMappings: [{ containerPort: 1, hostPort: 65535, protocol: "SCTP", listenAddress: "::1" }] },
        ],
        ["a registry host with a port", { nodeImage: `registry.local:5000/kindest/node:v1.33.1${digest}` }],
    ];
    for (const [what, overrides] of valid) {
        it(`accepts ${what}`, () => {
            const a = args(overrides);
            const config = rendered(a);
            assert.equal(config.nodes.length, 1 + a.workers);
            assert.equal(config.name, a.clusterName);
            assert.equal(config.nodes[0].image, a.nodeImage);
        });
    }

    const invalid: Array<[string, Partial<KindConfigArgs>, string]> = [
        ["more than 100 workers", { workers: 101, gpuWorkers: 0 }, "workers = 101"],
        ["negative workers", { workers: -1, gpuWorkers: 0 }, "workers = -1"],
        ["workers as text", { workers: "3" as any, gpuWorkers: 0 }, 'workers = "3"'],
        ["negative GPU workers", { gpuWorkers: -1 }, "gpuWorkers = -1"],
        ["fractional GPU workers", { gpuWorkers: 0.5 }, "gpuWorkers = 0.5"],
        ["a 33-character name", { clusterName: "a".repeat(33) }, "clusterName"],
        ["a digest that is no image reference", { nodeImage: `Kindest/Node:v1${digest}` }, "nodeImage"],
        ["a short digest", { nodeImage: `kindest/node:v1.33.1@sha256:${"a".repeat(63)}` }, "nodeImage"],
        ["a digest followed by garbage", { nodeImage: `kindest/node:v1.33.1${digest}x` }, "nodeImage"],
        // The reference grammar takes digests of 32 or more hex digits; a sha256 one has exactly 64.
        ["a 65-digit digest", { nodeImage: `kindest/node:v1.33.1${digest}a` }, "nodeImage"],
        [
            "port mappings that are no list",
            { portMappings: "8080:30080" as any },
            'portMappings = "8080:30080": must be a list of port mappings',
        ],
        [
            "port 65536",
            { portMappings: [{ containerPort: 65536, hostPort: 8080, protocol: "TCP", listenAddress: "127.0.0.1" }] },
            "portMappings[0].containerPort = 65536",
        ],
        [
            "host port 0",
            { portMappings: [{ containerPort: 30080, hostPort: 0, protocol: "TCP", listenAddress: "127.0.0.1" }] },
            "portMappings[0].hostPort = 0",
        ],
        [
            "a blank listen address",
            { portMappings: [{ containerPort: 30080, hostPort: 8080, protocol: "TCP", listenAddress: "  " }] },
            'portMappings[0].listenAddress = "  "',
        ],
        [
            "a missing listen address",
            { portMappings: [{ containerPort: 30080, hostPort: 8080, protocol: "TCP" } as any] },
            "portMappings[0].listenAddress = (missing)",
        ],
    ];
    for (const [what, overrides, names] of invalid) {
        it(`refuses ${what}, naming it`, () => {
            assert.throws(
                () => renderKindConfig(args(overrides)),
                (e: Error) => e.message.startsWith("Invalid kind cluster settings:\n  - ") && e.message.includes(names),
            );
        });
    }

    it("bounds GPU workers by 100 when the worker count itself is bad, reporting both", () => {
        assert.throws(
            () => renderKindConfig(args({ workers: 101, gpuWorkers: 101 })),
            (e: Error) => e.message.includes("workers = 101") && e.message.includes("gpuWorkers = 101"),
        );
        assert.throws(
            () => renderKindConfig(args({ workers: 101, gpuWorkers: 100 })),
            (e: Error) => !e.message.includes("gpuWorkers"),
        );
    });

    it("names every field of a port mapping that is null instead of crashing", () => {
        assert.throws(
            () => renderKindConfig(args({ portMappings: [null as any] })),
            (e: Error) =>
                ["containerPort", "hostPort", "protocol", "listenAddress"].every((f) =>
                    e.message.includes(`portMappings[0].${f} = (missing)`),
                ),
        );
    });

    it("reports one line per problem", () => {
        assert.throws(
            () => renderKindConfig(args({ workers: -1, gpuWorkers: -1, clusterName: "A" })),
            (e: Error) => e.message.split("\n").filter((l) => l.startsWith("  - ")).length === 3,
        );
    });
});
