import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { SlurmSettings } from "../../../config/schema";
import { SlinkySlurm } from "../../../components/slinky/SlinkySlurm";
import {
    CERT_MANAGER_CHART_VERSION,
    SLINKY_CHART_REGISTRY,
    certManagerArgs,
    slinkyConnection,
    slinkyOperatorValues,
    slinkySlurmValues,
} from "../../../components/slinky/values";
import { SlurmNamespace } from "../../../components/slurm/SlurmNamespace";
import { isKubeObject, validateKubeObject } from "../../kubeSchema";
import {
    MockEngine,
    PLACEHOLDER_MARK,
    dependencyRecorder,
    installMocks,
    kinds,
    registeredUrns,
    settle,
    valueOf,
} from "../../../evaluation/mocks";
import { slinkySettings } from "./settings";

describe("SlinkySlurm", () => {
    let engine: MockEngine;
    before(async () => {
        engine = await installMocks();
    });
    beforeEach(() => engine.reset());

    /** Slinky as index.ts builds it: the namespace component, then Slinky in it. */
    async function build(settings: SlurmSettings, opts?: pulumi.ComponentResourceOptions) {
        const namespace = new SlurmNamespace(
            "slurm",
            { namespace: settings.namespace, mode: "slinky" },
            opts?.provider ? { provider: opts.provider } : {},
        );
        const component = new SlinkySlurm("slurm", { ...settings, namespace }, opts);
        await settle();
        return component;
    }
    const release = (name: string) => engine.named("kubernetes:helm.sh/v3:Release", name);
    const secret = (name: string) => engine.named("kubernetes:core/v1:Secret", name);

    it("registers cert-manager, the operator, the slurm chart, the auth keys and the accounting database", async () => {
        await build(slinkySettings());
        assert.deepEqual(kinds(engine.resources), [
            "hyperscaler:slurm:SlinkySlurm",
            "hyperscaler:slurm:SlurmNamespace",
            "kubernetes-cert-manager:index:CertManager",
            "kubernetes:apps/v1:StatefulSet",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Secret",
            "kubernetes:core/v1:Service",
            "kubernetes:helm.sh/v3:Release",
            "random:index/randomBytes:RandomBytes",
            "random:index/randomPassword:RandomPassword",
        ]);
        assert.deepEqual(
            engine
                .ofType("kubernetes:helm.sh/v3:Release")
                .map((r) => r.name)
                .sort(),
            ["slurm-operator", "slurm-operator-crds", "slurm-slurm"],
        );
        assert.deepEqual(
            engine
                .ofType("kubernetes:core/v1:Secret")
                .map((r) => r.inputs.metadata.name)
                .sort(),
            ["mariadb-credentials", "slurm-auth-jwt", "slurm-auth-slurm"],
        );
        for (const r of engine.resources.filter((r) => isKubeObject(r.type))) validateKubeObject(r);
    });

    it("installs Jetstack's cert-manager chart v1.21.1 through the cert-manager component, with crds.enabled", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        const deps = dependencyRecorder();
        await build(slinkySettings(), { provider, transformations: [deps.transformation] });
        const component = engine.named("kubernetes-cert-manager:index:CertManager", "slurm-cert-manager");
        assert.equal(component.custom, false, "a component: its provider makes the release");
        assert.deepEqual(component.inputs, {
            helmOptions: {
                name: "cert-manager",
                chart: "cert-manager",
                repositoryOpts: { repo: "https://charts.jetstack.io" },
                version: CERT_MANAGER_CHART_VERSION,
                namespace: "cert-manager",
                createNamespace: true,
                values: { crds: { enabled: true } },
            },
        });
        assert.deepEqual(component.inputs, certManagerArgs());
        assert.equal(CERT_MANAGER_CHART_VERSION, "v1.21.1");
        // The release goes to the cluster of this component's provider (a remote component's children get only
        // the providers its own options name).
        assert.equal(deps.options("slurm-cert-manager").provider, provider);
        assert.equal(
            engine.ofType("kubernetes:helm.sh/v3:Release").some((r) => r.inputs.chart === "cert-manager"),
            false,
            "no second cert-manager release beside the component's",
        );
    });

    it("pins every Slinky chart to 1.2.1 from Slinky's OCI registry", async () => {
        await build(slinkySettings());
        const expected: Record<string, { chart: string; name: string; namespace: string }> = {
            "slurm-operator-crds": { chart: "slurm-operator-crds", name: "slurm-operator-crds", namespace: "slinky" },
            "slurm-operator": { chart: "slurm-operator", name: "slurm-operator", namespace: "slinky" },
            "slurm-slurm": { chart: "slurm", name: "slurm", namespace: "slurm" },
        };
        for (const [resource, want] of Object.entries(expected)) {
            const r = release(resource);
            assert.equal(r.inputs.chart, `${SLINKY_CHART_REGISTRY}/${want.chart}`, resource);
            assert.equal(r.inputs.version, "1.2.1", resource);
            assert.equal(r.inputs.name, want.name, resource);
            assert.equal(r.inputs.namespace, want.namespace, resource);
            assert.equal(r.inputs.repositoryOpts, undefined, `${resource}: an oci:// chart names its registry`);
        }
        assert.deepEqual(release("slurm-operator").inputs.values, slinkyOperatorValues());
    });

    it("installs the slurm chart into the Slurm namespace with the typed values", async () => {
        const settings = slinkySettings({ namespace: "hpc", compute: { replicas: 6, cpus: 4, memoryMiB: 8192 } });
        await build(settings);
        const slurm = release("slurm-slurm");
        assert.equal(slurm.inputs.namespace, "hpc");
        assert.deepEqual(slurm.inputs.values, slinkySlurmValues(settings));
        const namespaces = engine
            .ofType("kubernetes:core/v1:Namespace")
            .map((n) => n.inputs.metadata.name)
            .sort();
        assert.deepEqual(namespaces, ["hpc", "slinky"]);
    });

    it("makes every Secret the chart reads, with the name and key its values point at, marked secret", async () => {
        await build(slinkySettings());
        const values = release("slurm-slurm").inputs.values;
        const refs = [
            values.slurmKey.secretRef,
            values.jwtKey.secretRef,
            values.accounting.storageConfig.passwordKeyRef,
        ];
        for (const ref of refs) {
            const found = engine.ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === ref.name);
            assert.ok(found, `no Secret ${ref.name}`);
            assert.equal(found.inputs.metadata.namespace, "slurm");
            const field = found.inputs.data ? "data" : "stringData";
            assert.ok(ref.key in found.inputs[field], `Secret ${ref.name} lacks key ${ref.key}`);
            assert.deepEqual(found.secretPaths, [field], `${ref.name}'s values are secret in Pulumi state`);
        }
        assert.equal(values.slurmKey.create, false);
        assert.equal(values.jwtKey.create, false);
    });

    it("generates each auth key from 1024 random bytes, and the database passwords as in static mode", async () => {
        await build(slinkySettings());
        for (const name of ["slurm-slurm-key", "slurm-jwt-key"]) {
            assert.equal(engine.named("random:index/randomBytes:RandomBytes", name).inputs.length, 1024);
        }
        const slurmKey = secret("slurm-slurm-auth-slurm").inputs.data["slurm.key"];
        assert.equal(Buffer.from(slurmKey, "base64").length, 1024);
        assert.ok(Buffer.from(slurmKey, "base64").toString().includes(PLACEHOLDER_MARK), "the generated value, base64");
        for (const p of engine.ofType("random:index/randomPassword:RandomPassword")) {
            assert.deepEqual([p.inputs.length, p.inputs.special], [32, false]);
        }
        const credentials = secret("slurm-mariadb-credentials").inputs.stringData;
        assert.deepEqual(Object.keys(credentials).sort(), ["password", "root-password"]);
    });

    it("deploys the static stack's MariaDB, sized by storage.databaseSizeGiB in storage.storageClassName", async () => {
        await build(slinkySettings({ storage: { databaseSizeGiB: 7, storageClassName: "fast-ssd" } }));
        const mariadb = engine.named("kubernetes:apps/v1:StatefulSet", "slurm-mariadb").inputs.spec;
        assert.deepEqual(mariadb.volumeClaimTemplates[0].spec, {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "fast-ssd",
            resources: { requests: { storage: "7Gi" } },
        });
        const env = mariadb.template.spec.containers[0].env;
        assert.deepEqual(env.find((e: { name: string }) => e.name === "MARIADB_PASSWORD").valueFrom, {
            secretKeyRef: { name: "mariadb-credentials", key: "password" },
        });
        assert.equal(engine.named("kubernetes:core/v1:Service", "slurm-mariadb").inputs.metadata.name, "mariadb");
    });

    it("keeps generated secrets out of values, other objects and the connection", async () => {
        const slurm = await build(slinkySettings({ compute: { gpus: 1 } }, true));
        for (const r of engine.resources) {
            if (r.type === "kubernetes:core/v1:Secret" || r.type.startsWith("random:")) continue;
            assert.ok(
                !JSON.stringify(r.inputs).includes(PLACEHOLDER_MARK),
                `${r.type} ${r.name} holds a generated secret`,
            );
        }
        assert.ok(!JSON.stringify(await valueOf(slurm.connection)).includes(PLACEHOLDER_MARK));
    });

    it("orders cert-manager, CRDs before the operator; operator, Secrets, MariaDB before slurm", async () => {
        const deps = dependencyRecorder();
        await build(slinkySettings(), { transformations: [deps.transformation] });
        assert.deepEqual(deps.dependsOn("slurm-operator"), ["slurm-cert-manager", "slurm-operator-crds"]);
        assert.deepEqual(deps.dependsOn("slurm-slurm"), [
            "slurm-mariadb",
            "slurm-mariadb",
            "slurm-mariadb-credentials",
            "slurm-operator",
            "slurm-operator-crds",
            "slurm-slurm-auth-jwt",
            "slurm-slurm-auth-slurm",
        ]);
        assert.deepEqual(deps.dependsOn("slurm-operator-crds"), []);
        assert.deepEqual(deps.dependsOn("slurm-cert-manager"), []);
    });

    it("keeps the URNs of both earlier layouts: the component's, and its release as the release made before", async () => {
        const deps = dependencyRecorder();
        await build(slinkySettings(), { transformations: [deps.transformation] });
        // Stacks made while the component was used (before commit 442f9c8): the component has its old URN, so its
        // release, `<component>-helm` under it, has too.
        assert.ok(
            registeredUrns().includes(
                "urn:pulumi:test::ai-hyperscaler::hyperscaler:slurm:SlinkySlurm$kubernetes-cert-manager:index:CertManager::slurm-cert-manager",
            ),
        );
        // Stacks made since, with the release as SlinkySlurm's own child: the transform (run by the engine on the
        // component's children, never under mocks) aliases the component's release to that URN.
        const [transform] = deps.options("slurm-cert-manager").transforms ?? [];
        const child = {
            custom: true,
            type: "kubernetes:helm.sh/v3:Release",
            props: { chart: "cert-manager" },
            opts: {},
        };
        const result = await transform({ ...child, name: "slurm-cert-manager-helm" });
        assert.ok(result, "the component's release is transformed");
        assert.deepEqual(result.props, child.props, "only its options change");
        const aliases = await Promise.all((result.opts.aliases ?? []).map((a) => valueOf(pulumi.output(a as string))));
        assert.deepEqual(aliases, [
            // What the version before registered (read from its run under these mocks).
            "urn:pulumi:test::ai-hyperscaler::hyperscaler:slurm:SlinkySlurm$kubernetes:helm.sh/v3:Release::slurm-cert-manager",
        ]);
        assert.equal(await transform({ ...child, name: "slurm-operator" }), undefined, "other resources pass");
        assert.equal(
            await transform({ ...child, type: "kubernetes:core/v1:Secret", name: "slurm-cert-manager-helm" }),
            undefined,
        );
    });

    it("refuses an unpinned helper image, and passes a mirror's to the slurm chart", async () => {
        const settings = slinkySettings();
        assert.throws(() => {
            const namespace = new SlurmNamespace("h", { namespace: "slurm", mode: "slinky" });
            new SlinkySlurm("h", { ...settings, namespace, helperImage: "alpine:latest" });
        }, /args\.helperImage = "alpine:latest": must be a container image reference pinned by a tag other than latest/);
        await settle();
        engine.reset();
        await build(slinkySettings({ helperImage: "mirror.example.com/alpine:3.22" }));
        const values = release("slurm-slurm").inputs.values;
        const image = { repository: "mirror.example.com/alpine", tag: "3.22" };
        assert.deepEqual(
            [
                values.controller.logfile.image,
                values.nodesetDefaults.logfile.image,
                values.loginsetDefaults.initconf.image,
            ],
            [image, image, image],
        );
    });

    it("exposes the connection: namespace, controller address, commands, Secret names", async () => {
        const slurm = await build(slinkySettings({ namespace: "hpc" }));
        assert.deepEqual(await valueOf(slurm.connection), slinkyConnection({ namespace: "hpc" }));
    });

    it("gives its children the Kubernetes provider from its options", async () => {
        const provider = new k8s.Provider("lab", { kubeconfig: "{}" });
        await build(slinkySettings(), { provider });
        for (const r of engine.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"))) {
            assert.match(
                r.provider ?? "",
                /pulumi:providers:kubernetes::lab::/,
                `${r.type} ${r.name} should use the provider "lab"`,
            );
        }
    });

    it("refuses a namespace made for the static stack, and bad arguments, registering nothing", async () => {
        const settings = slinkySettings();
        assert.throws(() => {
            const namespace = new SlurmNamespace("s", { namespace: "slurm", mode: "static" });
            new SlinkySlurm("s", { ...settings, namespace });
        }, /args\.namespace\.mode = "static": must be "slinky"/);
        await settle();
        engine.reset();
        const namespace = {} as SlurmNamespace;
        assert.throws(
            () =>
                new SlinkySlurm("s", {
                    ...settings,
                    namespace,
                    compute: { ...settings.compute, replicas: 1.5 },
                    partitions: [],
                }),
            (e: Error) =>
                /args\.namespace = "object": must be a SlurmNamespace component/.test(e.message) &&
                /args\.compute\.replicas = 1\.5: must be a whole number from 0 to 100000/.test(e.message) &&
                /args\.partitions = \[\]: must list at least one partition/.test(e.message),
        );
        await settle();
        assert.deepEqual(engine.resources, []);
    });
});
