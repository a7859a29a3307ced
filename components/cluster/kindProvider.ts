/**
 * A Pulumi dynamic provider that manages a kind cluster by running the `kind` CLI.
 *
 * Pulumi serializes this provider (its methods and every function they reach) into the stack state and runs
 * it later in another process. A captured module that cannot be serialized (the `yaml` package, for one) makes
 * the resource silently go unregistered, so nothing here refers to an imported value: Node's modules are
 * `require`d inside the functions that use them, the kind config arrives already rendered, and the Pulumi
 * import below is for types only.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ContainerEngine } from "../../config/rules";
import type { KindClusterShape } from "./kindConfig";

/** Inputs of the dynamic resource: everything the provider needs to create, compare and delete a cluster. */
export interface KindProviderInputs {
    /** Kind cluster name; also the resource's id. Required. */
    readonly clusterName: string;
    /** The kind config as rendered by `renderKindConfig`. Required. */
    readonly configYaml: string;
    /** The node image (also inside `configYaml`); kept apart so a diff can name it. Required. */
    readonly nodeImage: string;
    /**
     * The engine kind runs the nodes with: every kind call gets `KIND_EXPERIMENTAL_PROVIDER=<engine>`, and the
     * engine's own CLI reads the nodes and saves the images. A change replaces the cluster. Default `docker` (also
     * for state recorded before this input existed).
     */
    readonly engine?: ContainerEngine;
    /** The kind binary: a name looked up on PATH, or a path. Default `kind`. */
    readonly kindPath?: string;
    /**
     * Images in the engine's local store to copy into every node after create, and again whenever this list
     * changes, so pods can use images no registry serves: `kind load docker-image` with Docker; with Podman (which
     * that command cannot read: it runs `docker save`), `podman save` into a temporary archive and
     * `kind load image-archive`. Default none.
     */
    readonly images?: readonly string[];
    /**
     * Node containers and published ports a cluster of these settings has (`kindClusterShape`), compared with
     * the engine's view of a cluster of the same name that exists already. Default: no existing cluster is adopted.
     */
    readonly shape?: KindClusterShape;
}

/** Outputs of the dynamic resource: its inputs plus the cluster's kubeconfig. */
export interface KindProviderOutputs extends KindProviderInputs {
    /** kubeconfig for the cluster's API server on the host (`https://127.0.0.1:<port>`). A secret. */
    readonly kubeconfig: string;
}

/**
 * Inputs whose change means a different cluster: kind cannot change a running cluster's nodes or name (the engine,
 * compared with its default, is one more: a cluster in another engine is another cluster).
 */
const REPLACING_PROPERTIES = ["clusterName", "configYaml", "nodeImage"] as const;

