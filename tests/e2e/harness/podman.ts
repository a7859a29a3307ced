/** A thin, promise-based wrapper around the podman CLI, with the settings this machine needs. */
import { spawn } from "child_process";

/** What a command printed and how it ended. */
export interface CommandResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs podman; resolves with its result whatever the exit code. `timeoutMs` kills a hung call. */
export function podman(args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const child = spawn("podman", args, { stdio: ["pipe", "pipe", "pipe"], env: process.env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        // Every podman call is bounded: a hung call must fail the test, not stall CI.
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
        child.on("error", reject);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal === "SIGKILL" ? `${stderr}\n(killed after timeout)` : stderr });
        });
        child.stdin.end(options.input ?? "");
    });
}

/** Runs podman and rejects, with its stderr, unless it exits 0. */
export async function podmanOk(args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    const result = await podman(args, options);
    if (result.code !== 0) {
        throw new Error(`podman ${args.slice(0, 3).join(" ")} ... exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    }
    return result.stdout;
}

/**
 * Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; the delay grows from 200 ms to
 * 2 s. Waiting on a condition, never on a fixed time.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let delay = 200;
    let last: unknown;
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined) return value;
        } catch (error) {
            last = error;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
    }
}
