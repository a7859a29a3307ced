/**
 * The product as a user runs it, for real: `npm run preview|up|verify|destroy` in a checkout of this project,
 * through the Automation API and the Pulumi CLI, the project-local file backend and its generated passphrase, the
 * Kubernetes provider, against a real API server (etcd, kube-apiserver, controller manager, scheduler, kwok nodes)
 * on loopback. The stack: an existing cluster, the static Slurm stack with an image from a registry, no tenants,
 * no GPU (Helm charts cannot be fetched here, and kwok runs no container). The cases run in order on one stack.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import {
    ControlPlane,
    restartComponent,
    startControlPlane,
    stopComponent,
    stopControlPlane,
    userAuditEntries,
    userRequests,
} from "../../testbed/controlplane/controlplane";
import { Project, copyProject, Ran } from "../../testbed/project";

const STACK = "realtest";
const IMAGE = "registry.example/ai-hyperscaler/slurm:24.11-realtest";

/** Objects of `npm run render`: kind, apiVersion, namespace, name. */
interface Rendered {
    readonly apiVersion: string;
    readonly kind: string;
    readonly namespace?: string;
    readonly name: string;
}

function said(ran: Ran): string {
    return `exit ${ran.code}\n--- stdout\n${ran.stdout.slice(-6000)}\n--- stderr\n${ran.stderr.slice(-6000)}`;
}

