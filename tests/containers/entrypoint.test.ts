/**
 * The Slurm image's entrypoint (a dispatcher, its library and one script per role), run as a plain bash script on
 * this machine (no container, no root): mounts are faked in temporary directories through the override variables,
 * and ENTRYPOINT_DRY_RUN shows what it plans (config copies, the waits SLURM_WAIT_FOR names, the daemon command
 * line) without starting anything. ENTRYPOINT_DRY_RUN=wait performs the waits for real, against local ports this
 * test opens or keeps closed.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const ENTRYPOINT = path.resolve(__dirname, "../../containers/images/slurm-base/Docker/entrypoint/entrypoint.sh");
const ROLES_LIST = "allowed roles: slurmdbd slurmctld compute login";

interface Result {
    status: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs the entrypoint with only PATH and the given variables in its environment. `onStderr` sees the log as it
 * comes, to act on a condition the entrypoint reports (never on elapsed time).
 */
function run(
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
function planLines(result: Result, kind: string): string[] {
    return result.stdout
        .split("\n")
        .filter((line) => line.startsWith(`${kind} `))
        .map((line) => line.slice(kind.length + 1));
}

let scratch: string;

/**
 * Writes FILES into DIR laid out like a Kubernetes ConfigMap/Secret volume: each file is a symlink into ..data/,
 * itself a symlink to a timestamped directory.
 */
function kubeVolume(dir: string, files: Record<string, string>, mode = 0o644): string {
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
}

/** Fake mounts for one run; returns the override variables pointing at them. */
function fixture(name: string, spec: Fixture): Record<string, string> {
    const root = path.join(scratch, name);
    fs.mkdirSync(root);
    const env: Record<string, string> = {
        MUNGE_KEY_SOURCE: path.join(root, "munge-secret", "munge.key"),
        SLURM_CONFIG_SOURCE: path.join(root, "slurm-config"),
        SLURMDBD_CONF_SOURCE: path.join(root, "slurm-secret", "slurmdbd.conf"),
        SLURM_ETC: path.join(root, "etc-slurm"),
        MUNGE_ETC: path.join(root, "etc-munge"),
        ENTRYPOINT_DRY_RUN: "1",
    };
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

const SLURM_CONF = `# as the renderer writes it
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

const SLURMDBD_CONF = `DbdHost=slurmdbd-0
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=mariadb
StoragePort=3306
StoragePass=secret
`;

/** A local port with nothing listening: bound then released. */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/** A local port that accepts connections until the returned close() is called. */
async function openPort(): Promise<{ port: number; close: () => Promise<void> }> {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

describe("slurm image entrypoint.sh (run as a script)", function () {
    before(() => {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "entrypoint-test-"));
    });
    after(() => {
        fs.rmSync(scratch, { recursive: true, force: true });
    });

    describe("arguments", () => {
        it("fails with the allowed roles when no role is given", async () => {
            const result = await run([], fixture("no-role", { slurmConf: SLURM_CONF }));
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /no role given/);
            assert.ok(result.stderr.includes(ROLES_LIST), result.stderr);
            assert.equal(result.stdout, "", "nothing planned");
        });

        it("names the bad role and the allowed roles", async () => {
            // The role names before they became the Kubernetes names are refused like any other.
            const result = await run(["controller"], fixture("bad-role", { slurmConf: SLURM_CONF }));
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`unknown role "controller"; ${ROLES_LIST}`), result.stderr);
            assert.equal(result.stdout, "");
        });

        it("prefixes its error lines with entrypoint[<role>]", async () => {
            const env = fixture("prefix", {});
            const result = await run(["compute"], env);
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /^entrypoint\[compute\]: error: /m);
        });

        it("rejects daemon arguments for the login role, which runs no daemon", async () => {
            const result = await run(["login", "-v"], fixture("login-args", { slurmConf: SLURM_CONF }));
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /login role runs no daemon/);
        });

        it("rejects a SLURM_WAIT_TIMEOUT_SECONDS that is not a positive whole number", async () => {
            for (const bad of ["5m", "0", "1.5"]) {
                const env = { ...fixture(`bad-timeout-${bad}`, { slurmConf: SLURM_CONF }), SLURM_WAIT_TIMEOUT_SECONDS: bad };
                const result = await run(["compute"], env);
                assert.notEqual(result.status, 0);
                const expected = `SLURM_WAIT_TIMEOUT_SECONDS must be a positive whole number of seconds, not "${bad}"`;
                assert.ok(result.stderr.includes(expected), result.stderr);
            }
        });

        it("accepts a decimal SLURM_WAIT_MAX_BACKOFF_SECONDS and rejects one that is not a positive number", async () => {
            const good = { ...fixture("backoff-good", { slurmConf: SLURM_CONF }), SLURM_WAIT_MAX_BACKOFF_SECONDS: "0.25" };
            assert.equal((await run(["compute"], good)).status, 0);
            for (const bad of ["0", "fast", "0.0001", "-1"]) {
                const env = { ...fixture(`backoff-${bad}`, { slurmConf: SLURM_CONF }), SLURM_WAIT_MAX_BACKOFF_SECONDS: bad };
                const result = await run(["compute"], env);
                assert.notEqual(result.status, 0, bad);
                const expected = `SLURM_WAIT_MAX_BACKOFF_SECONDS must be a positive number of seconds such as 0.5 or 2, not "${bad}"`;
                assert.ok(result.stderr.includes(expected), result.stderr);
            }
        });
    });

    describe("missing mounts fail before anything starts, naming the path", () => {
        for (const role of ["slurmctld", "compute", "slurmdbd", "login"]) {
            it(`${role}: missing MUNGE key`, async () => {
                const env = fixture(`no-key-${role}`, {
                    slurmConf: SLURM_CONF,
                    slurmdbdConf: SLURMDBD_CONF,
                    withKey: false,
                });
                const result = await run([role], env);
                assert.notEqual(result.status, 0);
                assert.ok(result.stderr.includes(`missing MUNGE key: ${env.MUNGE_KEY_SOURCE}`), result.stderr);
                assert.equal(result.stdout, "", "nothing planned");
            });
        }

        for (const role of ["slurmctld", "compute", "login"]) {
            it(`${role}: missing slurm.conf`, async () => {
                const env = fixture(`no-conf-${role}`, { extraConfigs: { "cgroup.conf": "CgroupPlugin=disabled\n" } });
                const result = await run([role], env);
                assert.notEqual(result.status, 0);
                const expected = `missing slurm.conf: ${path.join(env.SLURM_CONFIG_SOURCE, "slurm.conf")}`;
                assert.ok(result.stderr.includes(expected), result.stderr);
                assert.equal(result.stdout, "");
            });
        }

        it("slurmdbd: missing slurmdbd.conf", async () => {
            const env = fixture("no-dbd-conf", { slurmConf: SLURM_CONF });
            const result = await run(["slurmdbd"], env);
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`missing slurmdbd.conf: ${env.SLURMDBD_CONF_SOURCE}`), result.stderr);
            assert.equal(result.stdout, "");
        });

        it("slurmdbd needs no slurm.conf", async () => {
            const result = await run(["slurmdbd"], fixture("dbd-alone", { slurmdbdConf: SLURMDBD_CONF }));
            assert.equal(result.status, 0, result.stderr);
        });

        it("refuses a slurmdbd.conf in the ConfigMap: the password belongs in the Secret", async () => {
            const env = fixture("dbd-in-configmap", {
                slurmConf: SLURM_CONF,
                extraConfigs: { "slurmdbd.conf": SLURMDBD_CONF },
            });
            const result = await run(["slurmctld"], env);
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /slurmdbd\.conf must come from the Secret/);
        });
    });

    describe("dry run: waits from SLURM_WAIT_FOR, daemon from the role", () => {
        it("slurmctld waits for what SLURM_WAIT_FOR names and runs slurmctld as SlurmUser", async () => {
            const conf = SLURM_CONF.replace("SlurmUser=slurm", "SlurmUser=slurmadm");
            const env = { ...fixture("ctl", { slurmConf: conf }), SLURM_WAIT_FOR: "acct.lab.svc:7019" };
            const result = await run(["slurmctld"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["acct.lab.svc:7019"]);
            const exec = planLines(result, "exec");
            assert.equal(exec.length, 1);
            assert.match(exec[0], /^setpriv --reuid=slurmadm --regid=\S+ --init-groups -- slurmctld -D$/);
        });

        it("waits for every SLURM_WAIT_FOR pair, in order, whatever blanks separate them", async () => {
            const env = { ...fixture("many", { slurmConf: SLURM_CONF }), SLURM_WAIT_FOR: "  slurmdbd:6819\tmariadb.lab.svc.cluster.local:3306 " };
            const result = await run(["slurmctld"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmdbd:6819", "mariadb.lab.svc.cluster.local:3306"]);
        });

        it("does not read the wait targets from slurm.conf or slurmdbd.conf", async () => {
            const ctl = await run(["slurmctld"], { ...fixture("not-from-conf", { slurmConf: SLURM_CONF }), SLURM_WAIT_FOR: "dbd-elsewhere:6900" });
            assert.equal(ctl.status, 0, ctl.stderr);
            assert.deepEqual(planLines(ctl, "wait"), ["dbd-elsewhere:6900"]);
            const dbd = await run(["slurmdbd"], fixture("not-from-dbd-conf", { slurmdbdConf: SLURMDBD_CONF }));
            assert.equal(dbd.status, 0, dbd.stderr);
            assert.deepEqual(planLines(dbd, "wait"), [], "StorageHost=mariadb in slurmdbd.conf is not waited for");
        });

        it("waits for nothing when SLURM_WAIT_FOR is unset or blank", async () => {
            for (const [name, extra] of [["unset", {}], ["blank", { SLURM_WAIT_FOR: "  " }]] as const) {
                const result = await run(["compute"], { ...fixture(`no-wait-${name}`, { slurmConf: SLURM_CONF }), ...extra });
                assert.equal(result.status, 0, result.stderr);
                assert.deepEqual(planLines(result, "wait"), []);
                assert.equal(planLines(result, "exec").length, 1);
            }
        });

        it("refuses a malformed SLURM_WAIT_FOR pair, naming it and what is allowed, before anything starts", async () => {
            for (const bad of ["slurmctld", "slurmctld:", ":6817", "slurmctld:0", "slurmctld:65536", "slurmctld:http", "a/b:1", "*:6817"]) {
                const env = { ...fixture(`bad-wait-${bad.replace(/[^a-z0-9]/g, "_")}`, { slurmConf: SLURM_CONF }), SLURM_WAIT_FOR: `slurmdbd:6819 ${bad}` };
                const result = await run(["login"], env);
                assert.notEqual(result.status, 0, bad);
                assert.ok(result.stderr.includes(`SLURM_WAIT_FOR has "${bad}"; allowed: space-separated host:port pairs`), result.stderr);
                assert.equal(result.stdout, "", "nothing planned");
            }
        });

        it("compute passes extra args verbatim to slurmd, under tini", async () => {
            const args = ["-Z", "--conf", "CPUs=1 RealMemory=1024 Feature=compute"];
            const env = { ...fixture("compute-args", { slurmConf: SLURM_CONF }), SLURM_WAIT_FOR: "slurmctld:6817" };
            const result = await run(["compute", ...args], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmctld:6817"]);
            assert.deepEqual(planLines(result, "exec"), [
                "tini -s -- slurmd -D -Z --conf CPUs=1\\ RealMemory=1024\\ Feature=compute",
            ]);
        });

        it("slurmctld passes extra args verbatim to slurmctld", async () => {
            const result = await run(["slurmctld", "-v", "-i"], fixture("ctl-args", { slurmConf: SLURM_CONF }));
            assert.equal(result.status, 0, result.stderr);
            assert.match(planLines(result, "exec")[0], / -- slurmctld -D -v -i$/);
        });

        it("slurmdbd installs slurmdbd.conf from the Secret and runs slurmdbd as its SlurmUser", async () => {
            const env = { ...fixture("dbd", { slurmdbdConf: SLURMDBD_CONF }), SLURM_WAIT_FOR: "db.lab.svc:3307" };
            const result = await run(["slurmdbd"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["db.lab.svc:3307"]);
            assert.deepEqual(planLines(result, "config"), [`${env.SLURMDBD_CONF_SOURCE} -> ${path.join(env.SLURM_ETC, "slurmdbd.conf")}`]);
            assert.deepEqual(planLines(result, "slurm-user"), ["slurm"]);
            assert.match(planLines(result, "exec")[0], /^setpriv --reuid=slurm --regid=\S+ --init-groups -- slurmdbd -D$/);
        });

        it("a SlurmUser of root runs the daemon without setpriv", async () => {
            const result = await run(["slurmdbd"], fixture("dbd-root", { slurmdbdConf: "StorageHost=db\n" }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "exec"), ["slurmdbd -D"]);
        });

        it("login waits for slurmctld and idles under tini, exiting 0 on SIGTERM/SIGINT", async () => {
            const env = { ...fixture("login", { slurmConf: SLURM_CONF }), SLURM_WAIT_FOR: "slurmctld:6817" };
            const result = await run(["login"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmctld:6817"]);
            assert.deepEqual(planLines(result, "exec"), ["tini -s -e 143 -e 130 -- sleep infinity"]);
        });

        it("copies every *.conf of the ConfigMap (through its ..data symlinks) into SLURM_ETC", async () => {
            const env = fixture("configs", {
                slurmConf: SLURM_CONF,
                extraConfigs: { "cgroup.conf": "CgroupPlugin=disabled\n", "gres.conf": "AutoDetect=off\n" },
            });
            const result = await run(["compute"], env);
            assert.equal(result.status, 0, result.stderr);
            const copies = planLines(result, "config").sort();
            assert.deepEqual(
                copies,
                ["cgroup.conf", "gres.conf", "slurm.conf"].map(
                    (name) => `${path.join(env.SLURM_CONFIG_SOURCE, name)} -> ${path.join(env.SLURM_ETC, name)}`,
                ),
            );
            assert.deepEqual(planLines(result, "munge-key"), [
                `${env.MUNGE_KEY_SOURCE} -> ${path.join(env.MUNGE_ETC, "munge.key")}`,
            ]);
        });
    });

    describe("waiting (ENTRYPOINT_DRY_RUN=wait performs the waits)", () => {
        it("times out on a closed port with a clear error that names the target, after logging the failed attempts", async () => {
            const port = await closedPort();
            const env = {
                ...fixture("wait-closed", { slurmConf: SLURM_CONF }),
                ENTRYPOINT_DRY_RUN: "wait",
                SLURM_WAIT_FOR: `127.0.0.1:${port}`,
                SLURM_WAIT_TIMEOUT_SECONDS: "2",
            };
            const started = Date.now();
            const result = await run(["compute"], env);
            const seconds = (Date.now() - started) / 1000;
            assert.equal(result.status, 1, result.stderr);
            const target = `127\\.0\\.0\\.1:${port}`;
            assert.match(result.stderr, new RegExp(`waiting for ${target}: attempt 1 failed, 0 s elapsed`));
            const attempts = Number(new RegExp(`error: timed out after [23] s waiting for ${target} \\(from SLURM_WAIT_FOR; (\\d+) attempts\\)`).exec(result.stderr)?.[1]);
            // Pauses of 0.1, 0.2, 0.4, 0.5 s: several attempts within the 2 s, not one per second.
            assert.ok(attempts >= 4, `expected at least 4 attempts in 2 s, the log says ${attempts}:\n${result.stderr}`);
            assert.ok(seconds >= 2, `gave up after ${seconds} s, before its timeout of 2 s`);
            assert.ok(!result.stderr.includes("accepts connections"));
        });

        it("goes on as soon as the dependency accepts connections", async () => {
            const server = await openPort();
            try {
                const env = {
                    ...fixture("wait-open", { slurmdbdConf: SLURMDBD_CONF }),
                    ENTRYPOINT_DRY_RUN: "wait",
                    SLURM_WAIT_FOR: `127.0.0.1:${server.port}`,
                    SLURM_WAIT_TIMEOUT_SECONDS: "10",
                };
                const result = await run(["slurmdbd"], env);
                assert.equal(result.status, 0, result.stderr);
                assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${server.port} accepts connections \\(attempt 1, 0 s elapsed\\)`));
            } finally {
                await server.close();
            }
        });

        it("sees a dependency that comes up while it waits, and then waits for the next one", async () => {
            const first = await closedPort();
            const second = await openPort();
            let late: { port: number; close: () => Promise<void> } | undefined;
            let opening: Promise<void> | undefined;
            try {
                const server = net.createServer((socket) => socket.destroy());
                const env = {
                    ...fixture("wait-late", { slurmConf: SLURM_CONF }),
                    ENTRYPOINT_DRY_RUN: "wait",
                    SLURM_WAIT_FOR: `127.0.0.1:${first} 127.0.0.1:${second.port}`,
                    SLURM_WAIT_TIMEOUT_SECONDS: "60",
                };
                // Open the first port once the entrypoint has reported a failed attempt on it.
                const result = await run(["login"], env, 90_000, (log) => {
                    if (!opening && log.includes(`127.0.0.1:${first}: attempt 1 failed`)) {
                        opening = new Promise<void>((resolve) => server.listen(first, "127.0.0.1", resolve));
                        late = { port: first, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
                    }
                });
                assert.equal(result.status, 0, result.stderr);
                assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${first} accepts connections \\(attempt ([2-9]|\\d\\d+),`));
                assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${second.port} accepts connections \\(attempt 1,`));
                assert.ok(result.stderr.indexOf(`:${first} accepts`) < result.stderr.indexOf(`:${second.port} accepts`), "in order");
            } finally {
                await opening;
                await late?.close();
                await second.close();
            }
        });
    });

    describe("probe", () => {
        it("rejects an unknown role", async () => {
            const result = await run(["probe", "dbd"]);
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`unknown role "dbd"; ${ROLES_LIST}`), result.stderr);
            assert.match(result.stderr, /^entrypoint\[probe\/dbd\]: error: /m);
        });

        it("slurmdbd is ready when its DbdPort accepts connections on localhost, and not before", async () => {
            const etc = fs.mkdtempSync(path.join(scratch, "probe-"));
            const server = await openPort();
            try {
                fs.writeFileSync(path.join(etc, "slurmdbd.conf"), `DbdPort=${server.port}\n`, { mode: 0o600 });
                const ready = await run(["probe", "slurmdbd"], { SLURM_ETC: etc });
                assert.equal(ready.status, 0, ready.stderr);
            } finally {
                await server.close();
            }
            const notReady = await run(["probe", "slurmdbd"], { SLURM_ETC: etc, PROBE_TIMEOUT_SECONDS: "2" });
            assert.notEqual(notReady.status, 0);
            assert.match(notReady.stderr, new RegExp(`slurmdbd does not accept connections on 127\\.0\\.0\\.1:${server.port}`));
        });
    });
});
