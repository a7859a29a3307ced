/**
 * State kept across renames and modes: the Slurm Namespace has one URN in both modes, and the URNs resources had
 * before (the `SlurmCluster` component, Slinky's own Namespace) are aliases of the new ones.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../../config/schema";
import { SlurmNamespace, slurmPodSecurity } from "../../../components/slurm/SlurmNamespace";
import { StaticSlurm } from "../../../components/slurm/StaticSlurm";
import { legacyResourceName } from "../../../components/slurm/legacyNames";
import { runProgram } from "../../../evaluation/program";
import { dependencyRecorder, registeredUrns, underMocks, valueOf } from "../../../evaluation/mocks";

const IMAGE = "registry.example.com/slurm:24.11";
const PREFIX = "urn:pulumi:test::ai-hyperscaler::";

/** The URN an alias `{ name, parent }` stands for, for a resource of `type`. */
async function aliasUrn(alias: pulumi.Alias, type: string): Promise<string> {
    const parent = await valueOf(pulumi.output(alias.parent as pulumi.Input<string>));
    assert.ok(parent, `alias ${JSON.stringify(alias.name)} has no parent URN`);
    return `${parent.slice(0, parent.lastIndexOf("::"))}$${type}::${alias.name}`;
}

/**
 * The aliases that rename a resource (`{ name, parent }`); the Kubernetes SDK adds type aliases of its own
 * (`apps/v1beta1` for `apps/v1`), which are not this project's.
 */
function named(aliases: pulumi.ResourceOptions["aliases"]): pulumi.Alias[] {
    return ((aliases ?? []) as pulumi.Alias[]).filter((a) => typeof a === "object" && "name" in a);
}

describe("the Slurm namespace across modes", () => {
    it("has the same URN whether slurm.mode is static or slinky, so switching modes updates it in place", async () => {
        const namespaceUrns = async (mode: string) => {
            // An existing cluster runs the static stack only from a registry image.
            await runProgram({
                cluster: { type: "existing" },
                slurm: { mode, ...(mode === "static" ? { image: IMAGE } : {}) },
            });
            return registeredUrns().filter(
                (urn) => urn.includes("$kubernetes:core/v1:Namespace::") && urn.includes("SlurmNamespace"),
            );
        };
        const staticUrns = await namespaceUrns("static");
        const slinkyUrns = await namespaceUrns("slinky");
        assert.deepEqual(staticUrns, [
            `${PREFIX}hyperscaler:slurm:SlurmNamespace$kubernetes:core/v1:Namespace::slurm-namespace`,
        ]);
        assert.deepEqual(slinkyUrns, staticUrns);
    });

    it("follows the mode's Pod Security level", async () => {
        const labels = async (mode: "static" | "slinky") => {
            const { resources } = await underMocks(() => new SlurmNamespace("slurm", { namespace: "hpc", mode }));
            return resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!.inputs.metadata.labels;
        };
        assert.deepEqual(await labels("static"), {
            "app.kubernetes.io/part-of": "ai-hyperscaler",
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "baseline",
            "pod-security.kubernetes.io/audit": "restricted",
        });
        assert.equal((await labels("slinky"))["pod-security.kubernetes.io/enforce"], "privileged");
        assert.deepEqual(slurmPodSecurity("slinky"), { enforce: "privileged", audit: "privileged" });
    });

    it("is aliased to the Namespace each mode's component registered before", async () => {
        const deps = dependencyRecorder();
        await underMocks(
            () =>
                new SlurmNamespace(
                    "slurm",
                    { namespace: "hpc", mode: "static" },
                    { transformations: [deps.transformation] },
                ),
        );
        const aliases = named(deps.options("slurm-namespace").aliases);
        const urns = await Promise.all(aliases.map((a) => aliasUrn(a, "kubernetes:core/v1:Namespace")));
        assert.deepEqual(urns, [
            `${PREFIX}hyperscaler:slurm:SlurmCluster$kubernetes:core/v1:Namespace::hpc`,
            `${PREFIX}hyperscaler:slurm:SlinkySlurm$kubernetes:core/v1:Namespace::slurm-namespace`,
        ]);
    });

    it("refuses a bad name or mode before registering anything", async () => {
        const { resources, error } = await underMocks(
            () => new SlurmNamespace("s", { namespace: "Bad_NS", mode: "none" as "static" }),
        );
        assert.match(error?.message ?? "", /SlurmNamespace "s" has invalid arguments/);
        assert.match(error!.message, /args\.namespace = "Bad_NS": must be a DNS-1123 label/);
        assert.match(error!.message, /args\.mode = "none": must be "static" or "slinky"/);
        assert.deepEqual(resources, []);
    });
});

