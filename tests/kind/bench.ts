/**
 * `npm run bench:kind`: how long the lab takes to come up on a real Kind cluster (kind on podman, the node image
 * built here), against the design's manual path on the same machine in the same run. Prints `RESULT {...}` lines:
 *   - manualSeconds: `kind create cluster` with the stack's rendered kind config, `kind load image-archive` of the
 *     Slurm and MariaDB images, `kubectl apply` of the `npm run render` output, and a wait for every rollout;
 *   - upSeconds: `npm run up` from nothing (no cluster, no state) until it returns, every rollout ready;
 *     verifiedSeconds: until `npm run verify` is green after it;
 *   - phases of that up, from the times its output lines and the cluster's objects record: preflight and image
 *     (until the engine starts), kind create (until the node containers exist and kind loads images), image load
 *     (the `kind load` process), Pulumi resources, and pods ready (the last pod's Ready transition);
 *   - noChangeUpSeconds: a second `npm run up` (with its refresh).
 * Everything it makes is removed at the end, also on failure.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildKindImages, kindStackSettings, MARIADB_IMAGE, removeCluster, SLURM_IMAGE } from "../../testbed/kind/lab";
import { copyProject } from "../../testbed/project";

const STACK = "kindbench";
const CLUSTER = "hyperscaler-kindbench";
const MANUAL = "hyperscaler-kindmanual";

const seconds = (ms: number) => Math.round(ms / 100) / 10;

async function main(): Promise<void> {
    const images = await buildKindImages();
    const env = { ...process.env, ...images.env };
    const project = copyProject();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kind-bench-"));
    const sh = (command: string, args: string[], timeout = 1_200_000) =>
        execFileSync(command, args, { encoding: "utf8", env, timeout, maxBuffer: 64 << 20, cwd: project.dir });
    try {
        await removeCluster(CLUSTER);
        await removeCluster(MANUAL);
        project.writeStack(STACK, kindStackSettings(CLUSTER, images, 2));
        project.writeStack("kindmanual", kindStackSettings(MANUAL, images, 2));

        // The manual path: the same objects, by hand.
        const render = path.join(scratch, "render");
        sh("npm", ["run", "--silent", "render", "--", "kindmanual", render]);
        const kindConfig = path.join(render, "_cluster", `kind-config.${MANUAL}.yaml`);
        const kubeconfig = path.join(scratch, "kubeconfig");
        const archive = path.join(scratch, "images.tar");
        const manualStart = Date.now();
        sh("kind", ["create", "cluster", "--config", kindConfig, "--kubeconfig", kubeconfig]);
        sh("podman", ["save", "--format", "docker-archive", "-m", "-o", archive, SLURM_IMAGE, MARIADB_IMAGE]);
        sh("kind", ["load", "image-archive", archive, "--name", MANUAL]);
        for (const dir of ["_cluster", "slurm"]) {
            const files = fs.readdirSync(path.join(render, dir)).filter((f) => !f.startsWith("kind-config"));
            for (const f of files.sort())
                sh("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", path.join(render, dir, f)]);
        }
        // Every StatefulSet and Deployment the render holds (04-statefulset.<name>.yaml, 05-deployment.<name>.yaml).
        const workloads = fs
            .readdirSync(path.join(render, "slurm"))
            .map((f) => /^\d+-(statefulset|deployment)\.(.+)\.yaml$/.exec(f))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => `${m[1]}/${m[2]}`);
        for (const workload of workloads) {
            sh("kubectl", ["--kubeconfig", kubeconfig, "-n", "slurm", "rollout", "status", workload, "--timeout=900s"]);
        }
        const manualSeconds = seconds(Date.now() - manualStart);
        sh("kind", ["delete", "cluster", "--name", MANUAL]);

        // The product's path, with the time each output line arrived.
        const upStart = Date.now();
        // The engine's first line (its refresh) ends preflight and the image step.
        let engineStarted: number | undefined;
        const up = project.npmStart("up", [STACK], {
            env: images.env,
            timeoutMs: 1_800_000,
            onStdout: (chunk) => {
                if (engineStarted === undefined && /Refreshing|Updating|pulumi:pulumi:Stack/.test(chunk)) {
                    engineStarted = Date.now();
                }
            },
        });
        const loads: number[] = [];
        const watcher = setInterval(() => {
            try {
                execFileSync("pgrep", ["-f", `kind load .*--name ${CLUSTER}`]);
                loads.push(Date.now());
            } catch {
                // no kind load running at this moment
            }
        }, 250);
        const ran = await up.done.finally(() => clearInterval(watcher));
        const upEnd = Date.now();
        if (ran.code !== 0) throw new Error(`npm run up failed:\n${ran.stdout}\n${ran.stderr}`);
        const verify = await project.npm("verify", [STACK, "--json"], { env: images.env, timeoutMs: 900_000 });
        const verifiedEnd = Date.now();
        if (verify.code !== 0) throw new Error(`npm run verify failed:\n${verify.stdout}`);

        const stackKubeconfig = path.join(scratch, "stack-kubeconfig");
        fs.writeFileSync(stackKubeconfig, sh("kind", ["get", "kubeconfig", "--name", CLUSTER]));
        const created = JSON.parse(sh("podman", ["inspect", `${CLUSTER}-control-plane`]))[0].Created as string;
        const pods = JSON.parse(sh("kubectl", ["--kubeconfig", stackKubeconfig, "get", "pods", "-A", "-o", "json"]));
        const readyTimes = pods.items.flatMap((p: any) =>
            (p.status.conditions ?? [])
                .filter((c: any) => c.type === "Ready")
                .map((c: any) => Date.parse(c.lastTransitionTime)),
        );
        const noChangeStart = Date.now();
        const again = await project.npm("up", [STACK], { env: images.env, timeoutMs: 900_000 });
        if (again.code !== 0) throw new Error(`the second npm run up failed:\n${again.stdout}\n${again.stderr}`);
        const noChangeUpSeconds = seconds(Date.now() - noChangeStart);

        const nodesCreated = Date.parse(created);
        const loadStart = loads[0] ?? upEnd;
        const loadEnd = loads[loads.length - 1] ?? upEnd;
        const phases = {
            preflightAndImageSeconds: seconds((engineStarted ?? upStart) - upStart),
            kindCreateSeconds: seconds(loadStart - nodesCreated),
            imageLoadSeconds: seconds(loadEnd - loadStart),
            resourcesAndPodsSeconds: seconds(upEnd - loadEnd),
            lastPodReadyAfterUpStartSeconds: seconds(Math.max(...readyTimes) - upStart),
        };
        console.log(
            `RESULT ${JSON.stringify({ bench: "kind", manualSeconds, upSeconds: seconds(upEnd - upStart), verifiedSeconds: seconds(verifiedEnd - upStart), noChangeUpSeconds, ratio: Math.round(((upEnd - upStart) / 1000 / manualSeconds) * 100) / 100 })}`,
        );
        console.log(`RESULT ${JSON.stringify({ bench: "kind-phases", ...phases })}`);
        await project.npm("destroy", [STACK], { env: images.env, timeoutMs: 900_000 });
    } finally {
        await removeCluster(CLUSTER);
        await removeCluster(MANUAL);
        project.remove();
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

main().catch((error: Error) => {
    console.error(`bench:kind: ${error.message}`);
    process.exit(1);
});
