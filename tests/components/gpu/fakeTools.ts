/**
 * Drives the fake `docker`, `kubectl` and `kind` of tests/fakes for the GPU tests: puts them first on PATH with one
 * state folder (FAKE_CLI_STATE), builds kind node containers the fake docker simulates (tests/fakes/lib/kind-nodes.sh),
 * and reads back what each fake was asked to do.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";

const FAKES = path.resolve(__dirname, "../../fakes");

/** How a fake node container starts out. */
export interface FakeNode {
    /** The kind cluster it belongs to. Default `lab`. */
    readonly cluster?: string;
    readonly role: "control-plane" | "worker";
    /** Device mount basenames under /var/run/nvidia-container-devices (`["all"]`); none for a CPU node. */
    readonly gpus?: readonly string[];
    /** Whether the container runs. Default true. */
    readonly running?: boolean;
    /** Whether the host's driver reaches the node. Default true for GPU nodes. */
    readonly driver?: boolean;
    /** Host toolkit generation: `legacy` (< 1.19, params says 1) or `hook` (>= 1.19, says 0). Default legacy. */
    readonly generation?: "legacy" | "hook";
    /** Entries of the node's /dev. Default a few, plus nvidia0..1 on GPU nodes. */
    readonly dev?: readonly string[];
    /** Start as a node the setup already prepared (toolkit, containerd's nvidia runtime live, params masked). */
    readonly prepared?: boolean;
}

/** One call a fake received: its arguments. */
export type Call = string[];

/** A sandbox with the fakes on PATH; `restore()` puts PATH and the environment back. */
export class FakeTools {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-gpu-tools-"));
    /** The fakes' state folder (FAKE_CLI_STATE): their logs, the kubectl answers, the node containers. */
    readonly state = path.join(this.dir, "state");
    private readonly savedEnv = { ...process.env };

    constructor() {
        fs.mkdirSync(path.join(this.state, "kind-nodes"), { recursive: true });
        fs.mkdirSync(path.join(this.state, "kind-node-sim"));
        const bin = path.join(this.dir, "bin");
        fs.mkdirSync(bin);
        // kind is there only to record: the GPU code must never create or delete clusters.
        for (const tool of ["docker", "kubectl", "kind"]) fs.symlinkSync(path.join(FAKES, tool), path.join(bin, tool));
        process.env.PATH = `${bin}${path.delimiter}${this.savedEnv.PATH}`;
        process.env.FAKE_CLI_STATE = this.state;
        delete process.env.FAKE_KUBECTL_DIR;
        delete process.env.FAKE_KUBECTL_MODE;
        delete process.env.FAKE_DOCKER_ENGINE;
    }

    /** Adds a node container `name`: listed as kind lists it, and simulated. */
    node(name: string, spec: FakeNode): this {
        const cluster = spec.cluster ?? "lab";
        fs.appendFileSync(
            path.join(this.state, "kind-nodes", cluster),
            `${name}\t${spec.role}\t${DEFAULT_KIND_NODE_IMAGE}\t\n`,
        );
        const d = this.nodeDir(name);
        fs.mkdirSync(d);
        const gpus = spec.gpus ?? [];
        const mounts = [
            "/lib/modules:/lib/modules",
            ...gpus.map((g) => `/dev/null:/var/run/nvidia-container-devices/${g}`),
        ];
        fs.writeFileSync(path.join(d, "mounts"), mounts.join("\n") + "\n");
        if (spec.running ?? true) fs.writeFileSync(path.join(d, "running"), "");
        if (spec.driver ?? gpus.length > 0) fs.writeFileSync(path.join(d, "driver"), "");
        fs.writeFileSync(path.join(d, "generation"), spec.generation ?? "legacy");
        const dev = spec.dev ?? [
            "null",
            "zero",
            "pts",
            ...(gpus.length > 0 ? ["nvidia0", "nvidia1", "nvidiactl"] : []),
        ];
        fs.writeFileSync(path.join(d, "dev"), dev.join("\n") + "\n");
        if (spec.prepared) {
            for (const file of ["toolkit", "containerd-file", "containerd-live", "params-masked"])
                fs.writeFileSync(path.join(d, file), "");
        }
        return this;
    }

