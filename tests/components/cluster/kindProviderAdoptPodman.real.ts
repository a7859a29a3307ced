/**
 * The kind provider's adoption read (`shapeDifferences`) with cluster.engine podman, against the real podman: node
 * containers carrying kind's labels and publishing ports as kind publishes them (a range of consecutive ports, the
 * API server on a random one). The containers run busybox, not a Kubernetes node: adoption compares only the
 * engine's records (`podman ps -aq --filter label=...` and `podman inspect`). Everything runs under a cluster name
 * of this run's own, on free host ports, and every container and image it makes is removed after each test and at
 * the end, also on failure.
 *
 * podman needs `CONTAINERS_CONF` on these machines (runc, ulimits within the hard nofile limit): the one of the
 * environment when set (as `eval "$(tests/e2e/build-images.sh)"` exports it), else a temporary one with the same
 * settings.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { kindClusterShape, renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderInputs, shapeDifferences } from "../../../components/cluster/kindProvider";
import { podman, podmanOk } from "../../e2e/harness/podman";

const CLUSTER = `adopt-podman-${process.pid}`;
const NODE_IMAGE = `localhost/kind-node-${CLUSTER}:adoption-test`;
const OTHER_IMAGE = `localhost/kind-node-${CLUSTER}:other`;
/**
 * What build-images.sh writes: crun fails on these machines' cgroup layout; the hard nofile limit is 20000, and
 * podman's default nproc is above the hard limit, which a process without CAP_SYS_RESOURCE cannot raise to.
 */
const CONTAINERS_CONF =
    '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n';

