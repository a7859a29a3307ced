/**
 * The kind provider's create when kind already has a cluster of that name, against a real Docker engine and the
 * real kind CLI: node containers carrying kind's labels and publishing ports as kind publishes them (a range of
 * consecutive ports, the API server on a random one), and kind itself listing them and reading their kubeconfig.
 * The containers run busybox, not a Kubernetes node: adoption compares only Docker's records. A real node needs a
 * privileged container, and kind reads a node's kubeconfig with `docker exec --privileged`; Docker refuses both
 * on these machines (the bounding set lacks CAP_SYS_RESOURCE), so a take-over stops at that read here.
 */
import assert from "node:assert/strict";
import { kindClusterShape, renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderInputs, kindProvider, shapeDifferences } from "../../../components/cluster/kindProvider";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";
import { Dockerd, dockerdAvailable, importBusyboxImage, startDockerd } from "../../../testbed/docker/dockerd";

const NODE_IMAGE = "localhost/kind-node:adoption-test";
const OTHER_IMAGE = "localhost/kind-node:other";
/** The tenant pool of every default stack: five consecutive ports, which `docker ps` merges into one range. */
const PORTS = [31443, 31444, 31445, 31446, 31447].map((port) => ({
    containerPort: port,
    hostPort: port,
    protocol: "TCP" as const,
    listenAddress: "127.0.0.1",
}));
// The kind config wants a pinned image; adoption compares `nodeImage` with the containers' image, a local one here.
const CONFIG = {
    clusterName: "lab",
    workers: 2,
    gpuWorkers: 0,
    nodeImage: DEFAULT_KIND_NODE_IMAGE,
    portMappings: PORTS,
};
const INPUTS: KindProviderInputs = {
    clusterName: "lab",
    configYaml: renderKindConfig(CONFIG),
    nodeImage: NODE_IMAGE,
    kindPath: "kind",
    shape: kindClusterShape(CONFIG),
};

async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (error) {
        return error as Error;
    }
    assert.fail("expected the call to fail");
}

(dockerdAvailable() ? describe : describe.skip)(
    "kindProvider (real Docker, real kind): adopting a cluster",
    function () {
        this.timeout(180_000);
        let engine: Dockerd;
        const savedHost = process.env.DOCKER_HOST;

        before(async () => {
            engine = await startDockerd();
            process.env.DOCKER_HOST = engine.host;
            await importBusyboxImage(engine, NODE_IMAGE);
            await engine.docker(["tag", NODE_IMAGE, OTHER_IMAGE]);
            await engine.docker(["network", "create", "kind"]);
        });
        after(async () => {
            if (savedHost === undefined) delete process.env.DOCKER_HOST;
            else process.env.DOCKER_HOST = savedHost;
            await engine?.stop();
        });
        afterEach(async () => {
            const ids = (await engine.docker(["ps", "-aq"])).split("\n").filter(Boolean);
            if (ids.length > 0) await engine.docker(["rm", "-f", ...ids]);
        });

        /** Node containers as kind makes them: labels, network, hostname, published ports. */
        async function node(name: string, role: string, options: { image?: string; ports?: string[] } = {}) {
            const publish = (options.ports ?? []).flatMap((p) => ["--publish", p]);
            const labels = ["--label", "io.x-k8s.kind.cluster=lab", "--label", `io.x-k8s.kind.role=${role}`];
            await engine.docker([
            "run", "--detach", "--name", name, "--hostname", name, "--network", "kind", ...labels, ...publish,
            options.image ?? NODE_IMAGE, "sleep", "3600",
        ]); // prettier-ignore
        }
        const CONTROL_PLANE_PORTS = ["127.0.0.1:31443-31447:31443-31447", "127.0.0.1::6443"];
        async function matchingCluster(): Promise<void> {
            await node("lab-control-plane", "control-plane", { ports: CONTROL_PLANE_PORTS });
            await node("lab-worker", "worker");
            await node("lab-worker2", "worker");
        }

        it("Docker's own list merges the five ports into one range (why the provider reads docker inspect)", async () => {
            await matchingCluster();
            const ps = await engine.docker(["ps", "--filter", "name=lab-control-plane", "--format", "{{.Ports}}"]);
            assert.match(ps, /127\.0\.0\.1:31443-31447->31443-31447\/tcp/);
        });

        it("finds no difference in an identical cluster, and create goes on to take it over", async () => {
            await matchingCluster();
            assert.deepEqual(await shapeDifferences(INPUTS), []);
            const before = (await engine.docker(["ps", "-aq"])).split("\n").filter(Boolean).sort();
            // Taking over means kind's own kubeconfig of it: kind reads it with `docker exec --privileged`, which
            // Docker refuses on these machines (see the header), so create stops there, past the comparison.
            const error = await rejection(kindProvider.create(INPUTS));
            assert.ok(!error.message.includes("was not made from these settings"), error.message);
            assert.ok(error.message.startsWith("`kind get kubeconfig --name lab` failed"), error.message);
            assert.match(
                error.message,
                /docker exec --privileged lab-control-plane cat \/etc\/kubernetes\/admin\.conf/,
            );
            assert.deepEqual((await engine.docker(["ps", "-aq"])).split("\n").filter(Boolean).sort(), before);
        });

        it("refuses a cluster that differs, naming each difference and the kind delete command", async () => {
            await node("lab-control-plane", "control-plane", {
                ports: ["127.0.0.1:31443-31446:31443-31446", "127.0.0.1::6443"],
            });
            await node("lab-worker", "worker", { image: OTHER_IMAGE });
            const error = await rejection(kindProvider.create(INPUTS));
            assert.equal(
                error.message,
                'a kind cluster named "lab" exists already and was not made from these settings (1 workers, not 2; ' +
                    `node lab-worker runs ${OTHER_IMAGE}, not ${NODE_IMAGE}; ` +
                    "its control plane does not publish 127.0.0.1:31447->31447/tcp); " +
                    "delete it with `kind delete cluster --name lab` or choose another cluster.name, then run up again",
            );
            assert.equal((error as { id?: string }).id, undefined, "not recorded: the cluster is not this stack's");
        });

        it("refuses a cluster that publishes a port on another address", async () => {
            await node("lab-control-plane", "control-plane", {
                ports: ["0.0.0.0:31443:31443", "127.0.0.1:31444-31447:31444-31447", "127.0.0.1::6443"],
            });
            await node("lab-worker", "worker");
            await node("lab-worker2", "worker");
            const error = await rejection(kindProvider.create(INPUTS));
            assert.ok(error.message.includes("does not publish 127.0.0.1:31443->31443/tcp)"), error.message);
        });

        it("refuses a listed cluster when these settings carry no shape to compare with", async () => {
            await matchingCluster();
            const error = await rejection(kindProvider.create({ ...INPUTS, shape: undefined }));
            assert.match(error.message, /do not say what the cluster should look like\); delete it with `kind delete/);
        });
    },
);