    /** The simulation folder of node container `name`. */
    private nodeDir(name: string): string {
        return path.join(this.state, "kind-node-sim", name);
    }

    /** Makes every command (or script line) containing `text` fail on `node`. */
    failOn(node: string, text: string): void {
        fs.appendFileSync(path.join(this.state, "docker-exec-fail"), `${node} ${text}\n`);
    }

    /** Takes back every {@link failOn}. */
    clearFailures(): void {
        fs.rmSync(path.join(this.state, "docker-exec-fail"));
    }

    /** Whether a state file (`toolkit`, `containerd-live`, `params-masked`, ...) exists in node `name`. */
    nodeHas(name: string, file: string): boolean {
        return fs.existsSync(path.join(this.nodeDir(name), file));
    }

    /** Removes a state file from node `name`, as a restart or a re-created node would lose it. */
    nodeLoses(name: string, file: string): void {
        fs.rmSync(path.join(this.nodeDir(name), file));
    }

    /** The node's /dev entries now. */
    nodeDev(name: string): string[] {
        return fs
            .readFileSync(path.join(this.nodeDir(name), "dev"), "utf8")
            .split("\n")
            .filter(Boolean);
    }

    /** From now on the fake docker finds no daemon (FAKE_DOCKER_ENGINE=down). */
    dockerDown(): void {
        process.env.FAKE_DOCKER_ENGINE = "down";
    }

    /** From now on the fake kubectl finds no API server (FAKE_KUBECTL_MODE=down). */
    kubectlDown(): void {
        process.env.FAKE_KUBECTL_MODE = "down";
    }

    /** Every docker call so far. */
    dockerCalls(): Call[] {
        return readCalls(path.join(this.state, "docker.calls"));
    }

    /** The `docker exec` calls so far, as [node, ...argv] (newlines inside arguments shown as `\n`). */
    execs(): Call[] {
        return this.dockerCalls()
            .filter((c) => c[0] === "exec")
            .map((c) => c.slice(1));
    }

    /** Forgets the calls recorded so far. */
    clearCalls(): void {
        fs.rmSync(path.join(this.state, "docker.calls"), { force: true });
        fs.rmSync(path.join(this.state, "calls.log"), { force: true });
    }

    /** Every kubectl call so far. */
    kubectlCalls(): Call[] {
        return readCalls(path.join(this.state, "calls.log"));
    }

    /** Writes a file the fake kubectl answers from (`nodes.json`, `nodes.2.json`, `pods.json`) as JSON. */
    kubectlAnswer(file: string, value: unknown): void {
        this.kubectlAnswerText(file, JSON.stringify(value));
    }

    /** Writes a file the fake kubectl answers from, as it is (output that is not JSON, for one). */
    kubectlAnswerText(file: string, text: string): void {
        fs.writeFileSync(path.join(this.state, file), text);
    }

    /** The last kubeconfig the fake kubectl was given: its text and its mode (octal, as `stat -c %a` shows it). */
    kubeconfigSeen(): { text: string; mode: string } {
        const seen = fs.readFileSync(path.join(this.state, "kubeconfig-seen"), "utf8");
        const match = /^([\s\S]*)mode=(\d+)\n$/.exec(seen);
        if (!match) throw new Error(`kubeconfig-seen does not end in a mode line: ${JSON.stringify(seen)}`);
        return { text: match[1], mode: match[2] };
    }

    /** Every kind call so far. */
    kindCalls(): Call[] {
        return readCalls(path.join(this.state, "kind.calls"));
    }

    restore(): void {
        for (const key of Object.keys(process.env)) if (!(key in this.savedEnv)) delete process.env[key];
        Object.assign(process.env, this.savedEnv);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

function readCalls(log: string): Call[] {
    if (!fs.existsSync(log)) return [];
    return fs
        .readFileSync(log, "utf8")
        .trimEnd()
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("\t"));
}

/** How an argument appears in the fake's log: newlines as `\n`. */
export function logged(argv: readonly string[]): string[] {
    return argv.map((a) => a.replace(/\n/g, "\\n"));
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (error) {
        return error as Error;
    }
    throw new Error("expected a rejection, but the promise resolved");
}
