/**
 * A Pulumi dynamic provider that waits, bounded, until a Kubernetes Secret exists, by polling with `kubectl`.
 *
 * vCluster writes its kubeconfig Secret `vc-<name>` from a controller that starts after its API answers ready, and
 * Argo CD's server writes `argocd-initial-admin-secret` at its first start: right after a Helm release is ready
 * either Secret may still be missing, and a plain `Secret.get` would fail the first `up`. This resource sits
 * between the release and the read.
 *
 * Pulumi serializes this provider into the stack state and runs it in another process, so nothing here refers to
 * an imported value: Node's modules are `require`d inside the functions that use them, and the Pulumi import is
 * for types only. The kubeconfig is written to a private temporary file for each call and removed after it.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Inputs of the dynamic resource. */
export interface SecretWaitInputs {
    /** Namespace of the Secret. Required. */
    readonly namespace: string;
    /** Name of the Secret. Required. */
    readonly secretName: string;
    /** kubeconfig contents of the cluster that holds the Secret (pass a secret). Default: see `kubeconfigPath`. */
    readonly kubeconfig?: string;
    /**
     * kubeconfig file, used when `kubeconfig` is not given.
     * Default: kubectl's own lookup (`$KUBECONFIG`, `~/.kube/config`).
     */
    readonly kubeconfigPath?: string;
    /** Context in the kubeconfig. Default: its current context. */
    readonly context?: string;
    /** Longest wait, in seconds, before the create fails. Default 300. */
    readonly timeoutSeconds?: number;
    /** Pause between two polls, in milliseconds. Default 2000. */
    readonly pollIntervalMs?: number;
    /** The kubectl binary: a name looked up on PATH, or a path. Default `kubectl`. */
    readonly kubectlPath?: string;
    /** What the timeout message tells the user to look at (one sentence). Default none. */
    readonly hint?: string;
    /**
     * A key of the Secret's `data` to read once the Secret exists; its decoded value becomes the output `value`
     * (mark that output secret). Read once at create, so deleting the Secret later (as Argo CD advises for its
     * initial password) does not break later updates. Default: read nothing.
     */
    readonly readKey?: string;
}

/** Outputs of the dynamic resource: the Secret's coordinates and how many polls it took (never the kubeconfig). */
export interface SecretWaitOutputs {
    /** Namespace of the Secret. */
    readonly namespace: string;
    /** Name of the Secret. */
    readonly secretName: string;
    /** `<namespace>/<name>`, the id `Secret.get` takes. */
    readonly secretId: string;
    /** Polls until the Secret was seen (1 when it was already there). */
    readonly polls: number;
    /** The decoded value of `readKey`, when one was asked for. A secret. */
    readonly value?: string;
}

/** What one poll found. */
export type PollResult =
    { readonly found: true } | { readonly found: false; readonly reason: string; readonly fatal?: boolean };

/** The provider; hand it to a `pulumi.dynamic.Resource`. */
export const secretWaitProvider: pulumi.dynamic.ResourceProvider<SecretWaitInputs, SecretWaitOutputs> = {
    async create(inputs) {
        const polls = await waitForSecret(inputs, () => pollSecret(inputs), {
            now: () => Date.now(),
            sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        });
        const outs: SecretWaitOutputs = {
            namespace: inputs.namespace,
            secretName: inputs.secretName,
            secretId: `${inputs.namespace}/${inputs.secretName}`,
            polls,
            ...(inputs.readKey ? { value: await readSecretKey(inputs, inputs.readKey) } : {}),
        };
        return { id: outs.secretId, outs };
    },

    async diff(_id, olds, news) {
        // Another Secret (or key) is another wait; credentials, timeouts and hints only matter while a create waits.
        const replaces = (["namespace", "secretName", "readKey"] as const).filter(
            (key) => (olds as SecretWaitInputs)[key] !== news[key],
        );
        return { changes: replaces.length > 0, replaces };
    },

    async delete() {
        // Nothing to delete: the Secret belongs to whoever wrote it (vCluster, Argo CD).
    },
};

/**
 * Polls until `poll` finds the Secret, at least once and until `timeoutSeconds` have passed; resolves to the number
 * of polls. Rejects at once on a fatal poll (kubectl missing), and with a message naming the Secret, the time
 * waited and the last answer on timeout. The clock is injected so tests need no real time.
 */
