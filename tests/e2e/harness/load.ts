/**
 * Opt-in CPU load beside a run (`E2E_LOAD=<workers>`): `stress-ng --cpu <workers>` as the machine's other work
 * would load it, so that the waits are proven to wait on conditions rather than on a quiet machine's timing.
 */
import { ChildProcess, spawn } from "child_process";
import { onInterrupt, release } from "./cleanup";

/** A running load generator. */
export interface Load {
    /** How many CPU workers stress-ng runs. */
    readonly workers: number;
    /** Stops stress-ng and its workers, and waits until they are gone. */
    stop(): Promise<void>;
}

/** The worker count `E2E_LOAD` asks for: 0 (no load) when unset; a clear error for anything but a whole number. */
export function loadFromEnvironment(value = process.env.E2E_LOAD): number {
    if (value === undefined || value === "") return 0;
    if (!/^\d+$/.test(value) || Number(value) > 64) {
        throw new Error(
            `E2E_LOAD is "${value}"; allowed: a whole number of CPU workers from 0 to 64 (stress-ng --cpu N)`,
        );
    }
    return Number(value);
}

/**
 * Starts `stress-ng --cpu <workers>` in its own process group; resolves once it runs. Its own `--timeout` bounds it
 * even if this process dies without cleaning up.
 */
export async function startLoad(workers: number, maxSeconds = 7200): Promise<Load> {
    const child = spawn("stress-ng", ["--cpu", String(workers), "--timeout", `${maxSeconds}s`, "--quiet"], {
        detached: true,
        stdio: "ignore",
    });
    await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", (error) =>
            reject(new Error(`E2E_LOAD needs stress-ng (apt-get install stress-ng): ${error.message}`)),
        );
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        release(stop);
        killGroup(child, "SIGTERM");
        const done = await Promise.race([
            exited.then(() => true),
            new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref()),
        ]);
        if (!done) killGroup(child, "SIGKILL");
        await exited;
    };
    onInterrupt(stop);
    return { workers, stop };
}

/** Signals the load's process group (stress-ng and the workers it forked), by its id. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null) return;
    try {
        process.kill(-child.pid, signal);
    } catch {
        // Already gone.
    }
}
