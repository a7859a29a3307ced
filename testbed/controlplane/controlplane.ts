/**
 * A real Kubernetes control plane on loopback, for tests and for trying a change in seconds: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok (which plays the nodes: it makes them Ready, marks scheduled pods
 * Running and Ready, and provisions and binds PVCs of the default StorageClass `kwok-volume`). Every process runs from
 * the toolchain (`npm run toolchain`), on free loopback ports, with all its files in one temporary folder; several
 * control planes may run at once. kwok runs no container: a pod is Ready without any process of it running.
 *
 *   npm run -s controlplane -- start        prints KUBECONFIG=<folder>/kubeconfig once the API is ready
 *   npm run -s controlplane -- stop PATH    stops that control plane and removes its folder
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { kubeconfigFor, makeCertificates } from "./pki";
import { alive, launch, PIDS_FILE, Pids, waitFor, which } from "./processes";

/** What {@link startControlPlane} made. */
export interface ControlPlane {
    /** The folder holding everything: certificates, etcd data, logs, the kubeconfig, `pids.json`. */
    readonly dir: string;
    /**
     * Path of the user's kubeconfig: a client certificate for {@link USER}, in group system:masters. The components
     * use one of their own, so the user's requests are the audit log's entries of that user.
     */
    readonly kubeconfig: string;
    /** The API server's URL, `https://127.0.0.1:<port>`. */
    readonly server: string;
    /** The API server's audit log (JSON lines, one per request at level Metadata). */
    readonly auditLog: string;
}

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
    /** Number of kwok nodes, named `kwok-node-0`... Default 3. */
    readonly nodes?: number;
    /** How long to wait for each component to be ready. Default 120 s (a busy 2-core machine). */
    readonly timeoutMs?: number;
    /** Where the temporary folder goes. Default the OS temporary folder. */
    readonly parent?: string;
}

/** The user name of the printed kubeconfig's client certificate (group system:masters). */
export const USER = "lab-user";
/** The order components stop in: clients first, etcd last. */
const STOP_ORDER = ["kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"];

/** A port the kernel says is free on 127.0.0.1 now (it handed it out and it was closed again). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

function tcpOpen(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

/** One request as the API server's audit log (level Metadata) records it: the fields the tests read. */
export interface AuditEntry {
    readonly stage: string;
    readonly verb: string;
    readonly requestURI: string;
    readonly user?: { readonly username?: string };
    readonly objectRef?: { readonly resource?: string; readonly namespace?: string; readonly name?: string };
    readonly responseStatus?: { readonly code?: number };
    /** RFC 3339 with microseconds. */
    readonly requestReceivedTimestamp: string;
    /** When this stage was reached (for ResponseComplete: the response was sent). */
    readonly stageTimestamp: string;
}