describe("StaticSlurm, formerly SlurmCluster", () => {
    /** Every resource the old component registered in the dev-like default stack, by new name. */
    const OLD_NAMES: Record<string, string> = {
        "kubernetes:core/v1:ConfigMap slurm-slurm-config": "slurm-config",
        "kubernetes:core/v1:Secret slurm-slurm-munge-key": "slurm-munge-key",
        "kubernetes:core/v1:Secret slurm-mariadb-credentials": "mariadb-credentials",
        "kubernetes:core/v1:Secret slurm-slurmdbd-config": "slurmdbd-config",
        "kubernetes:core/v1:Service slurm-mariadb": "slurm/mariadb-svc",
        "kubernetes:core/v1:Service slurm-slurmdbd": "slurm/slurmdbd-svc",
        "kubernetes:core/v1:Service slurm-slurmctld": "slurm/slurmctld-svc",
        "kubernetes:core/v1:Service slurm-compute": "slurm/compute-svc",
        "kubernetes:core/v1:Service slurm-login": "slurm/login-svc",
        "kubernetes:apps/v1:StatefulSet slurm-mariadb": "slurm/mariadb",
        "kubernetes:apps/v1:StatefulSet slurm-slurmdbd": "slurm/slurmdbd",
        "kubernetes:apps/v1:StatefulSet slurm-slurmctld": "slurm/slurmctld",
        "kubernetes:apps/v1:StatefulSet slurm-compute": "slurm/compute",
        "kubernetes:apps/v1:Deployment slurm-login": "slurm/login",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy slurm-mariadb-ingress": "slurm/mariadb-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy slurm-slurmdbd-ingress": "slurm/slurmdbd-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy slurm-slurmctld-ingress": "slurm/slurmctld-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy slurm-compute-ingress": "slurm/compute-ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy slurm-login-ingress": "slurm/login-ingress",
    };

    /** Records each child's options by `<type> <name>` (a Service and a Deployment may share a name). */
    function optionsRecorder() {
        const recorded = new Map<string, pulumi.ResourceOptions>();
        const transformation: pulumi.ResourceTransformation = (args) => {
            recorded.set(`${args.type} ${args.name}`, args.opts);
            return undefined;
        };
        const options = (key: string): pulumi.ResourceOptions => {
            const found = recorded.get(key);
            assert.ok(found, `no resource ${key}`);
            return found;
        };
        return { transformation, options };
    }

    async function build() {
        const deps = optionsRecorder();
        const slurm = parseStackConfig({ cluster: { type: "existing" }, slurm: { image: IMAGE } }).slurm;
        const { resources, error } = await underMocks(() => {
            const namespace = new SlurmNamespace("slurm", { namespace: slurm.namespace, mode: "static" });
            return new StaticSlurm("slurm", { ...slurm, namespace }, { transformations: [deps.transformation] });
        });
        assert.ifError(error);
        return { deps, resources };
    }

    it("is registered as hyperscaler:slurm:StaticSlurm, aliased to hyperscaler:slurm:SlurmCluster", async () => {
        const { deps, resources } = await build();
        assert.ok(resources.some((r) => r.type === "hyperscaler:slurm:StaticSlurm" && r.name === "slurm"));
        assert.ok(!resources.some((r) => r.type === "hyperscaler:slurm:SlurmCluster"));
        assert.deepEqual(deps.options("hyperscaler:slurm:StaticSlurm slurm").aliases, [
            { type: "hyperscaler:slurm:SlurmCluster" },
        ]);
    });

    it("names every child after the component, each aliased to the URN the old component gave it", async () => {
        const { deps, resources } = await build();
        const added = ["users", "ssh-host-key", "jwt-key", "login-ssh", "restapi", "restapi-ingress"].map((n) =>
            n.startsWith("login") || n.startsWith("restapi") ? `slurm-${n}` : `slurm-slurm-${n}`,
        );
        const renamed = resources.filter(
            (r) =>
                r.custom &&
                !r.type.startsWith("random:") &&
                r.type !== "kubernetes:core/v1:Namespace" &&
                !added.includes(r.name),
        );
        for (const r of resources.filter((r) => added.includes(r.name))) {
            assert.deepEqual(named(deps.options(`${r.type} ${r.name}`).aliases), [], `${r.name} is new: no alias`);
        }
        assert.deepEqual(renamed.map((r) => `${r.type} ${r.name}`).sort(), Object.keys(OLD_NAMES).sort());
        for (const r of renamed) {
            assert.ok(r.name.startsWith("slurm-"), r.name);
            const aliases = named(deps.options(`${r.type} ${r.name}`).aliases);
            const urns = await Promise.all(aliases.map((a) => aliasUrn(a, r.type)));
            assert.deepEqual(
                urns,
                [`${PREFIX}hyperscaler:slurm:SlurmCluster$${r.type}::${OLD_NAMES[`${r.type} ${r.name}`]}`],
                r.name,
            );
        }
        // Generated secrets kept their names: the component's own alias carries them over.
        for (const r of resources.filter((r) => r.type.startsWith("random:"))) {
            assert.deepEqual(named(deps.options(`${r.type} ${r.name}`).aliases), [], r.name);
        }
    });

    it("derives the old names from the object: Services with -svc, namespaced workloads under <namespace>/", () => {
        assert.equal(legacyResourceName("kubernetes:core/v1:Service", "login", "hpc"), "hpc/login-svc");
        assert.equal(legacyResourceName("kubernetes:apps/v1:StatefulSet", "compute", "hpc"), "hpc/compute");
        assert.equal(legacyResourceName("kubernetes:core/v1:Secret", "slurm-munge-key", "hpc"), "slurm-munge-key");
        assert.equal(legacyResourceName("random:index/randomBytes:RandomBytes", "x", "hpc"), undefined);
    });
});