describe("the product against a real Pulumi engine and a real API server", function () {
    this.timeout(900_000);
    let cp: ControlPlane;
    let project: Project;
    const kubectl = (...args: string[]): string =>
        execFileSync("kubectl", ["--kubeconfig", cp.kubeconfig, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
    const getJson = (...args: string[]) => JSON.parse(kubectl("get", ...args, "-o", "json"));

    before(async () => {
        cp = await startControlPlane({ nodes: 3 });
        project = copyProject();
        project.writeStack(STACK, {
            cluster: { type: "existing", kubeconfigPath: cp.kubeconfig },
            slurm: { mode: "static", image: IMAGE, compute: { replicas: 2 } },
        });
    });
    after(async () => {
        // Whatever a failed case left: the stack's resources go with the control plane, the state with the checkout.
        project?.remove();
        if (cp) await stopControlPlane(cp.dir);
    });

    let rendered: Rendered[] = [];

    it("1. preview, then up: every rendered object exists, the rollouts are ready, the outputs are as documented", async () => {
        const preview = await project.npm("preview", [STACK]);
        assert.equal(preview.code, 0, said(preview));
        assert.match(
            preview.stdout,
            /preview realtest: state in \.pulumi-state\/ .*passphrase in \.pulumi-state\/passphrase/,
        );
        const up = await project.npm("up", [STACK]);
        assert.equal(up.code, 0, said(up));
        // Read at once: `up` returns only when Pulumi has seen every rollout ready.
        const workloads = [
            ...getJson("statefulsets", "-n", "slurm").items,
            ...getJson("deployments", "-n", "slurm").items,
        ];
        // mariadb, slurmdbd, slurmctld, compute; login and restapi.
        assert.equal(workloads.length, 6);
        for (const w of workloads) {
            assert.equal(
                w.status.readyReplicas,
                w.spec.replicas,
                `${w.kind} ${w.metadata.name} ready when up returned`,
            );
        }

        // No workload is written before everything its pods use exists: a Service queued behind workloads that
        // awaited pods needing it stalled an up on a real Kind cluster. The first write of each object (a
        // server-side apply patch; preview's dry runs excluded) tells when the engine created it.
        const firstWrites = new Map<string, { kind: string; received: string; answered: string }>();
        for (const e of userAuditEntries(cp)) {
            const ref = e.objectRef;
            if (e.stage !== "ResponseComplete" || !["create", "patch", "update"].includes(e.verb)) continue;
            if (ref?.namespace !== "slurm" || !ref.name || /[?&]dryRun=/.test(e.requestURI)) continue;
            const id = `${ref.resource}/${ref.name}`;
            const known = firstWrites.get(id);
            if (!known || e.requestReceivedTimestamp < known.received)
                firstWrites.set(id, {
                    kind: ref.resource!,
                    received: e.requestReceivedTimestamp,
                    answered: e.stageTimestamp,
                });
        }
        const writes = [...firstWrites.entries()];
        const workloadWrites = writes.filter(([, w]) => ["statefulsets", "deployments"].includes(w.kind));
        const usedWrites = writes.filter(([, w]) =>
            ["services", "configmaps", "secrets", "networkpolicies"].includes(w.kind),
        );
        assert.equal(workloadWrites.length, 6, writes.map(([id]) => id).join(", "));
        assert.ok(usedWrites.length >= 12, writes.map(([id]) => id).join(", "));
        const [firstWorkload] = workloadWrites.sort((a, b) => a[1].received.localeCompare(b[1].received));
        const [lastUsed] = usedWrites.sort((a, b) => b[1].answered.localeCompare(a[1].answered));
        assert.ok(
            lastUsed[1].answered <= firstWorkload[1].received,
            `${firstWorkload[0]} was written at ${firstWorkload[1].received}, before ${lastUsed[0]} existed ` +
                `(${lastUsed[1].answered})`,
        );

        const renderDir = path.join(project.dir, "render-out");
        const render = await project.npm("render", [STACK, renderDir]);
        assert.equal(render.code, 0, said(render));
        rendered = fs
            .readdirSync(renderDir, { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(".yaml"))
            .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(renderDir, f), "utf8")).map((d) => d.toJS()))
            .filter((o) => o?.kind && o?.metadata?.name)
            .map((o) => ({
                apiVersion: o.apiVersion,
                kind: o.kind,
                namespace: o.metadata.namespace,
                name: o.metadata.name,
            }));
        assert.ok(rendered.length >= 15, `the render lists ${rendered.length} objects`);
        for (const o of rendered) {
            const group = o.apiVersion.includes("/") ? `.${o.apiVersion.split("/")[0]}` : "";
            const live = getJson(
                `${o.kind.toLowerCase()}${group}`,
                o.name,
                ...(o.namespace ? ["-n", o.namespace] : []),
            );
            assert.equal(live.metadata.name, o.name);
            // Defaults the API server applies: a uid, and for workloads a revision history limit.
            assert.ok(live.metadata.uid, `${o.kind} ${o.name} has no uid`);
            if (o.kind === "StatefulSet" || o.kind === "Deployment") {
                assert.equal(typeof live.spec.revisionHistoryLimit, "number", `${o.kind} ${o.name} defaults`);
                assert.equal(live.status.readyReplicas, live.spec.replicas, `${o.kind} ${o.name} ready replicas`);
            }
        }
        assert.ok(rendered.some((o) => o.kind === "Deployment" && o.name === "login"));
        assert.equal(rendered.filter((o) => o.kind === "StatefulSet").length, 4);

        const outputs = await project.pulumi(["stack", "output", "--json", "--stack", STACK]);
        assert.equal(outputs.code, 0, said(outputs));
        const values = JSON.parse(outputs.stdout);
        assert.equal(values.clusterName, "current");
        assert.equal(values.slurmInfo.namespace, "slurm");
        assert.equal(values.slurmInfo.controllerAddress, "slurmctld.slurm.svc.cluster.local:6817");
        assert.equal(values.slurmInfo.commands.sinfo, "kubectl -n slurm exec deploy/login -- sinfo");
        assert.deepEqual(values.slurmInfo.secretNames, [
            "slurm-munge-key",
            "mariadb-credentials",
            "slurmdbd-config",
            "slurm-ssh-host-key",
            "slurm-jwt-key",
        ]);
        assert.deepEqual(Object.keys(values.tenantAccess), []);
        assert.equal(values.kubeconfig, undefined, "an existing cluster's kubeconfig is never copied into outputs");
    });

    it("2. the state holds no generated secret in plain text, in any encoding", async () => {
        const exported = await project.pulumi(["stack", "export", "--stack", STACK]);
        assert.equal(exported.code, 0, said(exported));
        const state = exported.stdout;
        const secretData = (name: string): Record<string, string> => getJson("secret", name, "-n", "slurm").data;
        const munge = Buffer.from(secretData("slurm-munge-key")["munge.key"], "base64");
        const mariadb = Object.values(secretData("mariadb-credentials")).map((v) => Buffer.from(v, "base64"));
        const kubeconfig = fs.readFileSync(cp.kubeconfig, "utf8");
        const clientKey = /client-key-data: (\S+)/.exec(kubeconfig)![1];
        const secrets: Buffer[] = [munge, ...mariadb.filter((p) => p.length >= 16), Buffer.from(clientKey, "base64")];
        assert.ok(mariadb.filter((p) => p.length >= 16).length >= 2, "both database passwords are there to look for");
        for (const secret of secrets) {
            for (const encoded of [secret.toString("base64"), secret.toString("hex"), secret.toString("utf8")]) {
                // Any 24 characters of it would give it away; the middle of each encoding stands for all.
                const probe = encoded.slice(Math.floor(encoded.length / 2) - 12, Math.floor(encoded.length / 2) + 12);
                assert.ok(probe.length === 24 && !state.includes(probe), `a secret is in the state in plain text`);
            }
        }
        assert.ok(state.includes('"ciphertext"'), "the secrets are there, encrypted");
    });

    it("3. a second up changes nothing", async () => {
        const up = await project.npm("up", [STACK]);
        assert.equal(up.code, 0, said(up));
        const again = await project.pulumi(["up", "--yes", "--expect-no-changes", "--stack", STACK, "--skip-preview"]);
        assert.equal(again.code, 0, said(again));
    });

    it("4. compute replicas 2 -> 4 by pulumi config set: only the slurmd StatefulSet changes", async () => {
        const generations = () =>
            Object.fromEntries(
                [...getJson("statefulsets", "-n", "slurm").items, ...getJson("deployments", "-n", "slurm").items].map(
                    (w: any) => [`${w.kind}/${w.metadata.name}`, w.metadata.generation],
                ),
            );
        const before = generations();
        const set = await project.pulumi(["config", "set", "--path", "slurm.compute.replicas", "4", "--stack", STACK]);
        assert.equal(set.code, 0, said(set));
        const up = await project.npm("up", [STACK]);
        assert.equal(up.code, 0, said(up));
        const after = generations();
        const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
        assert.deepEqual(changed, ["StatefulSet/compute"]);
        assert.equal(getJson("statefulset", "compute", "-n", "slurm").status.readyReplicas, 4);
        const history = await project.pulumi(["stack", "history", "--json", "--stack", STACK]);
        const last = JSON.parse(history.stdout)[0];
        assert.deepEqual(
            Object.keys(last.resourceChanges).filter((k) => k !== "same"),
            ["update"],
            JSON.stringify(last.resourceChanges),
        );
        assert.equal(last.resourceChanges.update, 1, JSON.stringify(last.resourceChanges));
    });

    it("5. the API server down: up fails in one line naming the cluster and drops nothing; back up, no changes", async () => {
        const count = async () =>
            JSON.parse((await project.pulumi(["stack", "export", "--stack", STACK])).stdout).deployment.resources
                .length;
        const resources = await count();
        await stopComponent(cp, "kube-apiserver");
        try {
            const up = await project.npm("up", [STACK], { timeoutMs: 300_000 });
            assert.notEqual(up.code, 0, said(up));
            const lines = up.stderr.trim().split("\n");
            assert.equal(lines.length, 1, said(up));
            assert.match(
                lines[0],
                /^npm run up -- realtest: the Kubernetes cluster at https:\/\/127\.0\.0\.1:\d+ is unreachable/,
            );
            assert.ok(lines[0].includes(`at ${cp.server} is unreachable (connect: connection refused)`), lines[0]);
        } finally {
            await restartComponent(cp, "kube-apiserver");
        }
        assert.equal(await count(), resources, "the failed refresh dropped resources from the state");
        const again = await project.pulumi([
            "up",
            "--yes",
            "--expect-no-changes",
            "--refresh",
            "--stack",
            STACK,
            "--skip-preview",
        ]);
        assert.equal(again.code, 0, said(again));
    });

    it("6. verify: the API check passes for real, the Slurm checks fail clearly (kwok runs no process)", async () => {
        const verify = await project.npm("verify", [STACK, "--json"], { timeoutMs: 600_000 });
        assert.equal(verify.code, 1, said(verify));
        const report = JSON.parse(verify.stdout);
        const api = report.checks.find((c: any) => c.name === "cluster: API answers");
        assert.ok(api?.ok, JSON.stringify(report.checks, null, 2));
        const slurm = report.checks.filter((c: any) => c.name.startsWith("slurm"));
        assert.ok(slurm.length >= 3 && slurm.every((c: any) => !c.ok && c.reason.length > 0), JSON.stringify(slurm));
    });

    it("7. a bad setting is refused before any request reaches the API server", async () => {
        const settingsFile = path.join(project.dir, `Pulumi.${STACK}.yaml`);
        const good = fs.readFileSync(settingsFile, "utf8");
        fs.writeFileSync(settingsFile, good.replace(/replicas: .*/, "replicas: -1"));
        try {
            // The count moves when the user's kubeconfig is used: it can see a request that should not be there.
            const idle = userRequests(cp);
            kubectl("get", "namespaces");
            assert.ok(userRequests(cp) > idle, "the audit log counts the user's requests");
            const before = userRequests(cp);
            const up = await project.npm("up", [STACK]);
            assert.notEqual(up.code, 0);
            assert.equal(userRequests(cp), before, "requests reached the API server");
            assert.match(up.stderr, /slurm\.compute\.replicas = -1: must be a whole number from 0 to 100000/);
        } finally {
            fs.writeFileSync(settingsFile, good);
        }
    });

    it("8. destroy: nothing of the stack is left in the API server, and the state holds no resource", async () => {
        const destroy = await project.npm("destroy", [STACK]);
        assert.equal(destroy.code, 0, said(destroy));
        for (const o of rendered) {
            const group = o.apiVersion.includes("/") ? `.${o.apiVersion.split("/")[0]}` : "";
            const args = ["get", `${o.kind.toLowerCase()}${group}`, o.name, "--ignore-not-found", "-o", "name"];
            const left = kubectl(...args, ...(o.namespace ? ["-n", o.namespace] : [])).trim();
            // A namespace being deleted is gone for the stack; kwok's finalizers finish it in the background.
            if (o.kind === "Namespace" && left) {
                assert.ok(getJson("namespace", o.name).status.phase === "Terminating", `${o.name} still active`);
                continue;
            }
            assert.equal(left, "", `${o.kind} ${o.name} is still there`);
        }
        const exported = await project.pulumi(["stack", "export", "--stack", STACK]);
        assert.deepEqual(JSON.parse(exported.stdout).deployment.resources ?? [], []);
    });
});