/** The provider; hand it to a `pulumi.dynamic.Resource`. */
export const kindProvider: pulumi.dynamic.ResourceProvider<KindProviderInputs, KindProviderOutputs> = {
    async create(inputs) {
        let kubeconfig: string;
        if ((await listClusters(inputs)).includes(inputs.clusterName)) {
            // `kind create` would fail on the name; a cluster made from the same settings (an earlier run whose
            // state was lost) is adopted, anything else is the user's and stays untouched.
            const differences = await shapeDifferences(inputs);
            if (differences.length > 0) {
                const name = inputs.clusterName;
                throw new Error(
                    `a kind cluster named "${name}" exists already and was not made from these settings ` +
                        `(${differences.join("; ")}); delete it with \`kind delete cluster --name ${name}\` ` +
                        "or choose another cluster.name, then run up again",
                );
            }
            kubeconfig = await runKind(inputs, ["get", "kubeconfig", "--name", inputs.clusterName]);
        } else {
            kubeconfig = await createCluster(inputs);
        }
        try {
            await loadImages(inputs);
        } catch (error) {
            // The cluster exists now: an error carrying `id` and `properties` makes Pulumi record it (with no
            // images loaded), so the next up updates it, loading the images, instead of leaving it orphaned.
            const kept = `The cluster ${inputs.clusterName} is kept in the stack; the next up loads the images.`;
            const message = `${(error as Error).message}\n${kept}`;
            throw Object.assign(new Error(message), {
                id: inputs.clusterName,
                // `inputs` carries the serialized provider (__provider) the engine needs to update or delete it later.
                properties: { ...inputs, ...outputsOf(inputs, kubeconfig), images: [] },
                reasons: [message],
            });
        }
        return { id: inputs.clusterName, outs: outputsOf(inputs, kubeconfig) };
    },

    async read(id, props) {
        if (!(await listClusters(props)).includes(id)) {
            // No id tells the engine the cluster is gone (deleted outside Pulumi): refresh drops it from state.
            return {};
        }
        const kubeconfig = await runKind(props, ["get", "kubeconfig", "--name", id]);
        return { id, props: { ...(props as KindProviderOutputs), clusterName: id, kubeconfig } };
    },

    async diff(_id, olds, news) {
        const replaces: string[] = REPLACING_PROPERTIES.filter((key) => olds[key] !== news[key]);
        if (engineOf(olds) !== engineOf(news)) replaces.push("engine");
        const kindPathChanged = kindBinary(olds) !== kindBinary(news);
        const imagesChanged = JSON.stringify(olds.images ?? []) !== JSON.stringify(news.images ?? []);
        return {
            changes: replaces.length > 0 || kindPathChanged || imagesChanged,
            replaces,
            // Kind names are unique and host ports can be bound once: the old cluster must go first.
            deleteBeforeReplace: replaces.length > 0,
        };
    },

    async update(_id, olds, news) {
        // Only the binary and the image list change in place (diff replaces on anything else).
        await loadImages({ ...olds, kindPath: kindBinary(news), images: news.images });
        return { outs: { ...olds, kindPath: kindBinary(news), images: [...(news.images ?? [])] } };
    },

    async delete(id, props) {
        if (!(await listClusters(props)).includes(id)) {
            return; // Already deleted outside Pulumi: the goal is reached.
        }
        await runKind(props, ["delete", "cluster", "--name", id]);
    },
};

/** Runs `kind create cluster` with the rendered config; resolves to the new cluster's kubeconfig. */
async function createCluster(inputs: KindProviderInputs): Promise<string> {
    const fs = require("fs") as typeof import("fs");
    const os = require("os") as typeof import("os");
    const path = require("path") as typeof import("path");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kind-cluster-"));
    try {
        const configFile = path.join(dir, "kind-config.yaml");
        const kubeconfigFile = path.join(dir, "kubeconfig");
        fs.writeFileSync(configFile, inputs.configYaml);
        // A kubeconfig of its own: the user's ~/.kube/config stays untouched; the stack exports this one.
        const args = [
            "create",
            "cluster",
            "--name",
            inputs.clusterName,
            "--config",
            configFile,
            "--kubeconfig",
            kubeconfigFile,
        ];
        await runKind(inputs, args);
        return fs.readFileSync(kubeconfigFile, "utf8");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * How the existing cluster's node containers (kind labels them `io.x-k8s.kind.cluster=<name>` and
 * `io.x-k8s.kind.role`) differ from `inputs.shape` and `inputs.nodeImage`; empty when they match. It asks the
 * cluster's engine (`docker` or `podman`, the same commands) for `inspect`, not `ps`: ps shortens the image (a digest
 * is dropped) and merges consecutive published ports into ranges (`127.0.0.1:31443-31447->31443-31447/tcp`), while
 * inspect keeps the image the container was created from and one binding per port (`HostConfig.PortBindings`).
 * kind on Podman creates the nodes from `<registry>/<name>@sha256:<digest>` (the tag dropped), so a node whose
 * image has the same digest matches. Which workers see GPUs (a mount) is not compared.
 */
