/** The kind provider's create when kind already has a cluster of that name: adopt it, or refuse with the fix. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { kindClusterShape, renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderInputs, kindProvider } from "../../../components/cluster/kindProvider";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";
import { CONFIG, fake, INPUTS, KUBECONFIG_OF_LAB, rejection, useFakeKind } from "./fakeKind";

describe("kindProvider (against a fake kind CLI): an existing cluster of the same name", () => {
    const { box, calls } = useFakeKind();
    const PORTS = [{ containerPort: 31443, hostPort: 31443, protocol: "TCP", listenAddress: "127.0.0.1" }] as const;
    const SHAPED: KindProviderInputs = {
        ...INPUTS,
        configYaml: renderKindConfig({ ...CONFIG, portMappings: [...PORTS] }),
        shape: kindClusterShape({ ...CONFIG, portMappings: [...PORTS] }),
        images: ["ai-hyperscaler/slurm:24.11-0123456789ab"],
    };
    /** Node containers of "lab" as the fake docker lists them: name, role, image, published ports. */
    const existing = (nodes: [string, string, string, string][]) =>
        fs.writeFileSync(path.join(box.dir, "kind-nodes", "lab"), nodes.map((n) => `${n.join("\t")}\n`).join(""));
    const MATCHING: [string, string, string, string][] = [
        [
            "lab-control-plane",
            "control-plane",
            DEFAULT_KIND_NODE_IMAGE,
            "127.0.0.1:31443->31443/tcp, 127.0.0.1:40123->6443/tcp",
        ],
        ["lab-worker", "worker", DEFAULT_KIND_NODE_IMAGE, ""],
        ["lab-worker2", "worker", DEFAULT_KIND_NODE_IMAGE, ""],
    ];

    it("adopts one made from the same settings: no create, its kubeconfig, the images loaded", async () => {
        fs.mkdirSync(path.join(box.dir, "kind-nodes"), { recursive: true });
        existing(MATCHING);
        const result = await kindProvider.create(SHAPED);
        assert.deepEqual(calls(), [
            ["get", "clusters"],
            ["get", "kubeconfig", "--name", "lab"],
            ["load", "docker-image", "ai-hyperscaler/slurm:24.11-0123456789ab", "--name", "lab"],
        ]);
        assert.deepEqual(calls("docker"), [
            [
                "ps",
                "-a",
                "--filter",
                "label=io.x-k8s.kind.cluster=lab",
                "--format",
                '{{.Names}}|{{.Label "io.x-k8s.kind.role"}}|{{.Image}}|{{.Ports}}',
            ],
        ]);
        assert.equal(result.id, "lab");
        assert.equal(result.outs!.kubeconfig, KUBECONFIG_OF_LAB);
    });

    it("refuses one that differs, with the exact kind delete command, and touches nothing", async () => {
        fs.mkdirSync(path.join(box.dir, "kind-nodes"), { recursive: true });
        const other = `kindest/node:v1.32.5@sha256:${"b".repeat(64)}`;
        for (const [nodes, difference] of [
            [MATCHING.slice(0, 2), "1 workers, not 2"],
            [[MATCHING[0], MATCHING[1], ["lab-worker2", "worker", other, ""]], `node lab-worker2 runs ${other}`],
            [
                [
                    ["lab-control-plane", "control-plane", DEFAULT_KIND_NODE_IMAGE, "127.0.0.1:40123->6443/tcp"],
                    MATCHING[1],
                    MATCHING[2],
                ],
                "does not publish 127.0.0.1:31443->31443/tcp",
            ],
            [MATCHING.slice(1), "0 control-plane nodes, not 1"],
        ] as [[string, string, string, string][], string][]) {
            existing(nodes);
            const error = await rejection(kindProvider.create(SHAPED));
            assert.ok(
                error.message.startsWith(
                    'a kind cluster named "lab" exists already and was not made from these settings (',
                ),
                error.message,
            );
            assert.ok(error.message.includes(difference), `${difference} in: ${error.message}`);
            assert.ok(error.message.includes("delete it with `kind delete cluster --name lab`"), error.message);
            assert.equal((error as { id?: string }).id, undefined, "not recorded: the cluster is not this stack's");
        }
        assert.deepEqual([...new Set(calls().map((c) => c.slice(0, 2).join(" ")))], ["get clusters"]);
    });

    it("names every difference in one sentence, and the two ways out", async () => {
        fs.mkdirSync(path.join(box.dir, "kind-nodes"), { recursive: true });
        const port = "127.0.0.1:40123->6443/tcp";
        existing([["lab-control-plane", "control-plane", DEFAULT_KIND_NODE_IMAGE, port], MATCHING[1]]);
        assert.equal(
            (await rejection(kindProvider.create(SHAPED))).message,
            'a kind cluster named "lab" exists already and was not made from these settings (1 workers, not 2; ' +
                "its control plane does not publish 127.0.0.1:31443->31443/tcp); " +
                "delete it with `kind delete cluster --name lab` or choose another cluster.name, then run up again",
        );
        // Without a control plane there are no ports to compare: only the missing node is named.
        existing(MATCHING.slice(1));
        const error = await rejection(kindProvider.create(SHAPED));
        assert.ok(error.message.includes("settings (0 control-plane nodes, not 1); delete it"), error.message);
    });

    it("refuses a listed cluster with no shape to compare against", async () => {
        fake({ clusters: "lab" });
        const error = await rejection(kindProvider.create(INPUTS));
        assert.match(
            error.message,
            /do not say what the cluster should look like\); delete it with `kind delete cluster --name lab`/,
        );
    });
    it("adopts one whose nodes Docker shows by another name of the same digest, and keeps the shape in its outputs", async () => {
        fs.mkdirSync(path.join(box.dir, "kind-nodes"), { recursive: true });
        const digestOnly = `kindest/node@${DEFAULT_KIND_NODE_IMAGE.split("@")[1]}`;
        existing(MATCHING.map(([name, role, , ports]) => [name, role, digestOnly, ports]));
        const result = await kindProvider.create(SHAPED);
        assert.equal(result.id, "lab");
        assert.deepEqual(result.outs!.shape, SHAPED.shape);
    });

    it("refuses one whose node image has no digest and another name", async () => {
        fs.mkdirSync(path.join(box.dir, "kind-nodes"), { recursive: true });
        existing([MATCHING[0], MATCHING[1], ["lab-worker2", "worker", "kindest/node:v1.33.1", ""]]);
        const error = await rejection(kindProvider.create(SHAPED));
        assert.ok(error.message.includes("node lab-worker2 runs kindest/node:v1.33.1"), error.message);
    });

    it("says Docker failed when it cannot list the nodes, instead of comparing nothing", async () => {
        fake({ clusters: "lab" });
        process.env.FAKE_DOCKER_ENGINE = "down";
        const error = await rejection(kindProvider.create(SHAPED));
        assert.ok(error.message.startsWith("`docker ps -a --filter label=io.x-k8s.kind.cluster=lab"), error.message);
        assert.ok(error.message.includes("Cannot connect to the Docker daemon"), error.message);
        assert.deepEqual(calls(), [["get", "clusters"]]);
    });
});
