/**
 * `npm run bench`: how the program scales with the number of Slurm compute nodes. For compute.replicas = 3,
 * 100, 1,000 and 10,000 (the dev stack otherwise), evaluates the real program under Pulumi's mocks and prints
 * evaluation time (median of several runs, after a warm-up), resources registered, and slurm.conf's size.
 * `BENCH_REPLICAS=3,100` and `BENCH_RUNS=3` choose other sizes and run counts.
 */
import { performance } from "perf_hooks";
import { runProgram } from "../evaluation/program";
import { readStackSettings } from "../config/stackFile";

const REPLICAS = (process.env.BENCH_REPLICAS ?? "3,100,1000,10000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function measure(replicas: number) {
    const base = readStackSettings("dev") as { slurm: { compute: Record<string, unknown> } };
    // One ceiling for every size, so that only the replica count differs between runs.
    const settings = {
        ...base,
        slurm: { ...base.slurm, compute: { ...base.slurm.compute, replicas, maxNodes: 10_000 } },
    };
    const times: number[] = [];
    let run!: Awaited<ReturnType<typeof runProgram>>;
    for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        run = await runProgram(settings, "bench");
        times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const slurmConf = run.get("kubernetes:core/v1:ConfigMap", "slurm-slurm-config").inputs.data["slurm.conf"] as string;
    return {
        replicas,
        medianMs: times[Math.floor(RUNS / 2)],
        minMs: times[0],
        resources: run.resources.length,
        slurmConfBytes: Buffer.byteLength(slurmConf),
    };
}

async function main(): Promise<void> {
    await runProgram(readStackSettings("dev"), "warm-up"); // TypeScript compilation and module loading, once.
    const rows = [];
    for (const replicas of REPLICAS) rows.push(await measure(replicas));
    console.log(`Program evaluation under mocks (dev stack), ${RUNS} runs each, Node ${process.version}`);
    console.log(
        "| compute.replicas | evaluation median (ms) | evaluation min (ms) | resources registered | slurm.conf (bytes) |",
    );
    console.log("|---:|---:|---:|---:|---:|");
    for (const r of rows) {
        console.log(
            `| ${r.replicas.toLocaleString("en")} | ${r.medianMs.toFixed(1)} | ${r.minMs.toFixed(1)} | ${r.resources} | ${r.slurmConfBytes} |`,
        );
    }
    const counts = new Set(rows.map((r) => r.resources));
    console.log(
        counts.size === 1
            ? "resources registered: the same at every size"
            : "WARNING: the resource count depends on replicas",
    );
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
