/**
 * `slurm.sharedHome`: one ReadWriteMany claim is /home on the login and compute pods, and only there; without it,
 * no claim and each pod's own /home. (No ReadWriteMany class exists on this project's machines: this is as far as a
 * run here goes; kind's local-path class is ReadWriteOnce.)
 */
import { strict as assert } from "node:assert";
import { parseAllDocuments } from "yaml";
import { runProgram } from "../../../evaluation/program";
import { renderResources } from "../../../evaluation/render";
import { readStackSettings } from "../../../config/stackFile";

async function objects(slurm: Record<string, unknown>): Promise<any[]> {
    const dev = readStackSettings("dev") as { slurm: Record<string, unknown> };
    const files = renderResources((await runProgram({ ...dev, slurm: { ...dev.slurm, ...slurm } }, "dev")).resources);
    return [...files.values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS()));
}

function homeMounts(workload: any): string[] {
    const spec = workload.spec.template.spec;
    const claims = new Set(
        (spec.volumes ?? [])
            .filter((v: any) => v.persistentVolumeClaim?.claimName === "slurm-home")
            .map((v: any) => v.name),
    );
    return spec.containers.flatMap((c: any) =>
        (c.volumeMounts ?? []).filter((m: any) => claims.has(m.name)).map((m: any) => m.mountPath),
    );
}

describe("slurm.sharedHome", () => {
    it("one ReadWriteMany claim of that class and homeSizeGiB, mounted at /home on login and compute only", async () => {
        const all = await objects({ sharedHome: "nfs-rwx", storage: { homeSizeGiB: 25 } });
        const claims = all.filter((o) => o?.kind === "PersistentVolumeClaim" && o.metadata.name === "slurm-home");
        assert.equal(claims.length, 1);
        assert.deepEqual(claims[0].spec.accessModes, ["ReadWriteMany"]);
        assert.equal(claims[0].spec.storageClassName, "nfs-rwx");
        assert.equal(claims[0].spec.resources.requests.storage, "25Gi");
        const workloads = all.filter((o) => o?.kind === "StatefulSet" || o?.kind === "Deployment");
        const mounted = Object.fromEntries(workloads.map((w) => [w.metadata.name, homeMounts(w)]));
        assert.deepEqual(mounted.login, ["/home"]);
        assert.deepEqual(mounted.compute, ["/home"]);
        for (const other of ["slurmctld", "slurmdbd", "mariadb", "restapi"]) {
            assert.deepEqual(mounted[other] ?? [], [], `${other} mounts no home`);
        }
    });

    it("without it: no home claim, nothing mounted at /home from a claim", async () => {
        const all = await objects({});
        assert.equal(all.filter((o) => o?.metadata?.name === "slurm-home").length, 0);
        for (const w of all.filter((o) => o?.kind === "StatefulSet" || o?.kind === "Deployment")) {
            assert.deepEqual(homeMounts(w), [], w.metadata.name);
        }
    });
});
