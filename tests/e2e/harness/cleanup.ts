/**
 * Undo actions for what a run creates (containers, volumes, networks, images, load generators), run by the test's
 * `after` hooks, and also when the run is interrupted (SIGINT, SIGTERM), which skips mocha's hooks.
 */
type Undo = () => Promise<void> | void;

const pending = new Set<Undo>();
let handlersInstalled = false;

/** Registers `undo` until `release` is called with it; an interrupt runs every registered one, newest first. */
export function onInterrupt(undo: Undo): void {
    pending.add(undo);
    if (handlersInstalled) return;
    handlersInstalled = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            console.error(`e2e: ${signal}: removing what this run created`);
            void runAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
        });
    }
}

/** Forgets `undo` (it ran, or its object is gone). */
export function release(undo: Undo): void {
    pending.delete(undo);
}

async function runAll(): Promise<void> {
    for (const undo of [...pending].reverse()) {
        try {
            await undo();
        } catch (error) {
            console.error(`e2e: cleanup step failed: ${(error as Error).message}`);
        }
    }
    pending.clear();
}