export async function waitForSecret(
    inputs: Pick<SecretWaitInputs, "namespace" | "secretName" | "timeoutSeconds" | "pollIntervalMs" | "hint">,
    poll: () => Promise<PollResult>,
    clock: { now(): number; sleep(ms: number): Promise<void> },
): Promise<number> {
    const timeoutSeconds = inputs.timeoutSeconds ?? 300;
    const intervalMs = inputs.pollIntervalMs ?? 2000;
    const deadline = clock.now() + timeoutSeconds * 1000;
    for (let polls = 1; ; polls++) {
        const result = await poll();
        if (result.found) return polls;
        if (result.fatal) throw new Error(result.reason);
        if (clock.now() >= deadline) {
            const hint = inputs.hint ? ` ${inputs.hint}` : "";
            throw new Error(
                `timed out after ${timeoutSeconds} s (${polls} polls) waiting for the Secret ` +
                    `${inputs.namespace}/${inputs.secretName}.${hint} Last answer: ${result.reason}`,
            );
        }
        await clock.sleep(intervalMs);
    }
}

/** One `kubectl get secret` against the cluster named by `inputs`. */
async function pollSecret(inputs: SecretWaitInputs): Promise<PollResult> {
    // `-o name` prints `secret/<name>` only: the Secret's data never reaches this process.
    const answer = await runKubectl(inputs, ["get", "secret", inputs.secretName, "-o", "name"]);
    if (answer.code === 0 && answer.stdout.trim() === `secret/${inputs.secretName}`) return { found: true };
    if (answer.missing) return { found: false, fatal: true, reason: answer.said };
    return { found: false, reason: answer.said };
}

/** The decoded value of `key` in the Secret; throws when the Secret has no such key. */
async function readSecretKey(inputs: SecretWaitInputs, key: string): Promise<string> {
    const answer = await runKubectl(inputs, ["get", "secret", inputs.secretName, "-o", `jsonpath={.data.${key}}`]);
    const encoded = answer.stdout.trim();
    if (answer.code !== 0 || encoded === "") {
        throw new Error(
            `the Secret ${inputs.namespace}/${inputs.secretName} has no key "${key}"` +
                (answer.code !== 0 ? `: ${answer.said}` : ""),
        );
    }
    return Buffer.from(encoded, "base64").toString("utf8");
}

/** Runs kubectl against the cluster and namespace of `inputs`; never rejects. `said` is one line of its stderr. */
async function runKubectl(
    inputs: SecretWaitInputs,
    command: readonly string[],
): Promise<{ code: number; stdout: string; said: string; missing: boolean }> {
    const fs = require("fs") as typeof import("fs");
    const os = require("os") as typeof import("os");
    const path = require("path") as typeof import("path");
    const { execFile } = require("child_process") as typeof import("child_process");
    const kubectl = inputs.kubectlPath || "kubectl";
    const dir = inputs.kubeconfig ? fs.mkdtempSync(path.join(os.tmpdir(), "secret-wait-")) : undefined;
    try {
        const args: string[] = [];
        if (dir) {
            const file = path.join(dir, "kubeconfig");
            // Owner-only: the file holds credentials for as long as the call runs.
            fs.writeFileSync(file, inputs.kubeconfig as string, { mode: 0o600 });
            args.push("--kubeconfig", file);
        } else if (inputs.kubeconfigPath) {
            args.push("--kubeconfig", inputs.kubeconfigPath);
        }
        if (inputs.context) args.push("--context", inputs.context);
        args.push("--namespace", inputs.namespace, ...command, "--request-timeout=10s");
        return await new Promise((resolve) => {
            // Bounded: a hung API call must not stall the wait past its deadline by more than this.
            execFile(kubectl, args, { timeout: 30000 }, (error, stdout, stderr) => {
                const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
                if (error && (error as { code?: unknown }).code === "ENOENT") {
                    const where = kubectl.includes("/") ? `at ${kubectl}` : `on PATH (looked for "${kubectl}")`;
                    const said =
                        `the kubectl CLI was not found ${where}; ` +
                        "install it from https://kubernetes.io/docs/tasks/tools/";
                    resolve({ code: 127, stdout: "", said, missing: true });
                    return;
                }
                const said =
                    (String(stderr).trim() || (error ? error.message : "")).split("\n").pop() ||
                    "kubectl printed nothing";
                resolve({ code, stdout: String(stdout), said, missing: false });
            });
        });
    } finally {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
}
