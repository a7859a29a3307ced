import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../../config/schema";
import {
    renderNodeConf,
    renderSlurmConfigFiles,
    renderSlurmdbdConf,
    SlurmConfInput,
} from "../../../components/slurm/render";

const GOLDEN = path.join(__dirname, "golden");

/** Compares with the golden file; `UPDATE_GOLDEN=1 npm test` rewrites it after a deliberate change. */
function assertGolden(name: string, actual: string): void {
    const file = path.join(GOLDEN, name);
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, actual);
    assert.equal(
        actual,
        fs.readFileSync(file, "utf8"),
        `${name} differs from its golden file (UPDATE_GOLDEN=1 to accept)`,
    );
}

const slurmSettings = (raw: Record<string, unknown>) =>
    parseStackConfig({
        gpuOperator: { enabled: true },
        cluster: { type: "existing" },
        slurm: { image: "registry.example.com/slurm:24.11", ...raw },
    }).slurm;

describe("Slurm config renderers", () => {
    const cpuLab: SlurmConfInput = slurmSettings({
        clusterName: "lab",
        compute: { replicas: 3, cpus: 2, memoryMiB: 2048 },
        partitions: [{ name: "batch" }, { name: "debug", maxTimeMinutes: 30 }],
    });
    const gpuLab: SlurmConfInput = slurmSettings({
        clusterName: "gpulab",
        compute: { replicas: 1, cpus: 4, memoryMiB: 8192, gpus: 2 },
    });

    it("renders slurm.conf, cgroup.conf and gres.conf as the golden files", () => {
        const cpu = renderSlurmConfigFiles(cpuLab);
        assert.deepEqual(Object.keys(cpu), ["cgroup.conf", "slurm.conf"], "no gres.conf without GPUs");
        assertGolden("cpu.slurm.conf", cpu["slurm.conf"]);
        assertGolden("cgroup.conf", cpu["cgroup.conf"]);
        const gpu = renderSlurmConfigFiles(gpuLab);
        assertGolden("gpu.slurm.conf", gpu["slurm.conf"]);
        assertGolden("gpu.gres.conf", gpu["gres.conf"]);
    });

    it("renders slurmdbd.conf as the golden file, with the password in place", () => {
        assertGolden("slurmdbd.conf", renderSlurmdbdConf("Abc123notARealPassword"));
    });

    it("re-renders byte-identical output", () => {
        const again = slurmSettings({
            clusterName: "lab",
            compute: { replicas: 3, cpus: 2, memoryMiB: 2048 },
            partitions: [{ name: "batch" }, { name: "debug", maxTimeMinutes: 30 }],
        });
        assert.equal(JSON.stringify(renderSlurmConfigFiles(again)), JSON.stringify(renderSlurmConfigFiles(cpuLab)));
    });

    it("does not depend on the replica count: 3 and 10,000 nodes give the same, compact slurm.conf", () => {
        const three = renderSlurmConfigFiles({ ...cpuLab, compute: { ...cpuLab.compute, maxNodes: 10_000 } });
        const many = renderSlurmConfigFiles(
            slurmSettings({
                ...{ clusterName: "lab", partitions: [{ name: "batch" }, { name: "debug", maxTimeMinutes: 30 }] },
                compute: { replicas: 10_000, maxNodes: 10_000, cpus: 2, memoryMiB: 2048 },
            }),
        );
        assert.equal(many["slurm.conf"], three["slurm.conf"]);
        assert.ok(Buffer.byteLength(many["slurm.conf"]) < 4096, "slurm.conf stays under 4 KiB");
        assert.ok(!/NodeName=/.test(many["slurm.conf"]), "no line per node");
    });

    it("declares the GPU GRES only when nodes have GPUs", () => {
        assert.match(renderSlurmConfigFiles(gpuLab)["slurm.conf"], /^GresTypes=gpu$/m);
        assert.doesNotMatch(renderSlurmConfigFiles(cpuLab)["slurm.conf"], /GresTypes/);
        assert.equal(renderNodeConf(gpuLab.compute), "CPUs=4 RealMemory=8192 Feature=compute Gres=gpu:2");
        assert.equal(renderNodeConf(cpuLab.compute), "CPUs=2 RealMemory=2048 Feature=compute");
    });

    it("makes exactly one partition the default, with its time limit", () => {
        const conf = renderSlurmConfigFiles(cpuLab)["slurm.conf"];
        assert.match(conf, /^PartitionName=batch Nodes=compute Default=YES MaxTime=UNLIMITED State=UP$/m);
        assert.match(conf, /^PartitionName=debug Nodes=compute Default=NO MaxTime=30 State=UP$/m);
    });

    it("refuses a password slurmdbd.conf could not hold", () => {
        assert.throws(() => renderSlurmdbdConf("has space#hash"), /letters and digits only/);
    });
});