export async function shapeDifferences(inputs: KindProviderInputs): Promise<string[]> {
    if (!inputs.shape) return ["these settings do not say what the cluster should look like"];
    const engine = engineOf(inputs);
    const filter = `label=io.x-k8s.kind.cluster=${inputs.clusterName}`;
    const listed = await runEngine(engine, ["ps", "-aq", "--filter", filter]);
    const ids = listed
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean);
    const nodes = ids.length === 0 ? [] : nodesOf(await runEngine(engine, ["inspect", ...ids]));
    const differences: string[] = [];
    const controlPlanes = nodes.filter((n) => n.role === "control-plane");
    const workers = nodes.filter((n) => n.role === "worker").length;
    if (controlPlanes.length !== 1) differences.push(`${controlPlanes.length} control-plane nodes, not 1`);
    if (workers !== inputs.shape.workers) differences.push(`${workers} workers, not ${inputs.shape.workers}`);
    const digest = (image: string) => /@sha256:[0-9a-f]{64}$/.exec(image)?.[0];
    const otherImages = nodes.filter(
        (n) =>
            n.image !== inputs.nodeImage &&
            (digest(n.image) === undefined || digest(n.image) !== digest(inputs.nodeImage)),
    );
    if (otherImages.length > 0)
        differences.push(`node ${otherImages[0].name} runs ${otherImages[0].image}, not ${inputs.nodeImage}`);
    const published = new Set(controlPlanes[0]?.ports ?? []);
    const unpublished = inputs.shape.publishedPorts.filter((port) => !published.has(port));
    if (controlPlanes.length === 1 && unpublished.length > 0)
        differences.push(`its control plane does not publish ${unpublished.join(", ")}`);
    return differences;
}

/**
 * The node containers of a `docker inspect` or `podman inspect` answer: name, kind role, image, and each published
 * port as `hostIp:hostPort->containerPort/protocol` (IPv6 hosts in brackets), the form of `KindClusterShape`.
 * Docker records the image as given in `Config.Image`; Podman in `ImageName` (its `Config.Image` too, in 4.3, but
 * `ImageName` is the field its own tools read). Both keep `HostConfig.PortBindings` as one binding per port.
 */
function nodesOf(inspectJson: string): { name: string; role: string; image: string; ports: string[] }[] {
    interface Inspected {
        Name?: string;
        ImageName?: string;
        Config?: { Image?: string; Labels?: Record<string, string> | null };
        HostConfig?: { PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null };
    }
    return (JSON.parse(inspectJson) as Inspected[]).map((c) => {
        const ports: string[] = [];
        for (const [containerPort, bindings] of Object.entries(c.HostConfig?.PortBindings ?? {})) {
            for (const b of bindings ?? []) {
                const ip = b.HostIp || "0.0.0.0";
                ports.push(`${ip.includes(":") ? `[${ip}]` : ip}:${b.HostPort ?? ""}->${containerPort}`);
            }
        }
        return {
            name: (c.Name ?? "").replace(/^\//, ""),
            role: c.Config?.Labels?.["io.x-k8s.kind.role"] ?? "",
            image: c.ImageName || c.Config?.Image || "",
            ports,
        };
    });
}

/** Runs the engine's CLI (`docker` or `podman`); resolves to its stdout. */
function runEngine(engine: ContainerEngine, args: readonly string[]): Promise<string> {
    const { execFile } = require("child_process") as typeof import("child_process");
    return new Promise((resolve, reject) => {
        execFile(engine, [...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) {
                reject(new Error(`\`${engine} ${args.join(" ")}\` failed: ${String(stderr).trim() || error.message}`));
            } else {
                resolve(String(stdout));
            }
        });
    });
}

function kindBinary(props: Partial<KindProviderInputs> | undefined): string {
    return props?.kindPath || "kind";
}

function engineOf(props: Partial<KindProviderInputs> | undefined): ContainerEngine {
    return props?.engine ?? "docker";
}

function outputsOf(inputs: KindProviderInputs, kubeconfig: string): KindProviderOutputs {
    return {
        clusterName: inputs.clusterName,
        engine: engineOf(inputs),
        configYaml: inputs.configYaml,
        nodeImage: inputs.nodeImage,
        kindPath: kindBinary(inputs),
        images: [...(inputs.images ?? [])],
        ...(inputs.shape ? { shape: inputs.shape } : {}),
        kubeconfig,
    };
}

