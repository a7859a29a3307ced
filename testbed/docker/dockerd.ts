/**
 * A real Docker engine for the tests that read Docker (Debian's `docker.io`): a private dockerd with its own data
 * root, exec root and socket in a temporary folder, so it never touches the host's engine or another test's. It
 * runs with `--bridge=none --iptables=false`: no default bridge to clash over, no firewall changes; containers go
 * on a user-defined network, and published ports are still bound by Docker's userland proxy and recorded as
 * Docker records them. Images come from a folder tar (`docker import`): nothing can be pulled here.
 */
import { execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A running private engine. */
export interface Dockerd {
    /** The folder holding its data, socket, pid file and log. */
    readonly dir: string;
    /** `unix://<dir>/docker.sock`: what DOCKER_HOST must be for the docker CLI to talk to it. */
    readonly host: string;
    /** Runs the docker CLI against this engine; resolves to stdout, rejects with stderr. */
    docker(args: readonly string[], input?: string): Promise<string>;
    /** Removes every container and network it has, stops it, and removes its folder. */
    stop(): Promise<void>;
}

/** Polls `check` until true or `timeoutMs` has passed; the error names `what`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 500)) {
        if (await Promise.resolve(check()).catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** True when this machine can run the private engine (dockerd installed, running as root). */
export function dockerdAvailable(): boolean {
    try {
        execFileSync("dockerd", ["--version"], { stdio: "ignore" });
        return process.getuid?.() === 0;
    } catch {
        return false;
    }
}

/** Starts a private dockerd and resolves once it answers `docker info`. */
export async function startDockerd(timeoutMs = 60_000): Promise<Dockerd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperscaler-dockerd-"));
    const socket = path.join(dir, "docker.sock");
    const host = `unix://${socket}`;
    const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
    const child = spawn(
        "dockerd",
        [
            `--data-root=${path.join(dir, "data")}`,
            `--exec-root=${path.join(dir, "exec")}`,
            `--pidfile=${path.join(dir, "dockerd.pid")}`,
            `--host=${host}`,
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            "--storage-driver=vfs",
        ],
        { detached: true, stdio: ["ignore", log, log] },
    );
    fs.closeSync(log);
    child.unref();
    const pid = child.pid!;
    const docker = (args: readonly string[], input?: string): Promise<string> =>
        new Promise((resolve, reject) => {
            const run = execFile(
                "docker",
                ["--host", host, ...args],
                { maxBuffer: 64 * 1024 * 1024 },
                (error, stdout, stderr) =>
                    error
                        ? reject(new Error(`docker ${args.join(" ")}: ${stderr.trim() || error.message}`))
                        : resolve(stdout),
            );
            if (input !== undefined) run.stdin!.end(input);
        });
    const stop = async (): Promise<void> => {
        if (alive(pid)) {
            const ids = (await docker(["ps", "-aq"]).catch(() => "")).split("\n").filter(Boolean);
            if (ids.length > 0) await docker(["rm", "-f", ...ids]).catch(() => undefined);
            process.kill(pid, "SIGTERM");
            await waitFor(`dockerd (pid ${pid}) to stop`, () => !alive(pid), 30_000).catch(() => {
                if (alive(pid)) process.kill(pid, "SIGKILL");
            });
        }
        // dockerd's managed containerd may leave its own mounts under the exec root for a moment.
        execFileSync("sh", ["-c", `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], {
            stdio: "ignore",
        });
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        await waitFor(
            `dockerd to answer on ${host} (log: ${path.join(dir, "dockerd.log")})`,
            async () => {
                if (!alive(pid)) throw new Error("dockerd exited");
                await docker(["info", "--format", "{{.ServerVersion}}"]);
                return true;
            },
            timeoutMs,
        ).catch((error: Error) => {
            const said = fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").trimEnd().split("\n").slice(-10);
            throw new Error(`${error.message}\n${said.join("\n")}`);
        });
    } catch (error) {
        await stop();
        throw error;
    }
    return { dir, host, docker, stop };
}

/**
 * An image made here without a registry: a folder with busybox (Debian's busybox-static) as `sleep` and `sh`,
 * imported as `reference`. Its containers run `sleep infinity`, which is all a node container of these tests does.
 */
export async function importBusyboxImage(engine: Dockerd, reference: string): Promise<void> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "busybox-root-"));
    try {
        fs.mkdirSync(path.join(root, "bin"));
        fs.copyFileSync("/bin/busybox", path.join(root, "bin", "busybox"));
        fs.chmodSync(path.join(root, "bin", "busybox"), 0o755);
        for (const tool of ["sh", "sleep", "cat", "mkdir", "echo", "true"])
            fs.symlinkSync("busybox", path.join(root, "bin", tool));
        const tar = execFileSync("tar", ["-C", root, "-c", "."], { maxBuffer: 64 * 1024 * 1024 });
        await new Promise<void>((resolve, reject) => {
            const run = execFile("docker", ["--host", engine.host, "import", "-", reference], (error, _out, stderr) =>
                error ? reject(new Error(`docker import: ${stderr.trim() || error.message}`)) : resolve(),
            );
            run.stdin!.end(tar);
        });
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}
