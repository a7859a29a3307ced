/** Running the host's CLIs (pulumi, kind, docker, nvidia-smi) synchronously, in a form tests can replace. */
import { spawnSync } from "child_process";

/** What a finished command left: exit status (null when it could not start), its output, and why it did not start. */
export interface RunResult {
    /** Exit status; null when the command did not start or was killed. */
    readonly status: number | null;
    /** Its standard output. */
    readonly stdout: string;
    /** Its standard error. */
    readonly stderr: string;
    /** True when there is no such command on PATH (or it is not executable). */
    readonly notFound: boolean;
}

/** How a command runs, besides its arguments. */
export interface RunOptions {
    /** Stream its output to the user instead of capturing it. Default false. */
    readonly inherit?: boolean;
    /** Its working directory. Default this process's. */
    readonly cwd?: string;
    /** Variables added to this process's environment for it (kind's KIND_EXPERIMENTAL_PROVIDER). Default none. */
    readonly env?: Readonly<Record<string, string>>;
}

/** Runs `command args` as `options` say. */
export type Runner = (command: string, args: readonly string[], options?: RunOptions) => RunResult;

/** The real runner: `spawnSync`, output captured as UTF-8 unless `inherit`. */
export const runCommand: Runner = (command, args, options = {}) => {
    const result = spawnSync(command, [...args], {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : undefined,
        encoding: "utf8",
        stdio: options.inherit ? "inherit" : "pipe",
        // `docker build` of the Slurm image prints a lot; the rest print little. Keep the whole output.
        maxBuffer: 64 * 1024 * 1024,
    });
    const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
    return {
        status: result.status,
        stdout: result.stdout ?? "",
        stderr: result.stderr ?? (result.error ? result.error.message : ""),
        notFound: code === "ENOENT" || code === "EACCES",
    };
};

/** The first non-empty line of `text`, trimmed; what a tool says in one line. */
export function firstLine(text: string): string {
    return (
        text
            .split("\n")
            .map((line) => line.trim())
            .find(Boolean) ?? ""
    );
}