function podmanAvailable(): boolean {
    const env = { ...process.env };
    if (!env.CONTAINERS_CONF) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podman-probe-"));
        env.CONTAINERS_CONF = path.join(dir, "containers.conf");
        fs.writeFileSync(env.CONTAINERS_CONF, CONTAINERS_CONF);
        try {
            return spawnSync("podman", ["info", "--format", "{{.Version.Version}}"], { env }).status === 0;
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    return spawnSync("podman", ["info", "--format", "{{.Version.Version}}"], { env }).status === 0;
}

/** `count` consecutive host ports free on 127.0.0.1 now (the tenant pool of a stack, moved out of others' way). */
async function freePorts(count: number): Promise<number[]> {
    const free = (port: number) =>
        new Promise<boolean>((resolve) => {
            const server = net.createServer();
            server.once("error", () => resolve(false));
            server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
        });
    for (let base = 38000 + (process.pid % 1000) * 5; base < 60000; base += count) {
        const ports = Array.from({ length: count }, (_, i) => base + i);
        if ((await Promise.all(ports.map(free))).every(Boolean)) return ports;
    }
    throw new Error(`no ${count} consecutive free ports on 127.0.0.1`);
}

(podmanAvailable() ? describe : describe.skip)("kindProvider (real podman): reading a cluster to adopt", function () {
    this.timeout(180_000);
    const savedConf = process.env.CONTAINERS_CONF;
    let dir: string;
    let ports: number[];
    let inputs: KindProviderInputs;
    let digest: string;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "adopt-podman-"));
        if (!savedConf) {
            process.env.CONTAINERS_CONF = path.join(dir, "containers.conf");
            fs.writeFileSync(process.env.CONTAINERS_CONF, CONTAINERS_CONF);
        }
        const context = path.join(dir, "image");
        fs.mkdirSync(context);
        fs.copyFileSync("/bin/busybox", path.join(context, "busybox"));
        fs.writeFileSync(
            path.join(context, "Containerfile"),
            'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox"]\n',
        );
        await podmanOk(["build", "--pull=never", "-t", NODE_IMAGE, context]);
        await podmanOk(["tag", NODE_IMAGE, OTHER_IMAGE]);
        digest = (await podmanOk(["image", "inspect", "--format", "{{.Digest}}", NODE_IMAGE])).trim();
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        ports = await freePorts(5);
        const config = {
            clusterName: CLUSTER,
            workers: 2,
            gpuWorkers: 0,
            nodeImage: NODE_IMAGE,
            portMappings: ports.map((port) => ({
                containerPort: port,
                hostPort: port,
                protocol: "TCP" as const,
                listenAddress: "127.0.0.1",
            })),
        };
        inputs = {
            clusterName: CLUSTER,
            engine: "podman",
            configYaml: renderKindConfig(config),
            nodeImage: NODE_IMAGE,
            shape: kindClusterShape(config),
        };
    });
    afterEach(removeNodes);
    after(async () => {
        await removeNodes();
        await podman(["rmi", OTHER_IMAGE, NODE_IMAGE]);
        if (savedConf === undefined) delete process.env.CONTAINERS_CONF;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Every container of this run's cluster, found by kind's label (never anyone else's). */
    async function removeNodes(): Promise<void> {
        const ids = (await podmanOk(["ps", "-aq", "--filter", `label=io.x-k8s.kind.cluster=${CLUSTER}`]))
            .split("\n")
            .filter(Boolean);
        if (ids.length > 0) await podmanOk(["rm", "-f", "-t", "0", ...ids]);
    }

    /** A node container as kind makes one on podman: labels, hostname, published ports. */
    async function node(role: string, suffix: string, options: { image?: string; ports?: string[] } = {}) {
        const name = `${CLUSTER}-${suffix}`;
        const publish = (options.ports ?? []).flatMap((p) => ["--publish", p]);
        const labels = ["--label", `io.x-k8s.kind.cluster=${CLUSTER}`, "--label", `io.x-k8s.kind.role=${role}`];
        await podmanOk([
            "run", "--detach", "--name", name, "--hostname", name, ...labels, ...publish,
            options.image ?? NODE_IMAGE, "sleep", "3600",
        ]); // prettier-ignore
    }
    const range = (first: number, last: number) => `127.0.0.1:${first}-${last}:${first}-${last}`;
    async function matchingCluster(image?: string): Promise<void> {
        await node("control-plane", "control-plane", { image, ports: [range(ports[0], ports[4]), "127.0.0.1::6443"] });
        await node("worker", "worker", { image });
        await node("worker", "worker2", { image });
    }

    it("podman's own list merges the five ports into one range (why the provider reads inspect)", async () => {
        await matchingCluster();
        const ps = await podmanOk(["ps", "--filter", `name=${CLUSTER}-control-plane`, "--format", "{{.Ports}}"]);
        assert.ok(ps.includes(`127.0.0.1:${ports[0]}-${ports[4]}->${ports[0]}-${ports[4]}/tcp`), ps);
    });

    it("finds no difference in a cluster made from these settings", async () => {
        await matchingCluster();
        assert.deepEqual(await shapeDifferences(inputs), []);
    });

    it("matches nodes created from the digest, as kind on podman creates them (tag dropped)", async () => {
        const repository = NODE_IMAGE.replace(/:[^:/]+$/, "");
        await matchingCluster(`${repository}@${digest}`);
        const mirror = `registry.example/kindest/node:v1.33.1@${digest}`;
        assert.deepEqual(await shapeDifferences({ ...inputs, nodeImage: mirror }), []);
        const otherDigest = `registry.example/kindest/node:v1.33.1@sha256:${"0".repeat(64)}`;
        const differences = await shapeDifferences({ ...inputs, nodeImage: otherDigest });
        assert.equal(differences.length, 1, differences.join("; "));
        assert.match(differences[0], new RegExp(`^node ${CLUSTER}-\\S+ runs ${repository}@${digest}, not `));
    });

    it("names a wrong worker count", async () => {
        await node("control-plane", "control-plane", { ports: [range(ports[0], ports[4]), "127.0.0.1::6443"] });
        await node("worker", "worker");
        assert.deepEqual(await shapeDifferences(inputs), ["1 workers, not 2"]);
    });

    it("names a node that runs another image", async () => {
        await node("control-plane", "control-plane", { ports: [range(ports[0], ports[4]), "127.0.0.1::6443"] });
        await node("worker", "worker", { image: OTHER_IMAGE });
        await node("worker", "worker2");
        assert.deepEqual(await shapeDifferences(inputs), [
            `node ${CLUSTER}-worker runs ${OTHER_IMAGE}, not ${NODE_IMAGE}`,
        ]);
    });

    it("names a port the control plane does not publish, or publishes on another address", async () => {
        await node("control-plane", "control-plane", {
            ports: [`0.0.0.0:${ports[0]}:${ports[0]}`, range(ports[1], ports[3]), "127.0.0.1::6443"],
        });
        await node("worker", "worker");
        await node("worker", "worker2");
        assert.deepEqual(await shapeDifferences(inputs), [
            `its control plane does not publish 127.0.0.1:${ports[0]}->${ports[0]}/tcp, ` +
                `127.0.0.1:${ports[4]}->${ports[4]}/tcp`,
        ]);
    });

    it("sees no cluster at all under another name: no control plane, no workers", async () => {
        await matchingCluster();
        assert.deepEqual(await shapeDifferences({ ...inputs, clusterName: `${CLUSTER}-none` }), [
            "0 control-plane nodes, not 1",
            "0 workers, not 2",
        ]);
    });
});