async function loadImages(inputs: KindProviderInputs): Promise<void> {
    const images = inputs.images ?? [];
    if (images.length === 0) return;
    const engine = engineOf(inputs);
    try {
        if (engine === "podman") {
            await loadFromPodman(inputs, images);
        } else {
            await runKind(inputs, ["load", "docker-image", ...images, "--name", inputs.clusterName]);
        }
    } catch (error) {
        const said = (error as Error).message;
        // When the engine names a missing image, give the exact command that builds it; other failures speak for
        // themselves.
        const missing =
            /image: "([^"]+)" not present locally/.exec(said)?.[1] ?? /Error: (\S+): image not known/.exec(said)?.[1];
        if (missing === undefined) throw error;
        const store = engine === "podman" ? "Podman" : "Docker";
        throw new Error(
            `${said}\nEvery image in \`images\` must be in the local ${store} first; the Slurm image is built with ` +
                `\`${engine} build -t ${missing} containers/images/slurm-base/Docker\` (npm run up does it for you).`,
        );
    }
}

/**
 * `kind load docker-image` runs `docker save`, so with Podman the images go through an archive: one
 * docker-archive holding them all (`-m`: without it podman saves the first image under every name given), loaded
 * by `kind load image-archive`, and removed whatever happens. The nodes' containerd keeps each image under the name
 * Podman gave it (`localhost/<name>:<tag>` for a local build), the name the pods must use.
 */
async function loadFromPodman(inputs: KindProviderInputs, images: readonly string[]): Promise<void> {
    const fs = require("fs") as typeof import("fs");
    const os = require("os") as typeof import("os");
    const path = require("path") as typeof import("path");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kind-images-"));
    try {
        const archive = path.join(dir, "images.tar");
        await runEngine("podman", ["save", "-m", "--format", "docker-archive", "-o", archive, ...images]);
        await runKind(inputs, ["load", "image-archive", archive, "--name", inputs.clusterName]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function listClusters(props: Partial<KindProviderInputs> | undefined): Promise<string[]> {
    // One name a line; with none, kind prints "No kind clusters found." on stderr and nothing here.
    const stdout = await runKind(props, ["get", "clusters"]);
    return stdout
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean);
}

/**
 * Runs kind with the engine named in its environment (`KIND_EXPERIMENTAL_PROVIDER`, docker included: left unset,
 * kind would pick whichever engine answers, and a Docker that is down would hide the cluster); resolves to its
 * stdout, rejects with an error a person can act on.
 */
function runKind(props: Partial<KindProviderInputs> | undefined, args: readonly string[]): Promise<string> {
    const { execFile } = require("child_process") as typeof import("child_process");
    const kindPath = kindBinary(props);
    const engine = engineOf(props);
    const env = { ...process.env, KIND_EXPERIMENTAL_PROVIDER: engine };
    return new Promise((resolve, reject) => {
        // A large buffer: kind's create output is small, but a truncated kubeconfig would be silently wrong.
        execFile(kindPath, [...args], { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) {
                reject(kindError(kindPath, engine, args, error, String(stderr)));
            } else {
                resolve(String(stdout));
            }
        });
    });
}

function kindError(
    kindPath: string,
    engine: ContainerEngine,
    args: readonly string[],
    error: { code?: string | number | null; message: string },
    stderr: string,
): Error {
    if (error.code === "ENOENT") {
        const where = kindPath.includes("/") ? `at ${kindPath}` : `on PATH (looked for "${kindPath}")`;
        return new Error(
            `the kind CLI was not found ${where}; install it from https://kind.sigs.k8s.io ` +
                "(or set kindPath to its name or path)",
        );
    }
    const command = `${kindPath} ${args.join(" ")}`;
    const said = stderr.trim() || error.message;
    // Only the messages of a missing or unreachable engine: kind names `docker exec` or `podman exec` in unrelated
    // failures too (a node's kubeadm). Inside the function, like everything the serialized provider reaches.
    const engineUnusable = {
        docker: /docker daemon|docker\.sock|"docker": executable file not found|failed to get docker info/i,
        podman: /"podman": executable file not found|failed to (check podman version|get podman info)|podman\.sock|Cannot connect to Podman/i,
    };
    if (engineUnusable[engine].test(said)) {
        const name = engine === "podman" ? "Podman" : "Docker";
        return new Error(
            `\`${command}\` failed: ${name} is not installed, not running, or not usable by this user; ` +
                `kind runs every node as a ${name} container (cluster.engine ${engine}). kind said:\n${said}`,
        );
    }
    return new Error(`\`${command}\` failed (exit code ${error.code}). kind said:\n${said}`);
}
