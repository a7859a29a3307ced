/**
 * The cluster components under Pulumi mocks: what they register, with which inputs, under which parent, and
 * which outputs are secret. Kind itself never runs here (the dynamic resource's state comes from the mocks).
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ExistingCluster } from "../../../components/cluster/ExistingCluster";
import { KindCluster, KindClusterArgs } from "../../../components/cluster/KindCluster";
import { clusterIdentity } from "../../../components/cluster/identity";
import { renderKindConfig } from "../../../components/cluster/kindConfig";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";
import {
    MockEngine,
    installMocks,
    isSecret,
    mockKubeconfig,
    settle,
    valueOf as value,
} from "../../../evaluation/mocks";

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const K8S_PROVIDER = "pulumi:providers:kubernetes";

const ARGS: KindClusterArgs = {
    clusterName: "lab",
    workers: 2,
    gpuWorkers: 1,
    nodeImage: DEFAULT_KIND_NODE_IMAGE,
    portMappings: [{ containerPort: 30080, hostPort: 8080, protocol: "TCP", listenAddress: "127.0.0.1" }],
};

let engine: MockEngine;
const ofType = (type: string) => engine.ofType(type);
/** The kubeconfig the mocks' kind resource reports (the one dynamic resource registered). */
const kindKubeconfig = () => mockKubeconfig(ofType(DYNAMIC)[0].name);

/** Records each resource a component creates and its parent; only the component's children see this option. */
function watchChildren(
    seen: { type: string; name: string; parent?: pulumi.Resource }[],
): pulumi.ComponentResourceOptions {
    return {
        transformations: [
            (a) => {
                seen.push({ type: a.type, name: a.name, parent: a.opts.parent });
                return undefined;
            },
        ],
    };
}