/** The requests of {@link USER} (the printed kubeconfig's user) the API server has logged so far. */
export function userAuditEntries(cp: Pick<ControlPlane, "auditLog">): AuditEntry[] {
    if (!fs.existsSync(cp.auditLog)) return [];
    return fs
        .readFileSync(cp.auditLog, "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as AuditEntry)
        .filter((entry) => entry.user?.username === USER);
}

/** How many requests of {@link USER} the API server has logged so far. */
export function userRequests(cp: Pick<ControlPlane, "auditLog">): number {
    return userAuditEntries(cp).length;
}

/** GET `url` with the admin certificate: resolves to the status code and body. */
export function adminGet(cp: Pick<ControlPlane, "dir">, url: string): Promise<{ status: number; body: string }> {
    const read = (file: string): Buffer => fs.readFileSync(path.join(cp.dir, file));
    return new Promise((resolve, reject) => {
        const request = https.get(
            url,
            { ca: read("ca.crt"), cert: read("admin.crt"), key: read("admin.key"), timeout: 5000 },
            (response) => {
                let body = "";
                response.setEncoding("utf8");
                response.on("data", (chunk) => (body += chunk));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            },
        );
        request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
        request.on("error", reject);
    });
}

function kubectl(cp: ControlPlane, args: string[], input?: string): string {
    return execFileSync(which("kubectl"), ["--kubeconfig", path.join(cp.dir, "components.kubeconfig"), ...args], {
        input,
        encoding: "utf8",
        stdio: ["pipe", "pipe", "pipe"],
    });
}

/** Where the toolchain keeps kwok's stages and StorageClass: `<bin>/../share/kwok`. */
function kwokShare(): string {
    return path.join(path.dirname(which("kwok")), "..", "share", "kwok");
}

const AUDIT_POLICY = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n";

/**
 * Starts a control plane and resolves once the API server is ready, the default StorageClass exists and every kwok
 * node is Ready. On any failure it stops what it started and removes the folder before rejecting.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const nodes = options.nodes ?? 3;
    const timeoutMs = options.timeoutMs ?? 120_000;
    const dir = fs.mkdtempSync(path.join(options.parent ?? os.tmpdir(), "hyperscaler-controlplane-"));
    const pids: Pids = {};
    try {
        makeCertificates(dir, USER);
        const [etcdClient, etcdPeer, apiPort, cmPort, schedPort, kwokPort] = await Promise.all(
            Array.from({ length: 6 }, freePort),
        );
        const server = `https://127.0.0.1:${apiPort}`;
        const kubeconfig = path.join(dir, "kubeconfig");
        fs.writeFileSync(kubeconfig, kubeconfigFor(dir, server, "user"), { mode: 0o600 });
        const components = path.join(dir, "components.kubeconfig");
        fs.writeFileSync(components, kubeconfigFor(dir, server, "admin"), { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "audit-policy.yaml"), AUDIT_POLICY);
        const cp: ControlPlane = { dir, kubeconfig, server, auditLog: path.join(dir, "audit.log") };

        launch(dir, pids, "etcd", [
            `--data-dir=${path.join(dir, "etcd")}`,
            `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
            `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
            `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
            `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]);
        await waitFor(`etcd on 127.0.0.1:${etcdClient}`, () => tcpOpen(etcdClient), timeoutMs, {
            dir,
            name: "etcd",
            pid: pids.etcd,
        });

        launch(dir, pids, "kube-apiserver", [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--secure-port=${apiPort}`,
            `--cert-dir=${dir}`,
            "--tls-cert-file=apiserver.crt",
            "--tls-private-key-file=apiserver.key",
            "--client-ca-file=ca.crt",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=sa.pub",
            "--service-account-signing-key-file=sa.key",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=Node,RBAC",
            "--audit-policy-file=audit-policy.yaml",
            "--audit-log-path=audit.log",
            "--audit-log-format=json",
            "--audit-log-mode=blocking",
        ]);
        await waitFor(
            `the API server's /readyz at ${server}`,
            async () => (await adminGet(cp, `${server}/readyz`)).status === 200,
            timeoutMs,
            { dir, name: "kube-apiserver", pid: pids["kube-apiserver"] },
        );

        launch(dir, pids, "kube-controller-manager", [
            `--kubeconfig=${components}`,
            `--authentication-kubeconfig=${components}`,
            `--authorization-kubeconfig=${components}`,
            "--bind-address=127.0.0.1",
            `--secure-port=${cmPort}`,
            "--leader-elect=false",
            "--service-account-private-key-file=sa.key",
            "--root-ca-file=ca.crt",
            "--cluster-signing-cert-file=ca.crt",
            "--cluster-signing-key-file=ca.key",
            "--use-service-account-credentials=true",
            "--controllers=*",
        ]);
        launch(dir, pids, "kube-scheduler", [
            `--kubeconfig=${components}`,
            `--authentication-kubeconfig=${components}`,
            `--authorization-kubeconfig=${components}`,
            "--bind-address=127.0.0.1",
            `--secure-port=${schedPort}`,
            "--leader-elect=false",
        ]);
        const share = kwokShare();
        launch(dir, pids, "kwok", [
            `--kubeconfig=${components}`,
            `--config=${path.join(share, "stages.yaml")}`,
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--manage-nodes-with-label-selector=",
            "--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom",
            "--disregard-status-with-label-selector=",
            `--server-address=127.0.0.1:${kwokPort}`,
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.0/16",
            "--node-ip=127.0.0.1",
        ]);

        // The namespace "default" and its ServiceAccount come from the API server and the controller manager.
        await waitFor(
            "the ServiceAccount default/default (from the controller manager)",
            async () =>
                (await adminGet(cp, `${server}/api/v1/namespaces/default/serviceaccounts/default`)).status === 200,
            timeoutMs,
            { dir, name: "kube-controller-manager", pid: pids["kube-controller-manager"] },
        );
        kubectl(cp, ["apply", "-f", path.join(share, "storage-class.yaml")]);
        kubectl(cp, ["apply", "-f", "-"], nodeManifests(nodes));
        await waitFor(
            `${nodes} kwok nodes Ready`,
            async () => {
                const ready = kubectl(cp, [
                    "get", "nodes", "-o",
                    'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
                ]); // prettier-ignore
                return ready.split("\n").filter((s) => s === "True").length === nodes;
            },
            timeoutMs,
            { dir, name: "kwok", pid: pids.kwok },
        );
        return cp;
    } catch (error) {
        await stopControlPlane(dir).catch(() => undefined);
        throw error;
    }
}

/** kwok nodes: annotated for kwok, with room for a lab's pods. */
function nodeManifests(count: number): string {
    return Array.from({ length: count }, (_, i) =>
        [
            "apiVersion: v1",
            "kind: Node",
            "metadata:",
            `  name: kwok-node-${i}`,
            "  annotations: { kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: '0' }",
            `  labels: { type: kwok, kubernetes.io/hostname: kwok-node-${i}, kubernetes.io/os: linux, kubernetes.io/arch: amd64 }`,
            "status:",
            "  allocatable: { cpu: '32', memory: 256Gi, pods: '110' }",
            "  capacity: { cpu: '32', memory: 256Gi, pods: '110' }",
        ].join("\n"),
    ).join("\n---\n");
}

/** Stops the components whose pids `dir` (or the folder of the kubeconfig `dir`) records, then removes it. */
export async function stopControlPlane(dirOrKubeconfig: string, timeoutMs = 30_000): Promise<void> {
    const dir =
        fs.existsSync(dirOrKubeconfig) && fs.statSync(dirOrKubeconfig).isFile()
            ? path.dirname(dirOrKubeconfig)
            : dirOrKubeconfig;
    if (!path.basename(dir).startsWith("hyperscaler-controlplane-")) {
        throw new Error(
            `${dirOrKubeconfig} is not a control plane's kubeconfig or folder (hyperscaler-controlplane-*)`,
        );
    }
    let pids: Pids = {};
    try {
        pids = JSON.parse(fs.readFileSync(path.join(dir, PIDS_FILE), "utf8"));
    } catch {
        // started nothing yet
    }
    for (const name of STOP_ORDER) {
        const pid = pids[name];
        if (pid === undefined || !alive(pid)) continue;
        process.kill(pid, "SIGTERM");
        await waitFor(`${name} (pid ${pid}) to stop`, async () => !alive(pid), timeoutMs).catch(() => {
            if (alive(pid)) process.kill(pid, "SIGKILL");
        });
    }
    fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Kills one component, as a crash or a host restart would (the API server, to play an outage);
 * {@link restartComponent} starts it again.
 */
export async function stopComponent(cp: ControlPlane, name: string, timeoutMs = 30_000): Promise<void> {
    const pids: Pids = JSON.parse(fs.readFileSync(path.join(cp.dir, PIDS_FILE), "utf8"));
    const pid = pids[name];
    if (pid === undefined) throw new Error(`no ${name} in ${cp.dir}`);
    process.kill(pid, "SIGKILL");
    await waitFor(`${name} (pid ${pid}) to exit`, async () => !alive(pid), timeoutMs);
}

/** Starts a component stopped by {@link stopComponent} again, with its arguments, and waits until it is ready. */
export async function restartComponent(cp: ControlPlane, name: string, timeoutMs = 120_000): Promise<void> {
    const pids: Pids = JSON.parse(fs.readFileSync(path.join(cp.dir, PIDS_FILE), "utf8"));
    const args = JSON.parse(fs.readFileSync(path.join(cp.dir, `${name}.args.json`), "utf8")) as string[];
    launch(cp.dir, pids, name, args);
    if (name !== "kube-apiserver") return;
    await waitFor(
        `the API server's /readyz at ${cp.server}`,
        async () => (await adminGet(cp, `${cp.server}/readyz`)).status === 200,
        timeoutMs,
        { dir: cp.dir, name, pid: pids[name] },
    );
}

async function main(argv: string[]): Promise<number> {
    const [command, target] = argv;
    if (command === "start") {
        const cp = await startControlPlane();
        process.stdout.write(`KUBECONFIG=${cp.kubeconfig}\n`);
        return 0;
    }
    if (command === "stop" && target) {
        await stopControlPlane(target);
        return 0;
    }
    process.stderr.write("usage: npm run -s controlplane -- start | stop <kubeconfig path printed by start>\n");
    return 2;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: Error) => {
            process.stderr.write(`controlplane: ${error.message}\n`);
            process.exit(1);
        },
    );
}
