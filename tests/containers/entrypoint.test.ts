/**
 * The Slurm image's entrypoint (a dispatcher, its library and one script per role), run as a plain bash script on
 * this machine (no container, no root): mounts are faked in temporary directories through the override variables,
 * and ENTRYPOINT_DRY_RUN shows what it plans (config copies, the waits SLURM_WAIT_FOR names, the daemon command
 * line) without starting anything. The waits themselves and the probes: entrypointWait.test.ts.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { fixture, planLines, ROLES_LIST, run, SLURM_CONF, SLURMDBD_CONF, useScratch } from "./entrypointScript";

describe("slurm image entrypoint.sh (run as a script)", function () {
    useScratch();

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
                const env = {
                    ...fixture(`bad-timeout-${bad}`, { slurmConf: SLURM_CONF }),
                    SLURM_WAIT_TIMEOUT_SECONDS: bad,
                };
                const result = await run(["compute"], env);
                assert.notEqual(result.status, 0);
                const expected = `SLURM_WAIT_TIMEOUT_SECONDS must be a positive whole number of seconds, not "${bad}"`;
                assert.ok(result.stderr.includes(expected), result.stderr);
            }
        });

        it("accepts a decimal SLURM_WAIT_MAX_BACKOFF_SECONDS and rejects one that is not a positive number", async () => {
            const good = {
                ...fixture("backoff-good", { slurmConf: SLURM_CONF }),
                SLURM_WAIT_MAX_BACKOFF_SECONDS: "0.25",
            };
            assert.equal((await run(["compute"], good)).status, 0);
            for (const bad of ["0", "fast", "0.0001", "-1"]) {
                const env = {
                    ...fixture(`backoff-${bad}`, { slurmConf: SLURM_CONF }),
                    SLURM_WAIT_MAX_BACKOFF_SECONDS: bad,
                };
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
            const env = {
                ...fixture("many", { slurmConf: SLURM_CONF }),
                SLURM_WAIT_FOR: "  slurmdbd:6819\tmariadb.lab.svc.cluster.local:3306 ",
            };
            const result = await run(["slurmctld"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmdbd:6819", "mariadb.lab.svc.cluster.local:3306"]);
        });

        it("does not read the wait targets from slurm.conf or slurmdbd.conf", async () => {
            const ctl = await run(["slurmctld"], {
                ...fixture("not-from-conf", { slurmConf: SLURM_CONF }),
                SLURM_WAIT_FOR: "dbd-elsewhere:6900",
            });
            assert.equal(ctl.status, 0, ctl.stderr);
            assert.deepEqual(planLines(ctl, "wait"), ["dbd-elsewhere:6900"]);
            const dbd = await run(["slurmdbd"], fixture("not-from-dbd-conf", { slurmdbdConf: SLURMDBD_CONF }));
            assert.equal(dbd.status, 0, dbd.stderr);
            assert.deepEqual(planLines(dbd, "wait"), [], "StorageHost=mariadb in slurmdbd.conf is not waited for");
        });

        it("waits for nothing when SLURM_WAIT_FOR is unset or blank", async () => {
            for (const [name, extra] of [
                ["unset", {}],
                ["blank", { SLURM_WAIT_FOR: "  " }],
            ] as const) {
                const result = await run(["compute"], {
                    ...fixture(`no-wait-${name}`, { slurmConf: SLURM_CONF }),
                    ...extra,
                });
                assert.equal(result.status, 0, result.stderr);
                assert.deepEqual(planLines(result, "wait"), []);
                assert.equal(planLines(result, "exec").length, 1);
            }
        });

        it("refuses a malformed SLURM_WAIT_FOR pair, naming it and what is allowed, before anything starts", async () => {
            for (const bad of [
                "slurmctld",
                "slurmctld:",
                ":6817",
                "slurmctld:0",
                "slurmctld:65536",
                "slurmctld:http",
                "a/b:1",
                "*:6817",
            ]) {
                const env = {
                    ...fixture(`bad-wait-${bad.replace(/[^a-z0-9]/g, "_")}`, { slurmConf: SLURM_CONF }),
                    SLURM_WAIT_FOR: `slurmdbd:6819 ${bad}`,
                };
                const result = await run(["login"], env);
                assert.notEqual(result.status, 0, bad);
                assert.ok(
                    result.stderr.includes(`SLURM_WAIT_FOR has "${bad}"; allowed: space-separated host:port pairs`),
                    result.stderr,
                );
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
            const env: Record<string, string> = {
                ...fixture("dbd", { slurmdbdConf: SLURMDBD_CONF }),
                SLURM_WAIT_FOR: "db.lab.svc:3307",
            };
            const result = await run(["slurmdbd"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["db.lab.svc:3307"]);
            assert.deepEqual(planLines(result, "config"), [
                `${env.SLURMDBD_CONF_SOURCE} -> ${path.join(env.SLURM_ETC, "slurmdbd.conf")}`,
            ]);
            assert.deepEqual(planLines(result, "slurm-user"), ["slurm"]);
            assert.match(
                planLines(result, "exec")[0],
                /^setpriv --reuid=slurm --regid=\S+ --init-groups -- slurmdbd -D$/,
            );
        });

        it("a SlurmUser of root runs the daemon without setpriv", async () => {
            const result = await run(["slurmdbd"], fixture("dbd-root", { slurmdbdConf: "StorageHost=db\n" }));
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "exec"), ["slurmdbd -D"]);
        });

        it("login waits for slurmctld and runs sshd under tini, exiting 0 on SIGTERM/SIGINT", async () => {
            const env = { ...fixture("login", { slurmConf: SLURM_CONF }), SLURM_WAIT_FOR: "slurmctld:6817" };
            const result = await run(["login"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmctld:6817"]);
            assert.deepEqual(planLines(result, "exec"), ["tini -s -e 143 -e 130 -e 255 -- /usr/sbin/sshd -D -e"]);
        });

        it("login: a missing SSH host key fails before anything starts, naming the path", async () => {
            const env = fixture("login-no-host-key", { slurmConf: SLURM_CONF, withHostKey: false });
            const result = await run(["login"], env);
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(`missing SSH host key: ${env.SSH_HOST_KEY_SOURCE}`), result.stderr);
            assert.equal(result.stdout, "");
        });

        it("restapi runs slurmrestd as its own user with JWTs, with no MUNGE key and no munged", async () => {
            const env = {
                ...fixture("restapi", { slurmConf: SLURM_CONF, withKey: false }),
                SLURM_WAIT_FOR: "slurmctld:6817",
            };
            const result = await run(["restapi"], env);
            assert.equal(result.status, 0, result.stderr);
            assert.deepEqual(planLines(result, "wait"), ["slurmctld:6817"]);
            assert.deepEqual(planLines(result, "munge-key"), [], "no MUNGE key");
            assert.deepEqual(planLines(result, "exec"), [
                "setpriv --reuid=slurmrestd --regid=slurmrestd --clear-groups -- env SLURM_JWT=daemon " +
                    "SLURMRESTD_SECURITY=disable_unshare_files\\,disable_unshare_sysv slurmrestd -a rest_auth/jwt " +
                    "0.0.0.0:6820",
            ]);
            assert.match((await run(["restapi", "-v"], env)).stderr, /restapi role takes no arguments/);
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
});
