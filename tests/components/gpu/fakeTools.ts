/**
 * Drives the fake `docker` and `kubectl` in `fakes/`: puts them first on PATH, builds kind node containers as the
 * fake docker reads them, and reads back what each fake was asked to do.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const FAKES = path.join(__dirname, "fakes");

/** How a fake node container starts out. */
export interface FakeNode {
    readonly cluster?: string;
    readonly role: "control-plane" | "worker";
    /** Device mount basenames under /var/run/nvidia-container-devices (`["all"]`); none for a CPU node. */
    readonly gpus?: readonly string[];
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

/** A sandbox with both fakes on PATH; `restore()` puts PATH and the environment back. */
export class FakeTools {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-gpu-tools-"));
    readonly dockerDir = path.join(this.dir, "docker");
    readonly kubectlDir = path.join(this.dir, "kubectl");
    private readonly savedEnv = { ...process.env };

    constructor() {
        fs.mkdirSync(path.join(this.dockerDir, "nodes"), { recursive: true });
        fs.mkdirSync(this.kubectlDir);
        const bin = path.join(this.dir, "bin");
        fs.mkdirSync(bin);
        for (const tool of ["docker", "kubectl"]) fs.symlinkSync(path.join(FAKES, tool), path.join(bin, tool));
        // A kind that only records: the GPU code must never create or delete clusters.
        fs.writeFileSync(path.join(bin, "kind"), `#!/bin/sh\necho "$*" >> "${this.dir}/kind.log"\nexit 1\n`, {
            mode: 0o755,
        });
        process.env.PATH = `${bin}${path.delimiter}${this.savedEnv.PATH}`;
        process.env.FAKE_DOCKER_DIR = this.dockerDir;
        process.env.FAKE_KUBECTL_DIR = this.kubectlDir;
    }

    /** Adds a node container `name`. */
    node(name: string, spec: FakeNode): this {
        const d = path.join(this.dockerDir, "nodes", name);
        fs.mkdirSync(d);
        const gpus = spec.gpus ?? [];
        fs.writeFileSync(path.join(d, "cluster"), spec.cluster ?? "lab");
        fs.writeFileSync(path.join(d, "role"), spec.role);
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

    /** Makes every command (or script line) containing `text` fail on `node`. */
    failOn(node: string, text: string): void {
        fs.appendFileSync(path.join(this.dockerDir, "fail"), `${node} ${text}\n`);
    }

    /** Whether a state file (`toolkit`, `containerd-live`, `params-masked`, ...) exists in node `name`. */
    nodeHas(name: string, file: string): boolean {
        return fs.existsSync(path.join(this.dockerDir, "nodes", name, file));
    }

    /** The node's /dev entries now. */
    nodeDev(name: string): string[] {
        return fs
            .readFileSync(path.join(this.dockerDir, "nodes", name, "dev"), "utf8")
            .split("\n")
            .filter(Boolean);
    }

    /** Every docker call so far. */
    dockerCalls(): Call[] {
        return readCalls(path.join(this.dockerDir, "calls.log"));
    }

    /** The `docker exec` calls so far, as [node, ...argv] (newlines inside arguments shown as `\n`). */
    execs(): Call[] {
        return this.dockerCalls()
            .filter((c) => c[0] === "exec")
            .map((c) => c.slice(1));
    }

    /** Forgets the calls recorded so far. */
    clearCalls(): void {
        fs.rmSync(path.join(this.dockerDir, "calls.log"), { force: true });
        fs.rmSync(path.join(this.kubectlDir, "calls.log"), { force: true });
    }

    /** Every kubectl call so far. */
    kubectlCalls(): Call[] {
        return readCalls(path.join(this.kubectlDir, "calls.log"));
    }

    /** Writes a file the fake kubectl answers from (`nodes.json`, `nodes.2.json`, `pods.json`). */
    kubectlAnswer(file: string, value: unknown): void {
        fs.writeFileSync(path.join(this.kubectlDir, file), JSON.stringify(value));
    }

    /** Any call of the recording kind. */
    kindCalls(): string[] {
        const log = path.join(this.dir, "kind.log");
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
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
