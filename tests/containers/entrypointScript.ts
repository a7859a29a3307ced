/**
 * Shared by the tests of the Slurm image's entrypoint (entrypoint.test.ts, entrypointWait.test.ts): it runs as a
 * plain bash script on this machine (no container, no root), with mounts faked in temporary directories through the
 * override variables.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const ENTRYPOINT = path.resolve(__dirname, "../../containers/images/slurm-base/Docker/entrypoint/entrypoint.sh");
export const ROLES_LIST = "allowed roles: slurmdbd slurmctld compute login restapi";

export interface Result {
    status: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs the entrypoint with only PATH and the given variables in its environment. `onStderr` sees the log as it
 * comes, to act on a condition the entrypoint reports (never on elapsed time).
 */
export function run(
    args: string[],
    env: Record<string, string> = {},
    timeoutMs = 30_000,
    onStderr?: (soFar: string) => void,
): Promise<Result> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [ENTRYPOINT, ...args], {
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => {
            stderr += chunk;
            onStderr?.(stderr);
        });
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`entrypoint ${args.join(" ")} still running after ${timeoutMs} ms\n${stderr}`));
        }, timeoutMs);
        child.on("error", reject);
        child.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
    });
}

/** The plan lines a dry run prints on stdout, e.g. "wait slurmdbd:6819". */
export function planLines(result: Result, kind: string): string[] {
    return result.stdout
        .split("\n")
        .filter((line) => line.startsWith(`${kind} `))
        .map((line) => line.slice(kind.length + 1));
}

let scratch = "";

/** A scratch folder for the fixtures of one test file: made before its tests, removed after them. */
export function useScratch(): void {
    before(() => {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "entrypoint-test-"));
    });
    after(() => {
        fs.rmSync(scratch, { recursive: true, force: true });
    });
}

/** The current scratch folder (see useScratch). */
export function scratchDir(): string {
    return scratch;
}

/**
 * Writes FILES into DIR laid out like a Kubernetes ConfigMap/Secret volume: each file is a symlink into ..data/,
 * itself a symlink to a timestamped directory.
 */
export function kubeVolume(dir: string, files: Record<string, string>, mode = 0o644): string {
    const stamp = path.join(dir, "..2025_01_01_00_00_00.000000000");
    fs.mkdirSync(stamp, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
        fs.writeFileSync(path.join(stamp, name), content, { mode });
        fs.symlinkSync(path.join("..data", name), path.join(dir, name));
    }
    fs.symlinkSync(path.basename(stamp), path.join(dir, "..data"));
    return dir;
}

interface Fixture {
    slurmConf?: string;
    extraConfigs?: Record<string, string>;
    slurmdbdConf?: string;
    withKey?: boolean;
    /** The users' ConfigMap files (passwd, group, authorized_keys.<user>); absent: not mounted. */
    users?: Record<string, string>;
    /** Whether the SSH host key Secret is mounted. Default true. */
    withHostKey?: boolean;
}

/** Fake mounts for one run; returns the override variables pointing at them. */
export function fixture(name: string, spec: Fixture): Record<string, string> {
    const root = path.join(scratch, name);
    fs.mkdirSync(root);
    const env: Record<string, string> = {
        MUNGE_KEY_SOURCE: path.join(root, "munge-secret", "munge.key"),
        SLURM_CONFIG_SOURCE: path.join(root, "slurm-config"),
        SLURMDBD_CONF_SOURCE: path.join(root, "slurm-secret", "slurmdbd.conf"),
        SLURM_ETC: path.join(root, "etc-slurm"),
        MUNGE_ETC: path.join(root, "etc-munge"),
        SSH_HOST_KEY_SOURCE: path.join(root, "ssh-host-key", "ssh_host_ed25519_key"),
        SLURM_USERS_SOURCE: path.join(root, "slurm-users"),
        ETC_PASSWD: path.join(root, "etc-passwd"),
        ETC_GROUP: path.join(root, "etc-group"),
        HOME_ROOT: path.join(root, "home"),
        ENTRYPOINT_DRY_RUN: "1",
    };
    fs.mkdirSync(path.join(root, "ssh-host-key"));
    if (spec.withHostKey ?? true) {
        kubeVolume(path.join(root, "ssh-host-key"), { ssh_host_ed25519_key: "not read in a dry run\n" }, 0o400);
    }
    fs.mkdirSync(env.SLURM_USERS_SOURCE);
    if (spec.users) kubeVolume(env.SLURM_USERS_SOURCE, spec.users);
    fs.mkdirSync(path.join(root, "munge-secret"));
    if (spec.withKey ?? true) {
        kubeVolume(path.join(root, "munge-secret"), { "munge.key": "k".repeat(1024) }, 0o400);
    }
    const configs: Record<string, string> = { ...(spec.extraConfigs ?? {}) };
    if (spec.slurmConf !== undefined) configs["slurm.conf"] = spec.slurmConf;
    fs.mkdirSync(env.SLURM_CONFIG_SOURCE);
    if (Object.keys(configs).length > 0) kubeVolume(env.SLURM_CONFIG_SOURCE, configs);
    fs.mkdirSync(path.join(root, "slurm-secret"));
    if (spec.slurmdbdConf !== undefined) {
        kubeVolume(path.join(root, "slurm-secret"), { "slurmdbd.conf": spec.slurmdbdConf }, 0o400);
    }
    return env;
}

export const SLURM_CONF = `# as the renderer writes it
ClusterName=lab
SlurmctldHost=slurmctld-0(slurmctld)
SlurmUser=slurm
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=slurmdbd
AccountingStoragePort=6819
ProctrackType=proctrack/linuxproc
NodeSet=compute Feature=compute
PartitionName=batch Nodes=compute Default=YES
`;

export const SLURMDBD_CONF = `DbdHost=slurmdbd-0
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=mariadb
StoragePort=3306
StoragePass=secret
`;

/** A local port with nothing listening: bound then released. */
export async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/** A local port that accepts connections until the returned close() is called. */
export async function openPort(): Promise<{ port: number; close: () => Promise<void> }> {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
