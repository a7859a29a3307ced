/**
 * The control plane's processes: started detached from the toolchain's binaries, their pids in the folder's
 * `pids.json` (so `stop` from another process finds them), and waits that name what they waited for.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The pid of each running component, by name. */
export interface Pids {
    [component: string]: number;
}

/** The file in the control plane's folder holding its {@link Pids}. */
export const PIDS_FILE = "pids.json";

/** The path of `tool` on PATH (the toolchain's), or an error that says how to get it. */
export function which(tool: string): string {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const candidate = path.join(dir, tool);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return candidate;
        } catch {
            // not in this folder
        }
    }
    throw new Error(`${tool} is not on PATH: run eval "$(npm run -s toolchain)" first`);
}

/** Starts component `name` detached, its output in `<name>.log`, its pid and arguments kept in `dir`. */
export function launch(dir: string, pids: Pids, name: string, args: string[]): void {
    const log = fs.openSync(path.join(dir, `${name}.log`), "a");
    const child = spawn(which(name), args, { cwd: dir, detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    // Kept so that a component stopped on purpose (an outage) starts again exactly as it was.
    fs.writeFileSync(path.join(dir, `${name}.args.json`), JSON.stringify(args));
    child.unref();
    pids[name] = child.pid;
    fs.writeFileSync(path.join(dir, PIDS_FILE), JSON.stringify(pids, null, 2));
}

/** Whether process `pid` still runs. */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** The last lines of a component's log, for an error that says why it never became ready. */
function tail(dir: string, name: string, lines = 15): string {
    try {
        return fs
            .readFileSync(path.join(dir, `${name}.log`), "utf8")
            .trimEnd()
            .split("\n")
            .slice(-lines)
            .join("\n");
    } catch {
        return "(no log)";
    }
}

/** Polls `check` every 100-500 ms until it is true; fails naming `what`, after `timeoutMs`, or when `name` exits. */
export async function waitFor(
    what: string,
    check: () => Promise<boolean>,
    timeoutMs: number,
    process?: { dir: string; name: string; pid: number },
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let delay = 100;
    for (;;) {
        if (await check().catch(() => false)) return;
        if (process && !alive(process.pid)) {
            throw new Error(`${process.name} exited while waiting for ${what}:\n${tail(process.dir, process.name)}`);
        }
        if (Date.now() > deadline) {
            const logs = process ? `; ${process.name}'s log ends:\n${tail(process.dir, process.name)}` : "";
            throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${logs}`);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 500);
    }
}
