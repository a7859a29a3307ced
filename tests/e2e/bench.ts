/**
 * `npm run bench:e2e`: bring-up of the rendered static Slurm stack as podman containers (see slurm.e2e.ts), at
 * a few sizes. All containers start at once; the clock runs from the first `podman run` until every compute
 * node is idle in sinfo. Then `srun -N<all> hostname` is timed several times. Prints a table.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { PodmanLab } from "./harness/lab";
import { buildImages, computeNodes, LOCAL_IMAGES, loginPod, removeImages, renderDev, waitForIdle } from "./harness/setup";

const SIZES = (process.env.BENCH_NODES ?? "2,4").split(",").map(Number);
const SRUN_RUNS = 5;

async function bringUp(nodes: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ai-hyperscaler-bench-"));
    const lab = new PodmanLab(`bench${process.pid}n${nodes}`, path.join(dir, "work"), LOCAL_IMAGES);
    try {
        await renderDev(path.join(dir, "render"), nodes);
        lab.load(path.join(dir, "render"));
        await lab.createNetwork();
        const start = performance.now();
        await lab.startPending();
        const startedMs = performance.now() - start;
        await waitForIdle(lab, loginPod(lab), computeNodes(lab), 300_000);
        const idleMs = performance.now() - start;
        const srunMs: number[] = [];
        for (let i = 0; i < SRUN_RUNS; i++) {
            const t = performance.now();
            await lab.sh(loginPod(lab), `srun -N${nodes} hostname`, 120_000);
            srunMs.push(performance.now() - t);
        }
        const sorted = [...srunMs].sort((a, b) => a - b);
        return { nodes, containers: lab.pods().length, startedMs, idleMs, srunFirstMs: srunMs[0], srunMedianMs: sorted[Math.floor(sorted.length / 2)] };
    } finally {
        await lab.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function main(): Promise<void> {
    await buildImages();
    const rows = [];
    try {
        for (const nodes of SIZES) rows.push(await bringUp(nodes));
    } finally {
        await removeImages();
    }
    const s = (ms: number) => (ms / 1000).toFixed(1);
    console.log(`Bring-up of the rendered static Slurm stack in podman, ${os.cpus().length} cores; srun timed ${SRUN_RUNS} times`);
    console.log("| compute nodes | containers | all `podman run` returned (s) | all nodes idle (s) | first srun -N<all> (s) | median srun -N<all> (s) |");
    console.log("|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
        console.log(`| ${r.nodes} | ${r.containers} | ${s(r.startedMs)} | ${s(r.idleMs)} | ${s(r.srunFirstMs)} | ${s(r.srunMedianMs)} |`);
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
