/** A thin, promise-based wrapper around the podman CLI, with the settings this machine needs. */
import { spawn } from "child_process";

/** What a command printed and how it ended. */
export interface CommandResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    /** True when the call was killed at its time limit (`code` is then the kill's, not the command's). */
    readonly timedOut?: boolean;
}

/** `podman exec …` as one short line, for messages. */
function describe(args: readonly string[]): string {
    const line = ["podman", ...args].join(" ");
    return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/**
 * Runs podman; resolves with its result whatever the exit code. `timeoutMs` kills a hung call, and the result then
 * says which call and after how long.
 */
export function podman(
    args: readonly string[],
    options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
        const child = spawn("podman", args, { stdio: ["pipe", "pipe", "pipe"], env: process.env });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        // Every podman call is bounded: a hung call must fail the test, not stall CI.
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, timeoutMs);
        child.on("error", reject);
        // A command that exits without reading its input closes the pipe (EPIPE): its exit code says how it went.
        child.stdin.on("error", () => undefined);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            const note = timedOut ? `\n(${describe(args)} killed: no answer within ${timeoutMs / 1000} s)` : "";
            resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: stderr + note, timedOut });
        });
        child.stdin.end(options.input ?? "");
    });
}

/** Runs podman and rejects, with the call and its stderr, unless it exits 0. */
export async function podmanOk(
    args: readonly string[],
    options: { timeoutMs?: number; input?: string } = {},
): Promise<string> {
    const result = await podman(args, options);
    if (result.code !== 0) {
        throw new Error(`${describe(args)} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    }
    return result.stdout;
}

/**
 * Runs `argv` in a running container (`podman exec`), bounded by `timeoutMs`, in `workdir` (default: the image's
 * working directory); resolves whatever the exit code. The one transport every check into a container goes through.
 */
export function exec(
    containerName: string,
    argv: readonly string[],
    timeoutMs = 120_000,
    workdir?: string,
): Promise<CommandResult> {
    return podman(["exec", ...(workdir ? ["--workdir", workdir] : []), containerName, ...argv], { timeoutMs });
}

/** `fn` over every item, at most `limit` at once (podman calls: dozens at once only queue on its locks); in order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]);
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

/** How `waitFor` polls. */
export interface WaitOptions {
    /** Longest pause between two checks; it starts at 200 ms (or at this, if smaller), doubling. Default 2000. */
    readonly maxDelayMs?: number;
    /** What the condition looked like at the last check, for the timeout message (e.g. each node's state). */
    readonly lastSeen?: () => string;
}

/**
 * Polls `check` until it returns a value (not undefined) or `timeoutMs` passes, then fails naming `what` and the
 * last error. Waiting on a condition, never on a fixed time.
 */
export async function waitFor<T>(
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs: number,
    options: WaitOptions = {},
): Promise<T> {
    const maxDelayMs = options.maxDelayMs ?? 2000;
    const deadline = Date.now() + timeoutMs;
    let delay = Math.min(200, maxDelayMs);
    let last: unknown;
    let checks = 0;
    for (;;) {
        checks++;
        try {
            const value = await check();
            if (value !== undefined) return value;
            last = undefined;
        } catch (error) {
            last = error;
        }
        if (Date.now() > deadline) {
            const seen = options.lastSeen?.();
            const cause = last
                ? `; the last check failed: ${(last as Error).message}`
                : seen
                  ? `; last seen: ${seen}`
                  : "";
            throw new Error(`timed out after ${timeoutMs / 1000} s (${checks} checks) waiting for ${what}${cause}`);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, maxDelayMs);
    }
}