describe("cluster components (Pulumi mocks)", () => {
    before(async () => {
        engine = await installMocks();
    });

    beforeEach(() => {
        engine.reset();
    });

    describe("KindCluster", () => {
        it("registers the kind dynamic resource with the rendered config and a serialized provider", async () => {
            const cluster = new KindCluster("kind-a", ARGS);
            await settle();

            assert.equal(ofType("hyperscaler:cluster:KindCluster").length, 1);
            const dynamic = ofType(DYNAMIC);
            assert.equal(
                dynamic.length,
                1,
                `expected the kind resource to be registered; registered: ${engine.resources.map((r) => r.type).join(", ")}`,
            );
            const { __provider, ...inputs } = dynamic[0].inputs;
            assert.deepEqual(inputs, {
                clusterName: "lab",
                engine: "docker",
                configYaml: renderKindConfig(ARGS),
                nodeImage: DEFAULT_KIND_NODE_IMAGE,
                kindPath: "kind",
                images: [],
                shape: { workers: 2, publishedPorts: ["127.0.0.1:8080->30080/tcp"] },
            });
            assert.equal(typeof __provider, "string");
            assert.match(__provider, /exports\.handler/);
            assert.equal(await value(cluster.clusterName), "lab");
        });

        it("registers a Kubernetes provider fed the cluster's kubeconfig, as a secret", async () => {
            const cluster = new KindCluster("kind-b", ARGS);
            await settle();

            const providers = ofType(K8S_PROVIDER);
            assert.equal(providers.length, 1);
            // Passed as a secret: the provider's state never holds the credentials in clear.
            assert.deepEqual(providers[0].secretPaths, ["kubeconfig"]);
            assert.equal(providers[0].inputs.kubeconfig, kindKubeconfig());
            // Never set: it would override PULUMI_K8S_DELETE_UNREACHABLE, which npm run up sets only for a cluster
            // that is gone, and make a refresh during an outage drop live objects.
            assert.equal(providers[0].inputs.deleteUnreachable, undefined);
            assert.ok(pulumi.Resource.isInstance(cluster.provider));
        });

        it("exposes the kubeconfig as a secret", async () => {
            const cluster = new KindCluster("kind-c", ARGS);
            await settle();

            assert.equal(await isSecret(cluster.kubeconfig), true);
            assert.equal(await value(cluster.kubeconfig), kindKubeconfig());
        });

        it("exposes the cluster's identity, the hash of its kubeconfig's CA, in the clear", async () => {
            const cluster = new KindCluster("kind-i", ARGS);
            await settle();

            assert.equal(await value(cluster.identity), clusterIdentity(kindKubeconfig()));
            assert.equal(await isSecret(cluster.identity), false, "a hash of a public certificate is no secret");
        });

        it("creates the kind resource and the provider as its own children", async () => {
            const seen: { type: string; name: string; parent?: pulumi.Resource }[] = [];
            const cluster = new KindCluster("kind-d", ARGS, watchChildren(seen));
            await settle();

            const children = seen.filter((s) => s.parent === cluster).map((s) => s.type);
            assert.deepEqual(children.sort(), [DYNAMIC, K8S_PROVIDER].sort());
        });

        it("passes the engine to the provider (docker unless given), and refuses one kind cannot run", async () => {
            new KindCluster("kind-p", { ...ARGS, engine: "podman" });
            await settle();
            assert.equal(ofType(DYNAMIC)[0].inputs.engine, "podman");
            assert.throws(
                () => new KindCluster("kind-bad3", { ...ARGS, engine: "lxc" as "podman" }),
                /KindCluster "kind-bad3" has invalid arguments:\n {2}- engine = "lxc": must be one of docker, podman$/,
            );
        });

        it("passes a custom kindPath to the provider", async () => {
            new KindCluster("kind-e", { ...ARGS, kindPath: "/opt/kind/bin/kind" });
            await settle();
            assert.equal(ofType(DYNAMIC)[0].inputs.kindPath, "/opt/kind/bin/kind");
        });

        it("rejects bad arguments before registering anything, naming component, argument, value, rule", async () => {
            assert.throws(
                () => new KindCluster("kind-bad", { ...ARGS, workers: 1, gpuWorkers: 2, kindPath: "" }),
                (e: Error) =>
                    e.message.startsWith('KindCluster "kind-bad" has invalid arguments:') &&
                    e.message.includes("gpuWorkers = 2: must be a whole number from 0 to workers (1)") &&
                    e.message.includes('kindPath = "": must be the kind binary\'s name on PATH or its path'),
            );
            assert.throws(
                () => new KindCluster("kind-bad2", { ...ARGS, nodeImage: "kindest/node:latest" }),
                /nodeImage = "kindest\/node:latest": must be an image pinned by digest/,
            );
            await settle();
            assert.deepEqual(engine.resources, [], "nothing registered for bad arguments");
        });
    });

    describe("ExistingCluster", () => {
        const savedKubeconfigEnv = process.env.KUBECONFIG;
        beforeEach(() => {
            // The Kubernetes provider falls back to $KUBECONFIG: keep the developer's out of these inputs.
            delete process.env.KUBECONFIG;
        });
        afterEach(() => {
            if (savedKubeconfigEnv !== undefined) process.env.KUBECONFIG = savedKubeconfigEnv;
        });

        it("registers only a Kubernetes provider for the given kubeconfig path and context", async () => {
            const seen: { type: string; name: string; parent?: pulumi.Resource }[] = [];
            const cluster = new ExistingCluster(
                "existing-a",
                { kubeconfigPath: "/home/me/.kube/lab", context: "prod-east" },
                watchChildren(seen),
            );
            await settle();

            assert.deepEqual(engine.resources.map((r) => r.type).sort(), [
                "hyperscaler:cluster:ExistingCluster",
                K8S_PROVIDER,
            ]);
            const [provider] = ofType(K8S_PROVIDER);
            assert.equal(provider.inputs.kubeconfig, "/home/me/.kube/lab");
            assert.equal(provider.inputs.context, "prod-east");
            assert.deepEqual(
                seen.filter((s) => s.parent === cluster).map((s) => s.type),
                [K8S_PROVIDER],
            );
            assert.equal(await value(cluster.clusterName), "prod-east");
            assert.equal(cluster.kubeconfig, undefined);
        });

        it("defaults to the provider's own kubeconfig lookup and the current context", async () => {
            const cluster = new ExistingCluster("existing-b", {});
            await settle();

            assert.equal(ofType(DYNAMIC).length, 0);
            const [provider] = ofType(K8S_PROVIDER);
            assert.equal(provider.inputs.kubeconfig, undefined);
            assert.equal(provider.inputs.context, undefined);
            assert.equal(await value(cluster.clusterName), "current");
        });

        it("rejects an empty context or kubeconfig path before registering anything", async () => {
            assert.throws(
                () => new ExistingCluster("existing-bad", { context: "" }),
                /ExistingCluster "existing-bad" has invalid arguments:\n {2}- context = "": must be a non-empty string/,
            );
            assert.throws(
                () => new ExistingCluster("existing-bad2", { kubeconfigPath: " " }),
                /kubeconfigPath = " ": must be a non-empty string/,
            );
            await settle();
            assert.deepEqual(engine.resources, [], "nothing registered for bad arguments");
        });
    });
});
