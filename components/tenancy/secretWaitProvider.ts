/**
 * A Pulumi dynamic provider that waits, bounded, until a Kubernetes Secret exists, by polling with `kubectl`.
 *
 * vCluster writes its kubeconfig Secret `vc-<name>` from a controller that starts after its API answers ready, and
 * Argo CD's server writes `argocd-initial-admin-secret` at its first start: right after a Helm release is ready
 * either Secret may still be missing, and a plain `Secret.get` would fail the first `up`. This resource sits
 * between the release and the read.
 *
 * A wait belongs to one writer: its `source` input is an identity that is new whenever the writer is made anew
 * (the vCluster release's namespace, re-created with the cluster; the tenant's kubeconfig Secret, new with each
 * vCluster install). A new source replaces the wait, so it waits and reads again. On refresh (`read`, which every
 * `npm run up` runs) it looks the Secret up: re-created (another uid), it records the new uid and re-reads the key;
 * gone, a wait without a key is dropped so the next `up` waits again, while a read value is kept (Argo CD advises
 * deleting its initial password Secret); unreachable, nothing changes.
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
     * initial password) does not break later updates; read again when the Secret is made anew. Default: read nothing.
     */
    readonly readKey?: string;
    /**
     * Identity of what writes the Secret, new whenever that writer is made anew (a namespace's or a Secret's uid).
     * Another value means another writer: the wait is replaced, so it waits and reads again. Default none.
     */
    readonly source?: string;
}

/** The inputs a refresh needs to reach the Secret again, kept in the outputs (the kubeconfig as a secret). */
const CONNECTION_INPUTS = ["kubeconfig", "kubeconfigPath", "context", "kubectlPath"] as const;

/**
 * Outputs of the dynamic resource: the Secret's coordinates, its uid and how many polls it took, and what a refresh
 * needs to look at it again (the kubeconfig among them: mark that output secret).
 */
export interface SecretWaitOutputs extends Pick<SecretWaitInputs, (typeof CONNECTION_INPUTS)[number]> {
    /** Namespace of the Secret. */
    readonly namespace: string;
    /** Name of the Secret. */
    readonly secretName: string;
    /** `<namespace>/<name>`, the id `Secret.get` takes. */
    readonly secretId: string;
    /** The Secret's `metadata.uid` when last seen: another one means the Secret was made anew. */
    readonly secretUid?: string;
    /** Polls until the Secret was seen (1 when it was already there). */
    readonly polls: number;
    /** The key that was read, as in the inputs. */
    readonly readKey?: string;
    /** The decoded value of `readKey`, when one was asked for. A secret. */
    readonly value?: string;
    /** The writer's identity the wait was made for, as in the inputs. */
    readonly source?: string;
}

/** What one poll found: the Secret and its uid, or why not. */
export type PollResult =
    | { readonly found: true; readonly uid: string }
    | { readonly found: false; readonly reason: string; readonly fatal?: boolean; readonly notFound?: boolean };

/** The provider; hand it to a `pulumi.dynamic.Resource`. */
export const secretWaitProvider: pulumi.dynamic.ResourceProvider<SecretWaitInputs, SecretWaitOutputs> = {
    async create(inputs) {
        const { polls, uid } = await waitForSecret(inputs, () => pollSecret(inputs), {
            now: () => Date.now(),
            sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        });
        const outs: SecretWaitOutputs = {
            ...connectionOf(inputs),
            namespace: inputs.namespace,
            secretName: inputs.secretName,
            secretId: `${inputs.namespace}/${inputs.secretName}`,
            secretUid: uid,
            polls,
            ...(inputs.readKey ? { readKey: inputs.readKey, value: await readSecretKey(inputs, inputs.readKey) } : {}),
            ...(inputs.source === undefined ? {} : { source: inputs.source }),
        };
        return { id: outs.secretId, outs };
    },

    async diff(_id, olds, news) {
        return secretWaitDiff(olds as SecretWaitOutputs, news);
    },

    async update(_id, olds, news) {
        // No replacement (diff): new credentials, or a source for a wait made before sources. No waiting: the
        // Secret was seen; a wait made before uids were recorded looks its uid up.
        const uid = olds.secretUid ?? (await lookUpSecret(news)).uid;
        const { source: _old, ...kept } = olds;
        const outs: SecretWaitOutputs = {
            ...kept,
            ...connectionOf(news),
            ...(uid === undefined ? {} : { secretUid: uid }),
            // Unchanged (diff replaces on another key), and now on record for later diffs.
            ...(news.readKey === undefined ? {} : { readKey: news.readKey }),
            ...(news.source === undefined ? {} : { source: news.source }),
        };
        return { outs };
    },

    async read(id, props) {
        return refreshSecretWait(id, props as SecretWaitOutputs);
    },

    async delete() {
        // Nothing to delete: the Secret belongs to whoever wrote it (vCluster, Argo CD).
    },
};

