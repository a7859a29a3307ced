/**
 * A user's checkout of this project in a temporary folder, for tests that run `npm run up|preview|destroy|verify`
 * for real: the files git tracks (and new ones not ignored), `node_modules` linked from this repository, and the
 * stack files a test writes. State, the generated passphrase and renders then land in that folder, as they would in
 * a user's checkout, and never in this repository.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";

/** This repository. */
export const REPO = path.resolve(__dirname, "..");

/** What one command printed and how it ended. */
export interface Ran {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** The checkout. */
export interface Project {
    /** Its folder. */
    readonly dir: string;
    /** Writes `Pulumi.<stack>.yaml` with these settings (keys without the project prefix). */
    writeStack(stack: string, settings: Record<string, unknown>): void;
    /** Runs `npm run <script> -- <args>` in the checkout; never throws on a non-zero exit. */
    npm(
        script: string,
        args: readonly string[],
        options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number },
    ): Promise<Ran>;
    /** Starts `npm run <script> -- <args>` in the checkout, for a test that interrupts it. */
    npmStart(
        script: string,
        args: readonly string[],
        options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onStdout?: (chunk: string) => void },
    ): Started;
    /** Runs the pulumi CLI in the checkout with the project-local backend (`.pulumi-state`, its passphrase file). */
    pulumi(args: readonly string[], options?: { timeoutMs?: number }): Promise<Ran>;
    /** The environment of the project-local backend, as `npm run up` prints it for `pulumi stack output`. */
    readonly backendEnv: Record<string, string>;
    /** Removes the checkout. */
    remove(): void;
}

/** The environment a user would have: the toolchain on PATH, and no backend, passphrase or token of their own. */
export function userEnv(extra: NodeJS.ProcessEnv, credentialsDir: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    for (const key of [
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_CONFIG_PASSPHRASE_FILE",
        "PULUMI_ACCESS_TOKEN",
    ]) {
        if (!(key in extra)) delete env[key];
    }
    // Not logged in, whatever `pulumi login` wrote into the toolchain's PULUMI_HOME: the CLI and the project read
    // the credentials from this folder, which holds none.
    env.PULUMI_CREDENTIALS_PATH = credentialsDir;
    // The mocha process's own settings must not leak into the program the engine runs.
    delete env.TS_NODE_PROJECT;
    delete env.NODE_OPTIONS;
    return env;
}

/** A command that was started: its process group (its pid) and its end. */
export interface Started {
    /** The pid of the command, also the id of its process group (npm, ts-node, the pulumi CLI, its plugins). */
    readonly pid: number;
    /** How it ended. */
    readonly done: Promise<Ran>;
}

/** Starts `command` in a process group of its own, with a deadline that kills it (and says so in stderr). */
export function start(
    command: string,
    args: readonly string[],
    options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; onStdout?: (chunk: string) => void },
): Started {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env, detached: true });
    const done = new Promise<Ran>((resolve, reject) => {
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
            stdout += chunk;
            options.onStdout?.(chunk);
        });
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        const timer = setTimeout(() => {
            stderr += `\n[test harness: ${command} ${args.join(" ")} killed after ${options.timeoutMs / 1000} s]\n`;
            process.kill(-child.pid!, "SIGKILL");
        }, options.timeoutMs);
        child.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
        });
    });
    return { pid: child.pid!, done };
}

/** Runs `command` to its end, with a deadline that kills it (and says so in stderr). */
export function run(
    command: string,
    args: readonly string[],
    options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Ran> {
    return start(command, args, options).done;
}

/** Copies this repository's files into a new temporary folder. */
export function copyProject(): Project {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperscaler-project-"));
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
        cwd: REPO,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    })
        .split("\0")
        .filter((f) => f !== "" && fs.existsSync(path.join(REPO, f)));
    for (const file of files) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(path.join(REPO, file), path.join(dir, file));
        fs.chmodSync(path.join(dir, file), fs.statSync(path.join(REPO, file)).mode);
    }
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    const state = path.join(dir, ".pulumi-state");
    const credentials = path.join(dir, ".pulumi-credentials");
    const backendEnv = {
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: path.join(state, "passphrase"),
    };
    return {
        dir,
        backendEnv,
        writeStack(stack, settings) {
            const config = Object.fromEntries(Object.entries(settings).map(([k, v]) => [`ai-hyperscaler:${k}`, v]));
            fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify({ config }, { version: "1.1" }));
        },
        npm(script, args, options = {}) {
            return run("npm", ["run", "--silent", script, "--", ...args], {
                cwd: dir,
                env: userEnv(options.env ?? {}, credentials),
                timeoutMs: options.timeoutMs ?? 600_000,
            });
        },
        npmStart(script, args, options = {}) {
            return start("npm", ["run", "--silent", script, "--", ...args], {
                cwd: dir,
                env: userEnv(options.env ?? {}, credentials),
                timeoutMs: options.timeoutMs ?? 600_000,
                onStdout: options.onStdout,
            });
        },
        pulumi(args, options = {}) {
            return run("pulumi", [...args, "--non-interactive"], {
                cwd: dir,
                env: userEnv(backendEnv, credentials),
                timeoutMs: options.timeoutMs ?? 600_000,
            });
        },
        remove() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
