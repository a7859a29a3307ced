/**
 * End-to-end proof of the static Slurm stack without Kubernetes: the dev stack is rendered to YAML, the image is
 * built from containers/images/slurm-base/Docker/Dockerfile unchanged, and every pod of the render runs as a
 * podman container (tests/e2e/harness/lab.ts says what is and is not emulated). Real slurmctld, slurmd,
 * slurmdbd, munged, sshd, slurmrestd and MariaDB then run jobs, the lab's users log in and run theirs (users.ts),
 * and the faults below must lose nothing. MariaDB's upstream image cannot be pulled here: a stand-in built from
 * Debian's mariadb-server honours the same environment variables (tests/e2e/images/mariadb).
 * The tests run in order, as one scenario on one cluster. Needs root, podman, runc and debootstrap
 * (.ci/run installs them). Opt-in modes:
 *   E2E_NODES=64  that many compute nodes instead of the dev stack's 2 (all idle, srun -N64, a 64-task array);
 *   E2E_LOAD=2    `stress-ng --cpu 2` beside the whole run (stopped after it, also on failure);
 *   E2E_KEEP_IMAGES=1  keep the built images for a quicker rerun.
 * Every wait is on a condition, with a deadline far above the time it takes (only a failure waits that long) and a
 * message naming what it waited for.
 */
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PodmanLab } from "./harness/lab";
import { Load, loadFromEnvironment, startLoad } from "./harness/load";
import { mapLimited, waitFor } from "./harness/podman";
import { podmanTransport } from "./harness/podmanTransport";
import { formatReport, runChecks, slurmChecks, SLURM_TARGET } from "../../verify/checks";
import { describeUsers, E2E_USERS, makeUserKey } from "./users";
import {
    buildImages,
    computeNodes,
    nodesFromEnvironment,
    loginPod,
    newLab,
    nodeStates,
    removeImages,
    renderDev,
    waitForIdle,
} from "./harness/setup";

const INITIAL_REPLICAS = nodesFromEnvironment();
const LOAD_WORKERS = loadFromEnvironment();
// Deadlines of the waits: generous, since only a failure reaches them; they grow with the node count and the load.
const SLOWDOWN = 1 + LOAD_WORKERS / 2;
const BRING_UP_TIMEOUT_MS = (180_000 + INITIAL_REPLICAS * 5_000) * SLOWDOWN;
const JOB_TIMEOUT_MS = (180_000 + INITIAL_REPLICAS * 2_000) * SLOWDOWN;
const COMMAND_TIMEOUT_MS = 120_000 * SLOWDOWN;

const MODE = `${INITIAL_REPLICAS} compute nodes${LOAD_WORKERS ? `, stress-ng --cpu ${LOAD_WORKERS} beside it` : ""}`;

