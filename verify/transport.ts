/**
 * How the verify checks run commands. The checks only see two small interfaces, so the same checks run against a
 * deployed stack (`kubectl exec` into the login pod) and against the end-to-end harness (`podman exec` into the
 * login container).
 *
 * Targets are logical Slurm roles, named as the Kubernetes objects are: the Slurm checks run every command on
 * the target `login` (a host with the Slurm client commands and the MUNGE key). A transport maps a target to its
 * own address: {@link kubectlTransport} to a workload (`deploy/login`, `deployment/slurm-login-slinky`), a podman
 * transport to a container name.
 */

/** What a command did. `code` 124 means it was stopped at its time limit, 127 that the program was not found. */
export interface ExecResult {
    /** Exit code. */
    readonly code: number;
    /** Standard output. */
    readonly stdout: string;
    /** Standard error. */
    readonly stderr: string;
}

/** Options of one command. */
export interface ExecOptions {
    /** The command is stopped after this many milliseconds (result code 124). Required. */
    readonly timeoutMs: number;
}

/** Runs a command inside a target (a pod, a container). */
export interface ExecTransport {
    /** Runs `argv` (no shell) inside `target`; never rejects: failures come back as a non-zero `code`. */
    exec(target: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult>;
}

/** Runs a command on this machine (kubectl against a cluster's API). */
export interface CommandRunner {
    /** Runs `argv` (no shell); never rejects: failures come back as a non-zero `code`. */
    run(argv: readonly string[], options: ExecOptions): Promise<ExecResult>;
}

/** A {@link CommandRunner} that spawns processes, stopping each at its time limit. */
export const processRunner: CommandRunner = {
    run(argv, options) {
        const { execFile } = require("child_process") as typeof import("child_process");
        return new Promise((resolve) => {
            execFile(
                argv[0],
                argv.slice(1),
                { timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
                (error, stdout, stderr) => {
                    const failure = error as
                        (Error & { code?: string | number; killed?: boolean; signal?: string }) | null;
                    if (!failure) {
                        resolve({ code: 0, stdout: String(stdout), stderr: String(stderr) });
                    } else if (failure.code === "ENOENT") {
                        resolve({ code: 127, stdout: "", stderr: `${argv[0]} was not found on PATH` });
                    } else if (failure.killed || failure.signal) {
                        resolve({
                            code: 124,
                            stdout: String(stdout),
                            stderr: `${argv[0]} stopped after ${options.timeoutMs / 1000} s (time limit)`,
                        });
                    } else {
                        resolve({
                            code: typeof failure.code === "number" ? failure.code : 1,
                            stdout: String(stdout),
                            stderr: String(stderr),
                        });
                    }
                },
            );
        });
    },
};

/** Where kubectl finds a cluster. */
export interface KubectlAccess {
    /** The kubectl binary. Default `kubectl`. */
    readonly kubectl?: string;
    /** kubeconfig file. Default: kubectl's own lookup. */
    readonly kubeconfigPath?: string;
    /** Context in it. Default: its current context. */
    readonly context?: string;
}

/** `kubectl` with the connection flags of `access`, then `args`. */
export function kubectlArgv(access: KubectlAccess, args: readonly string[]): string[] {
    return [
        access.kubectl ?? "kubectl",
        ...(access.kubeconfigPath ? ["--kubeconfig", access.kubeconfigPath] : []),
        ...(access.context ? ["--context", access.context] : []),
        ...args,
    ];
}

/**
 * An {@link ExecTransport} that runs `kubectl exec` into the workload `targets[target]` of `namespace`
 * (for example `{ login: "deploy/login" }`), through `runner`.
 */
export function kubectlTransport(
    runner: CommandRunner,
    access: KubectlAccess & { readonly namespace: string; readonly targets: Readonly<Record<string, string>> },
): ExecTransport {
    return {
        async exec(target, argv, options) {
            const workload = access.targets[target];
            if (!workload) return { code: 2, stdout: "", stderr: `no workload is known for the target "${target}"` };
            return runner.run(
                kubectlArgv(access, ["--namespace", access.namespace, "exec", workload, "--", ...argv]),
                options,
            );
        },
    };
}
