/**
 * The Slurm image's entrypoint, run as a plain bash script on this machine (no container, no root): mounts are faked
 * in temporary directories through the override variables, and ENTRYPOINT_DRY_RUN shows what it derives from the
 * config files (waits, daemon command line) without starting anything. ENTRYPOINT_DRY_RUN=wait performs the waits
 * for real, against local ports this test opens or keeps closed.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const ENTRYPOINT = path.resolve(__dirname, "../../containers/images/slurm-base/Docker/entrypoint.sh");
const ROLES_LIST = "allowed roles: controller compute dbd login";

interface Result {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs the entrypoint with only PATH and the given variables in its environment. */
function run(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Result> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [ENTRYPOINT, ...args], {
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
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
            const result = await run(["slurmctld"], fixture("bad-role", { slurmConf: SLURM_CONF }));
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`unknown role "slurmctld"; ${ROLES_LIST}`), result.stderr);
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

        it("rejects a SLURM_WAIT_TIMEOUT_SECONDS that is not a positive number", async () => {
            const env = { ...fixture("bad-timeout", { slurmConf: SLURM_CONF }), SLURM_WAIT_TIMEOUT_SECONDS: "5m" };
            const result = await run(["compute"], env);
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /SLURM_WAIT_TIMEOUT_SECONDS must be a positive number of seconds, not "5m"/);
        });
    });

    describe("missing mounts fail before anything starts, naming the path", () => {
        for (const role of ["controller", "compute", "dbd", "login"]) {
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

        for (const role of ["controller", "compute", "login"]) {
            it(`${role}: missing slurm.conf`, async () => {
                const env = fixture(`no-conf-${role}`, { extraConfigs: { "cgroup.conf": "CgroupPlugin=disabled\n" } });
                const result = await run([role], env);
                assert.notEqual(result.status, 0);
                const expected = `missing slurm.conf: ${path.join(env.SLURM_CONFIG_SOURCE, "slurm.conf")}`;
                assert.ok(result.stderr.includes(expected), result.stderr);
                assert.equal(result.stdout, "");
            });
        }

        it("dbd: missing slurmdbd.conf", async () => {
            const env = fixture("no-dbd-conf", { slurmConf: SLURM_CONF });
            const result = await run(["dbd"], env);
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`missing slurmdbd.conf: ${env.SLURMDBD_CONF_SOURCE}`), result.stderr);
            assert.equal(result.stdout, "");
        });

        it("dbd needs no slurm.conf", async () => {
            const result = await run(["dbd"], fixture("dbd-alone", { slurmdbdConf: SLURMDBD_CONF }));
            assert.equal(result.status, 0, result.stderr);
        });

        it("refuses a slurmdbd.conf in the ConfigMap: the password belongs in the Secret", async () => {
            const env = fixture("dbd-in-configmap", {
                slurmConf: SLURM_CONF,
                extraConfigs: { "slurmdbd.conf": SLURMDBD_CONF },
            });
            const result = await run(["controller"], env);
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /slurmdbd\.conf must come from the Secret/);
        });
    });

    describe("dry run: waits and daemon derived from the config files", () => {
        it("controller waits for slurmdbd at AccountingStorageHost:AccountingStoragePort and runs slurmctld as SlurmUser", async () => {
            const conf = SLURM_CONF.replace("AccountingStorageHost=slurmdbd", "AccountingStorageHost=acct.lab.svc")
                .replace("AccountingStoragePort=6819", "AccountingStoragePort=7019")
                .replace("SlurmUser=slurm", "SlurmUser=slurmadm");
            const result = await run(["controller"], fixture("ctl", { slurmConf: conf }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["acct.lab.svc:7019"]);
            const exec = planLines(result, "exec");
            assert.equal(exec.length, 1);
            assert.match(exec[0], /^setpriv --reuid=slurmadm --regid=\S+ --init-groups -- slurmctld -D$/);
        });

        it("controller defaults AccountingStoragePort to 6819", async () => {
            const conf = SLURM_CONF.replace("AccountingStoragePort=6819\n", "");
            const result = await run(["controller"], fixture("ctl-default-port", { slurmConf: conf }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmdbd:6819"]);
        });

        it("controller waits for nothing without slurmdbd accounting", async () => {
            const conf = SLURM_CONF.replace("accounting_storage/slurmdbd", "accounting_storage/none");
            const result = await run(["controller"], fixture("ctl-no-acct", { slurmConf: conf }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), []);
        });

        it("controller fails clearly when slurmdbd accounting has no AccountingStorageHost", async () => {
            const conf = SLURM_CONF.replace("AccountingStorageHost=slurmdbd\n", "");
            const result = await run(["controller"], fixture("ctl-no-host", { slurmConf: conf }));
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /needs AccountingStorageHost/);
        });

        it("compute waits for the address part of the primary SlurmctldHost and SlurmctldPort", async () => {
            const conf = [
                "#SlurmctldHost=commented(10.0.0.1)",
                "slurmctldhost=slurmctld-0(slurmctld.slurm.svc)  # primary, keys are case-insensitive",
                "SlurmctldHost=slurmctld-1(backup.slurm.svc)",
                "SlurmctldPort=7817-7820",
                "NodeName=node[1-4] CPUs=1 State=FUTURE",
                "",
            ].join("\n");
            const result = await run(["compute"], fixture("compute", { slurmConf: conf }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmctld.slurm.svc:7817"]);
        });

        it("compute uses the SlurmctldHost name when it has no (addr), and port 6817 by default", async () => {
            const result = await run(["compute"], fixture("compute-name", { slurmConf: "SlurmctldHost=ctl\n" }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["ctl:6817"]);
        });

        it("compute passes extra args verbatim to slurmd, under tini", async () => {
            const args = ["-Z", "--conf", "CPUs=1 RealMemory=1024 Feature=compute"];
            const result = await run(["compute", ...args], fixture("compute-args", { slurmConf: SLURM_CONF }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "exec"), [
                "tini -s -- slurmd -D -Z --conf CPUs=1\\ RealMemory=1024\\ Feature=compute",
            ]);
        });

        it("controller passes extra args verbatim to slurmctld", async () => {
            const result = await run(["controller", "-v", "-i"], fixture("ctl-args", { slurmConf: SLURM_CONF }));
            assert.equal(result.status, 0, result.stderr);
            assert.match(planLines(result, "exec")[0], / -- slurmctld -D -v -i$/);
        });

        it("dbd waits for StorageHost:StoragePort and runs slurmdbd as SlurmUser", async () => {
            const conf = SLURMDBD_CONF.replace("StorageHost=mariadb", "StorageHost=db.lab.svc").replace(
                "StoragePort=3306",
                "StoragePort=3307",
            );
            const result = await run(["dbd"], fixture("dbd", { slurmdbdConf: conf }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["db.lab.svc:3307"]);
            assert.match(planLines(result, "exec")[0], /^setpriv --reuid=slurm --regid=\S+ --init-groups -- slurmdbd -D$/);
        });

        it("dbd defaults to localhost:3306 like slurmdbd", async () => {
            const result = await run(["dbd"], fixture("dbd-defaults", { slurmdbdConf: "SlurmUser=slurm\n" }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["localhost:3306"]);
        });

        it("a SlurmUser of root runs the daemon without setpriv", async () => {
            const result = await run(["dbd"], fixture("dbd-root", { slurmdbdConf: "StorageHost=db\n" }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "exec"), ["slurmdbd -D"]);
        });

        it("login waits for slurmctld and idles under tini, exiting 0 on SIGTERM/SIGINT", async () => {
            const result = await run(["login"], fixture("login", { slurmConf: SLURM_CONF }));
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

        it("reports an invalid port from the config", async () => {
            const conf = "SlurmctldHost=ctl\nSlurmctldPort=http\n";
            const result = await run(["compute"], fixture("bad-port", { slurmConf: conf }));
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /invalid port "http" for slurmctld \(from SlurmctldHost\/SlurmctldPort in slurm\.conf\)/);
        });
    });

    describe("waiting (ENTRYPOINT_DRY_RUN=wait performs the waits)", () => {
        it("times out on a closed port with a clear error after logging each attempt", async () => {
            const port = await closedPort();
            const env = {
                ...fixture("wait-closed", { slurmConf: `SlurmctldHost=ctl(127.0.0.1)\nSlurmctldPort=${port}\n` }),
                ENTRYPOINT_DRY_RUN: "wait",
                SLURM_WAIT_TIMEOUT_SECONDS: "2",
            };
            const started = Date.now();
            const result = await run(["compute"], env);
            const seconds = (Date.now() - started) / 1000;
            assert.equal(result.status, 1, result.stderr);
            const target = `slurmctld at 127.0.0.1:${port}`;
            assert.match(result.stderr, new RegExp(`waiting for ${target}: attempt 1 failed, 0 s elapsed`));
            assert.match(result.stderr, new RegExp(`waiting for ${target}: attempt 2 failed, \\d+ s elapsed`));
            assert.match(result.stderr, new RegExp(`error: timed out after [23] s waiting for ${target} .*\\d+ attempts`));
            assert.ok(seconds >= 2 && seconds < 10, `gave up after ${seconds} s, expected about 2`);
            assert.ok(!result.stderr.includes("accepts connections"));
        });

        it("goes on as soon as the dependency accepts connections", async () => {
            const server = await openPort();
            try {
                const env = {
                    ...fixture("wait-open", { slurmdbdConf: `StorageHost=127.0.0.1\nStoragePort=${server.port}\n` }),
                    ENTRYPOINT_DRY_RUN: "wait",
                    SLURM_WAIT_TIMEOUT_SECONDS: "10",
                };
                const result = await run(["dbd"], env);
                assert.equal(result.status, 0, result.stderr);
                assert.match(
                    result.stderr,
                    new RegExp(`the database at 127\\.0\\.0\\.1:${server.port} accepts connections \\(attempt 1, 0 s elapsed\\)`),
                );
            } finally {
                await server.close();
            }
        });
    });

    describe("probe", () => {
        it("rejects an unknown role", async () => {
            const result = await run(["probe", "slurmd"]);
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`unknown role "slurmd"; ${ROLES_LIST}`), result.stderr);
        });

        it("dbd is ready when its DbdPort accepts connections on localhost, and not before", async () => {
            const etc = fs.mkdtempSync(path.join(scratch, "probe-"));
            const server = await openPort();
            try {
                fs.writeFileSync(path.join(etc, "slurmdbd.conf"), `DbdPort=${server.port}\n`, { mode: 0o600 });
                const ready = await run(["probe", "dbd"], { SLURM_ETC: etc });
                assert.equal(ready.status, 0, ready.stderr);
            } finally {
                await server.close();
            }
            const notReady = await run(["probe", "dbd"], { SLURM_ETC: etc, PROBE_TIMEOUT_SECONDS: "2" });
            assert.notEqual(notReady.status, 0);
            assert.match(notReady.stderr, new RegExp(`slurmdbd does not accept connections on 127\\.0\\.0\\.1:${server.port}`));
        });
    });
});
