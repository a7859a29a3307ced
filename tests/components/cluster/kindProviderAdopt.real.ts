/**
 * The kind provider's create when kind already has a cluster of that name, against a real Docker engine and the
 * real kind CLI: node containers carrying kind's labels and publishing ports as kind publishes them (a range of
 * consecutive ports, the API server on a random one), and kind itself listing them and reading their kubeconfig.
 * The containers run busybox, not a Kubernetes node: adoption reads only Docker's records and the kubeconfig file,
 * and a real node needs a privileged container, which Docker refuses on these machines.
 */
import assert from "node:assert/strict";
import { kindClusterShape, renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderInputs, kindProvider } from "../../../components/cluster/kindProvider";
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
const CONFIG = { clusterName: "lab", workers: 2, gpuWorkers: 0, nodeImage: NODE_IMAGE, portMappings: PORTS };
const INPUTS: KindProviderInputs = {
    clusterName: "lab",
    configYaml: renderKindConfig(CONFIG),
    nodeImage: NODE_IMAGE,
    kindPath: "kind",
    shape: kindClusterShape(CONFIG),
};
const ADMIN_CONF = [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{ name: kind-lab, cluster: { server: 'https://lab-control-plane:6443' } }]",
    "users: [{ name: kind-lab, user: { token: adoption-test } }]",
    "contexts: [{ name: kind-lab, context: { cluster: kind-lab, user: kind-lab } }]",
    "current-context: kind-lab",
    "",
].join("\n");

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

        /** Node containers as kind makes them: labels, network, hostname, published ports, the admin kubeconfig. */
        async function node(name: string, role: string, options: { image?: string; ports?: string[] } = {}) {
            const publish = (options.ports ?? []).flatMap((p) => ["--publish", p]);
            const labels = ["--label", "io.x-k8s.kind.cluster=lab", "--label", `io.x-k8s.kind.role=${role}`];
            const script =
                'mkdir -p /etc/kubernetes && echo "$ADMIN_CONF" > /etc/kubernetes/admin.conf && exec sleep 3600';
            await engine.docker([
            "run", "--detach", "--name", name, "--hostname", name, "--network", "kind", ...labels, ...publish,
            "--env", `ADMIN_CONF=${ADMIN_CONF}`, options.image ?? NODE_IMAGE, "sh", "-c", script,
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

        it("adopts an identical cluster: no kind create, kind's kubeconfig of it, nothing else started", async () => {
            await matchingCluster();
            const before = (await engine.docker(["ps", "-aq"])).split("\n").filter(Boolean).sort();
            const result = await kindProvider.create(INPUTS);
            assert.equal(result.id, "lab");
            const apiPort = (await engine.docker(["port", "lab-control-plane", "6443/tcp"])).trim().split(":").pop();
            assert.match(result.outs!.kubeconfig, new RegExp(`server: https://127\\.0\\.0\\.1:${apiPort}\\n`));
            assert.match(result.outs!.kubeconfig, /token: adoption-test/);
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
