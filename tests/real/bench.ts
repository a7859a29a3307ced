/**
 * `npm run bench:real`: how long `npm run up` takes through the real Pulumi engine against the real control plane
 * (testbed/controlplane), on the test stack of tests/real/stack.real.ts: a first `up` from nothing, then no-change
 * `up`s (each refreshes first, as `npm run up` does). `BENCH_RUNS` (default 5) first ups, each on a fresh stack and
 * destroyed after, and as many no-change ups; prints one `RESULT {...}` line with the medians, minima and maxima.
 */
import { ControlPlane, startControlPlane, stopControlPlane } from "../../testbed/controlplane/controlplane";
import { copyProject, Project, Ran } from "../../testbed/project";

const IMAGE = "registry.example/ai-hyperscaler/slurm:24.11-bench";

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timed(what: string, action: () => Promise<Ran>): Promise<number> {
    const start = process.hrtime.bigint();
    const ran = await action();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (ran.code !== 0) throw new Error(`${what} failed (exit ${ran.code}):\n${ran.stderr.slice(-3000)}`);
    return seconds;
}

async function main(): Promise<void> {
    const runs = Number(process.env.BENCH_RUNS ?? "5");
    let cp: ControlPlane | undefined;
    let project: Project | undefined;
    try {
        cp = await startControlPlane({ nodes: 3 });
        project = copyProject();
        const first: number[] = [];
        const noChange: number[] = [];
        for (let i = 0; i < runs; i++) {
            const stack = `bench${i}`;
            project.writeStack(stack, {
                cluster: { type: "existing", kubeconfigPath: cp.kubeconfig },
                slurm: { mode: "static", image: IMAGE, namespace: `slurm-bench${i}`, compute: { replicas: 2 } },
            });
            const p = project;
            first.push(await timed(`up ${stack}`, () => p.npm("up", [stack])));
            noChange.push(await timed(`no-change up ${stack}`, () => p.npm("up", [stack])));
            await timed(`destroy ${stack}`, () => p.npm("destroy", [stack]));
            console.error(
                `run ${i + 1}/${runs}: up ${first[i].toFixed(1)} s, no-change up ${noChange[i].toFixed(1)} s`,
            );
        }
        const round = (x: number) => Math.round(x * 10) / 10;
        const result = {
            bench: "real-controlplane",
            runs,
            upSeconds: round(median(first)),
            upMinSeconds: round(Math.min(...first)),
            upMaxSeconds: round(Math.max(...first)),
            noChangeUpSeconds: round(median(noChange)),
            noChangeUpMinSeconds: round(Math.min(...noChange)),
            noChangeUpMaxSeconds: round(Math.max(...noChange)),
        };
        console.log(`RESULT ${JSON.stringify(result)}`);
    } finally {
        project?.remove();
        if (cp) await stopControlPlane(cp.dir);
    }
}

main().catch((error: Error) => {
    console.error(`bench:real: ${error.message}`);
    process.exit(1);
});