/** The connection inputs of `inputs` that are set, to keep in the outputs for a refresh. */
function connectionOf(inputs: SecretWaitInputs): Partial<SecretWaitInputs> {
    const kept: Record<string, unknown> = {};
    for (const key of CONNECTION_INPUTS) if (inputs[key] !== undefined) kept[key] = inputs[key];
    return kept;
}

/**
 * The diff of a wait. Pure. Another Secret, key or writer (`source`) is another wait: replaced, so it waits and reads
 * again. New connection inputs, or a first `source` for a wait recorded without one, are updated in place (a
 * refresh needs them; nothing waits again). Timeouts and hints matter only while a create waits.
 */
export function secretWaitDiff(
    olds: SecretWaitOutputs,
    news: SecretWaitInputs,
): { changes: boolean; replaces: string[] } {
    // A wait recorded before `readKey` was kept in the outputs shows that it read a key by its `value`.
    const recordedKey = olds.readKey ?? (olds.value !== undefined ? (news.readKey ?? "(a key)") : undefined);
    const replaces: string[] = (["namespace", "secretName"] as const).filter((key) => olds[key] !== news[key]);
    if (recordedKey !== news.readKey) replaces.push("readKey");
    const sourceKnownBefore = olds.source !== undefined && news.source !== undefined;
    if (sourceKnownBefore && olds.source !== news.source) replaces.push("source");
    const updated =
        (!sourceKnownBefore && olds.source !== news.source) || CONNECTION_INPUTS.some((key) => olds[key] !== news[key]);
    return { changes: replaces.length > 0 || updated, replaces };
}

/**
 * What a refresh makes of a recorded wait: unchanged while the Secret has the recorded uid, or when the cluster
 * does not answer (a refresh must not drop what may still exist); the new uid and key value once the Secret was
 * made anew; dropped (no id) when the Secret is gone and no value was read, so the next up waits again. A wait
 * recorded before uids were (no `secretUid`) knows no cluster to ask and stays as it is.
 */
export async function refreshSecretWait(
    id: string,
    props: SecretWaitOutputs,
): Promise<{ id?: string; props?: SecretWaitOutputs }> {
    if (props.secretUid === undefined) return { id, props };
    const seen = await lookUpSecret(props);
    if (seen.uid === undefined) {
        if (seen.notFound && props.readKey === undefined) return {};
        return { id, props };
    }
    if (seen.uid === props.secretUid) return { id, props };
    if (props.readKey === undefined) return { id, props: { ...props, secretUid: seen.uid } };
    try {
        return { id, props: { ...props, secretUid: seen.uid, value: await readSecretKey(props, props.readKey) } };
    } catch {
        // The new Secret lacks the key (or went away meanwhile): keep what was read until a refresh can tell.
        return { id, props };
    }
}

/** One look at the Secret: its uid, or whether the API said it does not exist. Never rejects. */
async function lookUpSecret(inputs: SecretWaitInputs): Promise<{ uid?: string; notFound: boolean }> {
    const result = await pollSecret(inputs);
    return result.found ? { uid: result.uid, notFound: false } : { notFound: result.notFound === true };
}

/**
 * Polls until `poll` finds the Secret, at least once and until `timeoutSeconds` have passed; resolves to the number
 * of polls and the Secret's uid. Rejects at once on a fatal poll (kubectl missing), and with a message naming the
 * Secret, the time waited and the last answer on timeout. The clock is injected so tests need no real time.
 */
export async function waitForSecret(
    inputs: Pick<SecretWaitInputs, "namespace" | "secretName" | "timeoutSeconds" | "pollIntervalMs" | "hint">,
    poll: () => Promise<PollResult>,
    clock: { now(): number; sleep(ms: number): Promise<void> },
): Promise<{ polls: number; uid: string }> {
    const timeoutSeconds = inputs.timeoutSeconds ?? 300;
    const intervalMs = inputs.pollIntervalMs ?? 2000;
    const deadline = clock.now() + timeoutSeconds * 1000;
    for (let polls = 1; ; polls++) {
        const result = await poll();
        if (result.found) return { polls, uid: result.uid };
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
    // Only the uid is printed: the Secret's data never reaches this process.
    const answer = await runKubectl(inputs, ["get", "secret", inputs.secretName, "-o", "jsonpath={.metadata.uid}"]);
    const uid = answer.stdout.trim();
    if (answer.code === 0 && uid !== "") return { found: true, uid };
    if (answer.missing) return { found: false, fatal: true, reason: answer.said };
    // kubectl's words for a 404 from the API server: the cluster answered, the Secret is not there.
    return { found: false, reason: answer.said, notFound: answer.said.startsWith("Error from server (NotFound)") };
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
