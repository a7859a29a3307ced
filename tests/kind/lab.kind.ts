/**
 * The product's main job, for real: `npm run up` makes a Kind cluster (kind v0.33.0 through its podman provider,
 * a node image built here), the static Slurm stack runs in real pods on it, and `npm run verify` passes with the
 * real kubectl exec transport; then the faults a lab meets on real Kubernetes, a cluster deleted outside Pulumi,
 * an interrupted up, and a destroy that leaves nothing. The cases run in order on one stack.
 *
 * Three workers, not two: a compute pod requests the CPUs it offers Slurm (Guaranteed QoS), this project's machines
 * have 2 cores, so each node (which sees the host's 2 CPUs) fits one compute pod beside the other pods, and the
 * third replica of case 2 needs a node of its own.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { onInterrupt } from "../e2e/harness/cleanup";
import { waitFor } from "../e2e/harness/podman";
import {
    buildKindImages,
    KindImages,
    kindStackSettings,
    diagnose,
    leftovers,
    removeCluster,
    SLURM_IMAGE,
} from "../../testbed/kind/lab";
import { Project, copyProject, Ran } from "../../testbed/project";

const STACK = "kindtest";
const CLUSTER = "hyperscaler-kindtest";
/** A `npm run up` from nothing: kind create, the image loads, and every rollout. */
const UP_MS = 1_200_000;

function said(ran: Ran): string {
    return `exit ${ran.code}\n--- stdout\n${ran.stdout.slice(-4000)}\n--- stderr\n${ran.stderr.slice(-3000)}`;
}