describe(`static Slurm stack: rendered, then run as real daemons in podman containers (${MODE})`, function () {
    // A backstop only: each wait below fails first, naming what it waited for.
    this.timeout(4 * BRING_UP_TIMEOUT_MS);
    let dir: string;
    let lab: PodmanLab;
    let login: string;
    let load: Load | undefined;
    let users: ReturnType<typeof E2E_USERS>;
    let userKey = "";

    /** One field of `sacct` per job id, for every listed job. */
    async function sacct(jobs: readonly string[], field = "State"): Promise<Map<string, string>> {
        const out = await lab.sh(login, `sacct -n -X -P -j ${jobs.join(",")} -o JobID,${field}`, COMMAND_TIMEOUT_MS);
        return new Map(
            out
                .trim()
                .split("\n")
                .filter(Boolean)
                .map((l) => l.split("|") as [string, string]),
        );
    }

    /** Waits until sacct reports every job COMPLETED. */
    function waitForAccounting(jobs: readonly string[]): Promise<Map<string, string>> {
        return waitFor(
            `jobs ${jobs.join(", ")} COMPLETED in sacct`,
            async () => {
                const states = await sacct(jobs);
                return jobs.every((j) => states.get(j) === "COMPLETED") ? states : undefined;
            },
            JOB_TIMEOUT_MS,
        );
    }

    /** `scontrol show job` state, answered by slurmctld itself (no slurmdbd involved). */
    async function controllerState(job: string): Promise<string | undefined> {
        const out = await lab.sh(
            login,
            `scontrol show job ${job} | grep -o 'JobState=[A-Z_]*' || true`,
            COMMAND_TIMEOUT_MS,
        );
        return /JobState=(\w+)/.exec(out)?.[1];
    }

    /**
     * Submits a batch job from /tmp: jobs write their output into the submit directory, and podman (unlike
     * Kubernetes, which keeps the image's 0755) mounts `/` 0555, where root without CAP_DAC_OVERRIDE cannot write.
     */
    async function submit(script: string): Promise<string> {
        return (await lab.sh(login, `cd /tmp && sbatch --parsable ${script}`, COMMAND_TIMEOUT_MS)).trim().split(";")[0];
    }

    before(async function () {
        if (LOAD_WORKERS > 0) load = await startLoad(LOAD_WORKERS);
        await buildImages();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ai-hyperscaler-e2e-"));
        const made = await makeUserKey(dir);
        userKey = made.key;
        users = E2E_USERS(made.publicKey);
        await renderDev(path.join(dir, "render-1"), INITIAL_REPLICAS, { users });
        lab = newLab(`e2e${process.pid}`, path.join(dir, "work"));
        lab.load(path.join(dir, "render-1"));
        login = loginPod(lab);
        await lab.createNetwork();
        // Every pod at once, as Kubernetes would start them: each entrypoint waits for what it needs.
        await lab.startPending();
        await waitForIdle(lab, login, computeNodes(lab), BRING_UP_TIMEOUT_MS);
    });

    afterEach(async function () {
        if (this.currentTest?.state === "failed" && lab) console.error(await lab.logs(40));
    });

    // Everything the run made goes, whatever failed: each step on its own, so that one failing skips no other.
    after(async function () {
        const steps: [string, () => Promise<unknown> | undefined][] = [
            ["the lab's containers, volumes and network", () => lab?.destroy()],
            ["the load generator", () => load?.stop()],
            ["the built images", () => removeImages()],
        ];
        const failures: string[] = [];
        for (const [what, step] of steps) {
            await Promise.resolve(step()).catch((error: Error) =>
                failures.push(`removing ${what} failed: ${error.message}`),
            );
        }
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        assert.deepEqual(failures, []);
    });

    it("runs every pod the dev stack declares, from the render", () => {
        const computes = Array.from({ length: INITIAL_REPLICAS }, () => "StatefulSet/compute");
        assert.deepEqual(
            lab
                .pods()
                .map((p) => p.owner)
                .sort(),
            [
                "Deployment/login",
                "Deployment/restapi",
                ...computes,
                "StatefulSet/mariadb",
                "StatefulSet/slurmctld",
                "StatefulSet/slurmdbd",
            ],
        );
    });

    it("has every compute node idle in sinfo", async () => {
        const states = await nodeStates(lab, login);
        assert.deepEqual([...states.keys()].sort(), [...computeNodes(lab)].sort());
        assert.ok(
            [...states.values()].every((s) => s === "idle"),
            JSON.stringify([...states]),
        );
    });

    it("passes the readiness and liveness probes the pod specs declare", async () => {
        const failures = (await mapLimited(lab.pods(), 4, (p) => lab.probeFailures(p.podName))).flat();
        assert.deepEqual(failures, []);
    });

    // The checks of `npm run verify`, unchanged, through `podman exec` instead of `kubectl exec`: the report below is
    // what verify prints for these daemons.
    it("passes `npm run verify`'s Slurm checks, run through podman exec against the real daemons", async () => {
        const transport = podmanTransport({ [SLURM_TARGET]: lab.containerOf(login) });
        const nodes = computeNodes(lab).length;
        const report = await runChecks("e2e", slurmChecks({ nodes, gpus: 0, accounting: true }, transport));
        console.log(formatReport(report));
        assert.deepEqual(
            report.checks.map((c) => c.name),
            [
                "slurm: compute nodes idle",
                `slurm: srun -N${nodes} hostname`,
                "slurm: sbatch job completes, shown by sacct",
            ],
        );
        assert.deepEqual(
            report.checks.filter((c) => !c.ok),
            [],
        );
        assert.equal(report.ok, true);
        assert.equal(report.checks[1].reason, `ran on ${[...computeNodes(lab)].sort().join(", ")}`);
    });

    it("the podman transport keeps verify's contract: exit code kept, 127 if missing, 124 at the limit", async () => {
        const transport = podmanTransport({ [SLURM_TARGET]: lab.containerOf(login) });
        const exec = (argv: string[], timeoutMs = COMMAND_TIMEOUT_MS) =>
            transport.exec(SLURM_TARGET, argv, { timeoutMs });
        assert.deepEqual(await exec(["sh", "-c", "echo out; echo err >&2; exit 3"]), {
            code: 3,
            stdout: "out\n",
            stderr: "err\n",
        });
        assert.equal((await exec(["no-such-program"])).code, 127);
        // A sleep far beyond the limit: only the limit can end this call. Killing podman leaves the sleep running in
        // the container, so it is ended by its pid afterwards.
        const stopped = await exec(["bash", "-c", "echo $$ > /tmp/over-limit.pid; exec sleep 600"], 2000);
        assert.equal(stopped.code, 124, stopped.stderr);
        await lab.sh(login, "kill $(cat /tmp/over-limit.pid)");
        const unknown = await transport.exec("slurmctld", ["true"], { timeoutMs: COMMAND_TIMEOUT_MS });
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /no container is known for the target "slurmctld"/);
    });

    it("runs `srun -N<all> hostname` on every node", async () => {
        const nodes = computeNodes(lab);
        const out = await lab.sh(login, `srun -N${nodes.length} hostname`, JOB_TIMEOUT_MS);
        assert.deepEqual(out.trim().split("\n").sort(), [...nodes].sort());
    });

    it("completes an `sbatch --array` of one task per node, every task COMPLETED in sacct", async () => {
        const tasks = INITIAL_REPLICAS;
        const job = await submit(`--array=1-${tasks} --wrap 'hostname'`);
        const expected = Array.from({ length: tasks }, (_, i) => `${job}_${i + 1}`).sort();
        let seen = "";
        await waitFor(
            `the ${tasks} tasks of array job ${job} COMPLETED in sacct`,
            async () => {
                const out = await lab.sh(login, `sacct -n -X -P -j ${job} -o JobID,State`, COMMAND_TIMEOUT_MS);
                const states = new Map(
                    out
                        .trim()
                        .split("\n")
                        .filter(Boolean)
                        .map((l) => l.split("|") as [string, string]),
                );
                const waiting = expected.filter((id) => states.get(id) !== "COMPLETED");
                seen = `${tasks - waiting.length} of ${tasks} COMPLETED; e.g. ${waiting
                    .slice(0, 3)
                    .map((id) => `${id}=${states.get(id) ?? "absent"}`)
                    .join(", ")}`;
                return waiting.length === 0 ? states : undefined;
            },
            JOB_TIMEOUT_MS,
            { lastSeen: () => seen },
        );
    });

    it("completes an sbatch job, which sacct shows, read from MariaDB through slurmdbd", async () => {
        const job = await submit("--wrap 'echo hello from $(hostname)'");
        await waitForAccounting([job]);
        // And the row is really in MariaDB: ask the database itself.
        const row = await lab.sh(
            "mariadb-0",
            `mariadb -u slurm -p"$MARIADB_PASSWORD" slurm_acct_db -N -e "select id_job, exit_code from lab_job_table where id_job = ${job}"`,
        );
        assert.match(row, new RegExp(`^${job}\\s+0$`, "m"));
    });

    describe("the lab's users: SSH, jobs as themselves, accounting, the REST API", () =>
        describeUsers(() => ({ lab, login, dir, key: userKey }), COMMAND_TIMEOUT_MS, JOB_TIMEOUT_MS));

    describe("faults: nothing is lost", () => {
        it("SIGKILL of slurmctld with a running and a pending job: both are known after the restart and finish", async () => {
            const nodes = computeNodes(lab);
            // The running job ends when the test releases it (a file on its batch host), not after a fixed time that
            // a loaded machine could use up before slurmctld is killed. --time bounds it should the test fail.
            const running = await submit(
                `-N${nodes.length} --time=30 --wrap 'while [ ! -e /tmp/release-$SLURM_JOB_ID ]; do sleep 1; done'`,
            );
            const pending = await submit(`-N${nodes.length} --wrap 'true'`);
            await waitFor(
                "first job running and second pending",
                async () => {
                    const [r, p] = [await controllerState(running), await controllerState(pending)];
                    return r === "RUNNING" && p === "PENDING" ? true : undefined;
                },
                JOB_TIMEOUT_MS,
            );
            // slurmctld writes its state to StateSaveLocation a few seconds after a change, not at once (a job
            // accepted just before a SIGKILL can be lost: that is Slurm's design). Wait for a save that holds both
            // jobs, so this checks that the state survives on its volume, not Slurm's save delay. A save's time
            // proves nothing (the one after the jobs' last change may be done before the test looks, and no other
            // would come): the test marks the pending job with a new comment and waits until the saved state
            // holds that mark (Slurm stores strings as they are in job_state), so the save is one made after both
            // jobs were seen as they are.
            const mark = `saved-${running}-${pending}`;
            await lab.sh(login, `scontrol update JobId=${pending} Comment=${mark}`, COMMAND_TIMEOUT_MS);
            await waitFor(
                `slurmctld to save the job state with the mark ${mark}`,
                async () => {
                    // job_state is 0600 slurm, and root in the pod has no CAP_DAC_OVERRIDE: read it as slurm.
                    const read = ["setpriv", "--reuid=slurm", "--regid=slurm", "--init-groups", "grep", "-q", "-a"];
                    const saved = await lab.exec("slurmctld-0", [...read, mark, "/var/spool/slurmctld/job_state"]);
                    return saved.code === 0 ? true : undefined;
                },
                JOB_TIMEOUT_MS,
            );
            const batchHost = /BatchHost=(\S+)/.exec(
                await lab.sh(login, `scontrol show job ${running}`, COMMAND_TIMEOUT_MS),
            )?.[1];
            assert.ok(
                batchHost && computeNodes(lab).includes(batchHost),
                `the running job's BatchHost is ${batchHost}`,
            );

            await lab.kill("slurmctld-0", "KILL");
            await lab.start("slurmctld-0");

            const afterRestart = await waitFor(
                "slurmctld back, answering for both jobs",
                async () => {
                    const states = [await controllerState(running), await controllerState(pending)];
                    return states.every(Boolean) ? states : undefined;
                },
                BRING_UP_TIMEOUT_MS,
            );
            assert.deepEqual(afterRestart, ["RUNNING", "PENDING"], "both jobs as they were when slurmctld was killed");
            assert.match(
                await lab.sh(login, `scontrol show job ${pending}`, COMMAND_TIMEOUT_MS),
                new RegExp(`Comment=${mark}\\b`),
            );
            await lab.sh(batchHost, `touch /tmp/release-${running}`);
            await waitForAccounting([running, pending]);
        });

        it("slurmdbd stopped while jobs finish: every job reaches sacct once it is back", async () => {
            await lab.stop("slurmdbd-0");
            const jobs = [
                await submit("--wrap 'true'"),
                await submit("--wrap 'hostname'"),
                await submit("--wrap 'sleep 1'"),
            ];
            await waitFor(
                "the jobs to end while slurmdbd is down",
                async () => {
                    const states = await Promise.all(jobs.map(controllerState));
                    return states.every((s) => s === "COMPLETED") ? true : undefined;
                },
                JOB_TIMEOUT_MS,
            );
            assert.equal((await lab.state("slurmdbd-0")).status, "exited", "slurmdbd stayed down while the jobs ended");
            await lab.start("slurmdbd-0");
            await waitForAccounting(jobs);
        });

        it("MariaDB restarted: every accounting record is still there, and new ones are added", async () => {
            const all = async () =>
                (await lab.sh(login, "sacct -n -X -P -a -S 2000-01-01 -o JobID,State", COMMAND_TIMEOUT_MS))
                    .trim()
                    .split("\n")
                    .sort();
            const before = await all();
            assert.ok(before.length >= 6, `expected the earlier jobs in sacct, got ${before.length}`);
            await lab.stop("mariadb-0");
            await lab.start("mariadb-0");
            const job = await submit("--wrap 'true'");
            await waitForAccounting([job]);
            const after = await all();
            assert.deepEqual(
                after.filter((line) => !line.startsWith(`${job}|`)),
                before,
            );
        });

        it("a killed slurmd container, started again, returns its node to idle and runs jobs", async () => {
            const node = computeNodes(lab)[1];
            const startedBefore = (await lab.state(node)).startedAt;
            await lab.kill(node, "KILL");
            await lab.start(node);
            assert.notEqual((await lab.state(node)).startedAt, startedBefore);
            await waitForIdle(lab, login, computeNodes(lab), BRING_UP_TIMEOUT_MS);
            const out = await lab.sh(login, `srun -N${computeNodes(lab).length} hostname`, JOB_TIMEOUT_MS);
            assert.ok(out.split("\n").includes(node));
        });

        it("more compute.replicas, rendered again: only new containers start, and they join without a controller restart", async () => {
            const controllerStart = (await lab.state("slurmctld-0")).startedAt;
            const first = fs.readFileSync(
                path.join(dir, "render-1", "slurm", "01-configmap.slurm-config.yaml"),
                "utf8",
            );
            await renderDev(path.join(dir, "render-2"), INITIAL_REPLICAS + 1, { users });
            const second = fs.readFileSync(
                path.join(dir, "render-2", "slurm", "01-configmap.slurm-config.yaml"),
                "utf8",
            );
            assert.equal(second, first, "slurm.conf does not change with the replica count");

            lab.load(path.join(dir, "render-2"));
            const started = await lab.startPending();
            assert.deepEqual(started, [`compute-${INITIAL_REPLICAS}`]);
            const nodes = computeNodes(lab);
            await waitForIdle(lab, login, nodes, BRING_UP_TIMEOUT_MS);
            assert.equal((await lab.state("slurmctld-0")).startedAt, controllerStart, "slurmctld was not restarted");
            const out = await lab.sh(login, `srun -N${nodes.length} hostname`, JOB_TIMEOUT_MS);
            assert.deepEqual(out.trim().split("\n").sort(), [...nodes].sort());
        });
    });
});
