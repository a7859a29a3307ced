import { strict as assert } from "node:assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { runProgram } from "../../evaluation/program";
import { PLACEHOLDER_MARK, holdsPlaceholder } from "../../evaluation/mocks";
import { RENDER_MARKER, renderResources } from "../../evaluation/render";
import { readStackSettings } from "../../config/stackFile";

const ROOT = path.resolve(__dirname, "../..");

describe("render", () => {
    it("renders the dev stack byte-identically twice, whatever the registration order", async () => {
        const first = renderResources((await runProgram(readStackSettings("dev"), "dev")).resources);
        const second = renderResources((await runProgram(readStackSettings("dev"), "dev")).resources.reverse());
        assert.deepEqual([...second.entries()], [...first.entries()]);
    });

    it("renders two tenants with Argo CD: each tenant's objects under its own provider's folder, twice the same", async () => {
        const settings = {
            ...readStackSettings("dev"),
            vcluster: { tenants: [{ name: "team-a" }, { name: "team-b" }] },
        };
        const run = () => runProgram(settings, "dev");
        const first = renderResources((await run()).resources);
        const second = renderResources((await run()).resources.reverse());
        assert.deepEqual([...second.entries()], [...first.entries()]);
        const argocd = [...first.keys()].filter((f) => f.endsWith("/helm-release.argocd.yaml"));
        assert.deepEqual(argocd, [
            "_provider.team-a-tenant/argocd/helm-release.argocd.yaml",
            "_provider.team-b-tenant/argocd/helm-release.argocd.yaml",
        ]);
        for (const file of argocd) assert.match(first.get(file)!, /^chart: argo-cd$/m);
        // What goes to the host cluster keeps its place.
        for (const host of [
            "slurm/04-statefulset.compute.yaml",
            "vcluster-team-a/helm-release.team-a.yaml",
            "vcluster-team-b/helm-release.team-b.yaml",
        ])
            assert.ok(first.has(host), `${host} missing; got ${[...first.keys()].join(", ")}`);
        assert.deepEqual(
            [...first.keys()].filter((f) => f.startsWith("_provider.")),
            argocd,
            "only the tenants' own objects go under a provider's folder",
        );
    });

    it("writes every object as parseable YAML with apiVersion, kind and name, Helm releases as chart + repo + version + values", async () => {
        const files = renderResources((await runProgram(readStackSettings("gpu"), "gpu")).resources);
        let objects = 0;
        for (const [name, text] of files) {
            const docs = parseAllDocuments(text);
            assert.equal(docs.length, 1, name);
            const doc = docs[0].toJS();
            if (name.includes("/helm-release.")) {
                for (const field of ["chart", "repository", "version", "values", "namespace"])
                    assert.ok(doc[field] !== undefined, `${name} lacks ${field}`);
            } else if (name.includes("/kind-config.")) {
                assert.equal(doc.kind, "Cluster");
            } else {
                assert.ok(doc.apiVersion && doc.kind && doc.metadata.name, name);
                objects++;
            }
        }
        assert.ok(objects >= 20);
        assert.ok(
            [...files.keys()].some((f) => f.includes("helm-release.") && files.get(f)!.includes("chart: gpu-operator")),
        );
    });

    it("holds only marked placeholders for generated secrets, and says so in each Secret", async () => {
        const files = renderResources((await runProgram(readStackSettings("dev"), "dev")).resources);
        const secrets = [...files.entries()].filter(([name]) => name.includes("-secret."));
        assert.equal(secrets.length, 5);
        for (const [name, text] of secrets) {
            assert.match(text, /^# Secret values here are placeholders/, name);
            const doc = parseAllDocuments(text)[0].toJS();
            const values = Object.values(doc.stringData ?? doc.data) as string[];
            for (const v of values) {
                const plain = doc.data ? Buffer.from(v, "base64").toString("latin1") : v;
                assert.ok(holdsPlaceholder(plain), `${name} holds a value that is not a placeholder`);
            }
        }
        for (const [name, text] of files) {
            if (!name.includes("-secret."))
                assert.ok(!text.includes(PLACEHOLDER_MARK), `${name} holds a secret placeholder outside a Secret`);
        }
    });

    it("npm run render writes the files, refuses a folder that is not a render, and replaces a previous render", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
        try {
            const render = (...args: string[]) =>
                execFileSync("npx", ["ts-node", "scripts/render.ts", ...args], {
                    cwd: ROOT,
                    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" },
                    encoding: "utf8",
                    stdio: "pipe",
                });
            const out = path.join(dir, "out");
            assert.match(render("dev", out), /rendered \d+ files for stack dev/);
            assert.ok(fs.existsSync(path.join(out, RENDER_MARKER)));
            assert.ok(fs.existsSync(path.join(out, "slurm", "04-statefulset.compute.yaml")));
            fs.writeFileSync(path.join(out, "stale.yaml"), "x");
            render("dev", out);
            assert.ok(!fs.existsSync(path.join(out, "stale.yaml")), "a re-render replaces the previous one");
            const foreign = path.join(dir, "foreign");
            fs.mkdirSync(foreign);
            fs.writeFileSync(path.join(foreign, "keep.txt"), "mine");
            assert.throws(() => render("dev", foreign), /is not empty and is not a previous render/);
            assert.equal(fs.readFileSync(path.join(foreign, "keep.txt"), "utf8"), "mine");
            assert.throws(() => render("nope", path.join(dir, "x")), /no stack "nope"/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