describe("a real Kind cluster made by npm run up, Slurm in real pods (kind on podman)", function () {
    this.timeout(UP_MS * 2);
    let images: KindImages;
    let project: Project;
    let kubeconfig: string;
    let sshKey: string;
    const kubectl = (...args: string[]): string =>
        execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], {
            encoding: "utf8",
            maxBuffer: 64 << 20,
            timeout: 120_000,
        });
    const getJson = (...args: string[]) => JSON.parse(kubectl("get", ...args, "-o", "json"));
    /** A command in the login pod, as a user would run Slurm. */
    const slurm = (...argv: string[]): string => kubectl("-n", "slurm", "exec", "deploy/login", "--", ...argv).trim();
    const npm = (script: string, args: string[], timeoutMs = UP_MS) =>
        project.npm(script, args, { env: images.env, timeoutMs });
    /** The kubeconfig `kind` itself gives for the cluster (not the stack's output: a check must not trust it). */
    const readKubeconfig = () => {
        const text = execFileSync("kind", ["get", "kubeconfig", "--name", CLUSTER], {
            encoding: "utf8",
            env: { ...process.env, ...images.env },
        });
        fs.writeFileSync(kubeconfig, text, { mode: 0o600 });
    };
    const verify = async () => {
        const ran = await npm("verify", [STACK, "--json"], 900_000);
        const report = JSON.parse(ran.stdout) as { checks: { name: string; ok: boolean; reason: string }[] };
        const failed = report.checks.filter((c) => !c.ok);
        assert.deepEqual(failed, [], `verify failed:\n${said(ran)}`);
        assert.equal(ran.code, 0, said(ran));
        return report.checks.map((c) => c.name);
    };
    const podReady = (name: string, uidBefore?: string) => async () => {
        const pod = JSON.parse(
            kubectl("-n", "slurm", "get", "pod", name, "-o", "json", "--ignore-not-found") || "null",
        );
        const ready = pod?.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
        return ready && pod.metadata.uid !== uidBefore ? (pod.metadata.uid as string) : undefined;
    };

    before(async function () {
        this.timeout(3_600_000);
        images = await buildKindImages();
        // A run killed before its cleanup must not block this one; an interrupted one cleans up as it goes.
        await removeCluster(CLUSTER);
        onInterrupt(() => removeCluster(CLUSTER));
        project = copyProject();
        kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kind-test-")), "kubeconfig");
        // Alice's key, made here as she would make hers; the public half goes into the stack's settings.
        sshKey = path.join(path.dirname(kubeconfig), "alice");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice@test", "-f", sshKey]);
        const alice = {
            name: "alice",
            uid: 1001,
            sshAuthorizedKeys: [fs.readFileSync(`${sshKey}.pub`, "utf8").trim()],
        };
        project.writeStack(STACK, kindStackSettings(CLUSTER, images, 3, { users: [alice] }));
    });
    afterEach(async function () {
        const test = this.currentTest;
        if (test?.state !== "failed" || !test.err) return;
        this.timeout(600_000);
        // The cluster is gone by the next case (or the last hook): what it looked like goes into the failure.
        const dir = path.join(os.tmpdir(), "ai-hyperscaler-kind-diagnostics");
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `${test.title.split(".")[0]}-${Date.now()}.txt`);
        const summary = await diagnose(CLUSTER, images.env, file);
        test.err.message += `\n--- the cluster after the failure (all of it in ${file})\n${summary}`;
    });
    after(async function () {
        this.timeout(600_000);
        // Whatever a failed case left: the cluster by its label, the state with the checkout.
        await removeCluster(CLUSTER);
        project?.remove();
        if (kubeconfig) fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
    });

    it("1. up makes the cluster and the lab; verify passes every check", async () => {
        const up = await npm("up", [STACK]);
        assert.equal(up.code, 0, said(up));
        readKubeconfig();
        const nodes = getJson("nodes").items;
        assert.equal(nodes.length, 4, "a control plane and 3 workers");
        const checks = await verify();
        assert.ok(checks.includes("slurm: srun -N2 hostname"), checks.join(", "));
    });

    it("1b. alice logs in with ssh from the host, runs a job as herself, and reads it back through the REST API", async () => {
        const outputs = await project.pulumi(["stack", "output", "slurmInfo", "--json", "--stack", STACK]);
        assert.equal(outputs.code, 0, said(outputs));
        const info = JSON.parse(outputs.stdout);
        const knownHosts = path.join(path.dirname(kubeconfig), "known_hosts");
        // The output is the known_hosts line itself (`[127.0.0.1]:30084 ssh-ed25519 ...`).
        fs.writeFileSync(knownHosts, `${info.knownHosts}\n`);
        const ssh = (...command: string[]): string =>
            execFileSync(
                "ssh",
                [
                    ...["-i", sshKey, "-p", "30084", "-o", `UserKnownHostsFile=${knownHosts}`],
                    ...["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "alice@127.0.0.1", ...command],
                ],
                { encoding: "utf8", timeout: 120_000 },
            ).trim();
        // The host key is the one the outputs name (StrictHostKeyChecking), and she is herself there. ssh joins
        // the remote command into one line for her shell: a multi-word argument is quoted for it.
        assert.equal(ssh("id", "-un"), "alice");
        const job = ssh("sbatch", "--parsable", "--wait", "--wrap", "'id -un'");
        assert.match(job, /^\d+$/);
        const accounted = await waitFor(
            `job ${job} of alice in sacct -u alice`,
            async () =>
                ssh("sacct", "-u", "alice", "-j", job, "-n", "-X", "-o", "User,State").match(/alice\s+COMPLETED/)?.[0],
            120_000,
        );
        assert.ok(accounted);
        const token = /SLURM_JWT=(\S+)/.exec(ssh("scontrol", "token", "lifespan=600"))![1];
        const jobs = JSON.parse(
            execFileSync(
                "curl",
                [
                    ...["-sf", "-H", "X-SLURM-USER-NAME: alice", "-H", `X-SLURM-USER-TOKEN: ${token}`],
                    "http://127.0.0.1:30085/slurm/v0.0.41/jobs",
                ],
                { encoding: "utf8", timeout: 60_000 },
            ),
        );
        assert.ok(Array.isArray(jobs.jobs), "slurmrestd answered with a job list");
    });

    it("2. faults on real Kubernetes: controller and compute pods deleted, replicas 2 -> 3, a second up", async () => {
        // A held job lives only in slurmctld's state: it must come back with the controller's volume.
        const held = slurm("sbatch", "--parsable", "--hold", "--wrap", "hostname");
        assert.match(held, /^\d+$/);
        const controller = getJson("pod", "slurmctld-0", "-n", "slurm").metadata.uid;
        kubectl("-n", "slurm", "delete", "pod", "slurmctld-0", "--wait=true");
        await waitFor("slurmctld-0 to be Ready again as a new pod", podReady("slurmctld-0", controller), 300_000);
        const state = await waitFor(
            `held job ${held} to be listed by the new slurmctld`,
            async () => slurm("squeue", "-h", "-j", held, "-o", "%T %r") || undefined,
            120_000,
        );
        assert.match(state, /^PENDING JobHeldUser/);
        slurm("scancel", held);
        await verify();

        const compute = getJson("pod", "compute-1", "-n", "slurm").metadata.uid;
        kubectl("-n", "slurm", "delete", "pod", "compute-1", "--wait=true");
        await waitFor("compute-1 to be Ready again as a new pod", podReady("compute-1", compute), 300_000);
        await verify();

        const before = getJson("pod", "slurmctld-0", "-n", "slurm");
        const set = await project.pulumi(["config", "set", "--path", "slurm.compute.replicas", "3", "--stack", STACK]);
        assert.equal(set.code, 0, said(set));
        const up = await npm("up", [STACK]);
        assert.equal(up.code, 0, said(up));
        const after = getJson("pod", "slurmctld-0", "-n", "slurm");
        assert.equal(after.metadata.uid, before.metadata.uid, "the controller pod was not replaced");
        assert.equal(
            after.status.containerStatuses[0].restartCount,
            before.status.containerStatuses[0].restartCount,
            "the controller did not restart",
        );
        const checks = await verify();
        assert.ok(checks.includes("slurm: srun -N3 hostname"), checks.join(", "));

        const again = await project.pulumi(["up", "--yes", "--expect-no-changes", "--stack", STACK, "--skip-preview"], {
            timeoutMs: UP_MS,
        });
        assert.equal(again.code, 0, said(again));
    });

    it("3. kind delete cluster outside Pulumi, then up: the cluster is made again, verify passes", async () => {
        execFileSync("kind", ["delete", "cluster", "--name", CLUSTER], { env: { ...process.env, ...images.env } });
        assert.deepEqual(await leftovers(CLUSTER), []);
        const up = await npm("up", [STACK]);
        assert.equal(up.code, 0, said(up));
        readKubeconfig();
        await verify();
    });

    it("4. an up interrupted during the image load: the next up finishes the job", async () => {
        execFileSync("kind", ["delete", "cluster", "--name", CLUSTER], { env: { ...process.env, ...images.env } });
        const up = project.npmStart("up", [STACK], { env: images.env, timeoutMs: UP_MS });
        let ended = false;
        void up.done.then(() => (ended = true));
        // The load is the provider's `podman save` of the images, then `kind load image-archive`: seconds.
        const loading = new RegExp(`podman save .*${SLURM_IMAGE}|kind load .*--name ${CLUSTER}`);
        try {
            const seen = await waitFor(
                "npm run up to reach the image load (its podman save or kind load)",
                async () => {
                    if (ended) return "ended";
                    const processes = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
                    return processes.split("\n").some((line) => loading.test(line)) ? "loading" : undefined;
                },
                UP_MS,
                { maxDelayMs: 50 },
            );
            assert.equal(seen, "loading", "npm run up ended before its image load was seen");
        } finally {
            // Ctrl-C, as a user would: the whole process group.
            if (!ended) process.kill(-up.pid, "SIGINT");
        }
        const interrupted = await up.done;
        assert.notEqual(interrupted.code, 0, `the interrupted up ended ${said(interrupted)}`);
        const next = await npm("up", [STACK]);
        assert.equal(next.code, 0, said(next));
        assert.doesNotMatch(next.stdout + next.stderr, /already exist/);
        readKubeconfig();
        await verify();
    });

    it("5. destroy: no cluster, node container, volume or resource in the state is left", async () => {
        const destroy = await npm("destroy", [STACK]);
        assert.equal(destroy.code, 0, said(destroy));
        assert.deepEqual(await leftovers(CLUSTER), []);
        const clusters = execFileSync("kind", ["get", "clusters"], {
            encoding: "utf8",
            env: { ...process.env, ...images.env },
        });
        assert.doesNotMatch(clusters, new RegExp(`^${CLUSTER}$`, "m"));
        const exported = await project.pulumi(["stack", "export", "--stack", STACK]);
        assert.equal(exported.code, 0, said(exported));
        const resources = JSON.parse(exported.stdout).deployment.resources ?? [];
        assert.deepEqual(
            resources.filter((r: { type: string }) => !/^pulumi:(pulumi:Stack|providers:)/.test(r.type)),
            [],
        );
    });
});
