/**
 * `npm run bench:e2e`: bring-up of the rendered static Slurm stack as podman containers (see slurm.e2e.ts), at a
 * few sizes (`BENCH_NODES=2,64`, default 2,8). All pods start as Kubernetes would start them; the clock runs from
 * the first `podman run` until every compute node is idle in sinfo (polled every 250 ms). Then
 * `srun -N<all> hostname` runs several times, while slurmctld's CPU time is read from /proc. Per size it prints
 * one `RESULT {...}` line, and a table at the end.
 *
 * `BENCH_TREE_WIDTH=<n>` replaces slurm.conf's TreeWidth (to compare fan-outs); `E2E_LOAD=<workers>` runs
 * `stress-ng --cpu <workers>` beside it; `BENCH_TIMELINE=1` prints, for the pods of the dependency chain and the
 * first and last compute node, when each log line came, in seconds from the first `podman run` (the profile of a
 * bring-up).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { PodmanLab } from "./harness/lab";
import { Load, loadFromEnvironment, startLoad } from "./harness/load";
import { podman } from "./harness/podman";
import {
    buildImages,
    computeNodes,
    daemonCpuSeconds,
    daemonRssMiB,
    loginPod,
    newLab,
    removeImages,
    renderDev,
    waitForIdle,
} from "./harness/setup";

const SRUN_RUNS = Number(process.env.BENCH_SRUN_RUNS ?? 5);

interface Row {
    nodes: number;
    containers: number;
    startedSeconds: number;
    allIdleSeconds: number;
    srunFirstSeconds: number;
    srunSeconds: number;
    slurmctldCpuSecondsPerSrun: number;
    slurmdRssMiB: number;
    loadAverage: number;
}

function sizes(value = process.env.BENCH_NODES ?? "2,8"): number[] {
    const list = value.split(",").map((s) => s.trim());
    if (!list.every((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 200)) {
        throw new Error(`BENCH_NODES is "${value}"; allowed: comma-separated node counts from 1 to 200, e.g. 2,64`);
    }
    return list.map(Number);
}

function treeWidth(value = process.env.BENCH_TREE_WIDTH): number | undefined {
    if (value === undefined || value === "") return undefined;
    if (!/^\d+$/.test(value) || Number(value) < 2 || Number(value) > 65533) {
        throw new Error(`BENCH_TREE_WIDTH is "${value}"; allowed: a whole number from 2 to 65533`);
    }
    return Number(value);
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number, digits: number) => Number(value.toFixed(digits));

async function bringUp(nodes: number, width: number | undefined): Promise<Row> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ai-hyperscaler-bench-"));
    const lab = newLab(`bench${process.pid}n${nodes}`, path.join(dir, "work"));
    try {
        await renderDev(path.join(dir, "render"), nodes, { treeWidth: width });
        lab.load(path.join(dir, "render"));
        await lab.createNetwork();
        const login = loginPod(lab);
        const start = performance.now();
        const startedAt = Date.now();
        await lab.startPending();
        const startedSeconds = (performance.now() - start) / 1000;
        await waitForIdle(lab, login, computeNodes(lab), 600_000, 250);
        const allIdleSeconds = (performance.now() - start) / 1000;
        if (process.env.BENCH_TIMELINE === "1") await printTimeline(lab, startedAt, allIdleSeconds);
        const cpuBefore = await daemonCpuSeconds(lab, "slurmctld-0", "slurmctld");
        const srunSeconds: number[] = [];
        for (let i = 0; i < SRUN_RUNS; i++) {
            const t = performance.now();
            const out = await lab.sh(login, `srun -N${nodes} hostname`, 300_000);
            srunSeconds.push((performance.now() - t) / 1000);
            const lines = out.trim().split("\n").length;
            if (lines !== nodes) throw new Error(`srun -N${nodes} hostname printed ${lines} lines, not ${nodes}`);
        }
        const cpuAfter = await daemonCpuSeconds(lab, "slurmctld-0", "slurmctld");
        const rss = await daemonRssMiB(lab, computeNodes(lab), "slurmd");
        if (rss.length !== nodes)
            throw new Error(`found ${rss.length} slurmd processes in ${nodes} compute containers`);
        const row: Row = {
            nodes,
            containers: lab.pods().length,
            startedSeconds,
            allIdleSeconds,
            srunFirstSeconds: srunSeconds[0],
            srunSeconds: median(srunSeconds),
            slurmctldCpuSecondsPerSrun: (cpuAfter - cpuBefore) / SRUN_RUNS,
            slurmdRssMiB: median(rss),
            loadAverage: os.loadavg()[0],
        };
        const result = {
            nodes,
            containers: row.containers,
            allIdleSeconds: round(allIdleSeconds, 1),
            srunSeconds: round(row.srunSeconds, 2),
            slurmdRssMiB: round(row.slurmdRssMiB, 1),
        };
        console.log(`RESULT ${JSON.stringify(result)}`);
        return row;
    } finally {
        await lab.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Each log line of the chain's pods and of the first and last compute node, in seconds from `startedAt`. */
async function printTimeline(lab: PodmanLab, startedAt: number, allIdleSeconds: number): Promise<void> {
    const computes = computeNodes(lab);
    const pods = [
        ...lab
            .pods()
            .filter((p) => p.owner !== "StatefulSet/compute")
            .map((p) => p.podName),
        computes[0],
        computes[computes.length - 1],
    ];
    const lines: [number, string][] = [[allIdleSeconds, "(bench) all nodes idle"]];
    for (const pod of pods) {
        const r = await podman(["logs", "-t", lab.containerOf(pod)]);
        for (const line of `${r.stdout}${r.stderr}`.split("\n").filter(Boolean)) {
            const match = /^(\S+) (.*)$/.exec(line);
            if (match) lines.push([(Date.parse(match[1]) - startedAt) / 1000, `${pod}: ${match[2].slice(0, 140)}`]);
        }
    }
    for (const [seconds, text] of lines.sort((a, b) => a[0] - b[0]))
        console.log(`${seconds.toFixed(2).padStart(7)}  ${text}`);
}

async function main(): Promise<void> {
    const list = sizes();
    const width = treeWidth();
    const workers = loadFromEnvironment();
    await buildImages();
    let load: Load | undefined;
    const rows: Row[] = [];
    try {
        if (workers > 0) load = await startLoad(workers);
        for (const nodes of list) rows.push(await bringUp(nodes, width));
    } finally {
        await load?.stop();
        await removeImages();
    }
    const s = (value: number, digits = 1) => value.toFixed(digits);
    const conditions = [
        `${os.cpus().length} cores`,
        width === undefined ? "TreeWidth as rendered" : `TreeWidth=${width}`,
        workers > 0 ? `stress-ng --cpu ${workers} beside it` : "no added load",
    ];
    console.log(
        `Bring-up of the rendered static Slurm stack in podman (${conditions.join(", ")}); srun timed ${SRUN_RUNS} times`,
    );
    console.log(
        "| compute nodes | containers | all `podman run` returned (s) | all nodes idle (s) | first srun -N<all> (s) " +
            "| median srun -N<all> (s) | slurmctld CPU per srun (s) | median slurmd RSS (MiB) | load average (1 min) |",
    );
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
        console.log(
            `| ${r.nodes} | ${r.containers} | ${s(r.startedSeconds)} | ${s(r.allIdleSeconds)} | ${s(r.srunFirstSeconds, 2)} ` +
                `| ${s(r.srunSeconds, 2)} | ${s(r.slurmctldCpuSecondsPerSrun, 2)} | ${s(r.slurmdRssMiB)} | ${s(r.loadAverage, 2)} |`,
        );
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
