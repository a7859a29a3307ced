import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    CERT_MANAGER_CHART_VERSION,
    DATABASE_PASSWORD_REF,
    SLINKY_KEY_SECRETS,
    certManagerArgs,
    certManagerValues,
    slinkyConnection,
    slinkyImage,
    slinkyOperatorValues,
    slinkySlurmValues,
} from "../../../components/slinky/values";
import { DEFAULT_SLINKY_HELPER_IMAGE } from "../../../config/schema";
import { slinkySettings } from "./settings";
import { CHARTS_DIR, leafPaths, loadChartJson, loadChartYaml, schemaProblems, unknownValueKeys } from "../chartValues";

const OPERATOR_VALUES = "slinky-slurm-operator-1.2.1.values.yaml";
const SLURM_VALUES = "slinky-slurm-1.2.1.values.yaml";
const CERT_MANAGER_VALUES = `cert-manager-${CERT_MANAGER_CHART_VERSION}.values.yaml`;
const CERT_MANAGER_SCHEMA = `cert-manager-${CERT_MANAGER_CHART_VERSION}.values.schema.json`;
/** The `@pulumi/kubernetes-cert-manager` component's Pulumi schema, of the version package.json pins. */
const COMPONENT_SCHEMA = "pulumi-kubernetes-cert-manager-0.2.0.schema.json";
/** Map-valued keys of the slurm chart whose entries take the shape of another upstream value. */
const SLURM_TEMPLATES = { nodesets: "nodesetDefaults", loginsets: "loginsetDefaults", partitions: "partitions.all" };

/**
 * The keys a `secretKeyRef`-shaped value of the slurm chart takes, read from the commented example under
 * `<section>.secretRef` in the chart's values.yaml (the templates read `$ref.name` and `$ref.key`).
 */
function documentedSecretRef(section: string): Record<string, string> {
    const text = fs.readFileSync(path.join(CHARTS_DIR, SLURM_VALUES), "utf8");
    const match = new RegExp(`^${section}:\\n(?:  .*\\n)*?  secretRef: \\{\\}\\n((?:    # \\w+: .*\\n)+)`, "m").exec(
        text,
    );
    assert.ok(match, `no documented ${section}.secretRef in ${SLURM_VALUES}`);
    return Object.fromEntries([...match[1].matchAll(/# (\w+): (\S+)/g)].map((m) => [m[1], m[2]]));
}

describe("slinkySlurmValues", () => {
    it("maps compute replicas and shape onto the one NodeSet", () => {
        const values = slinkySlurmValues(slinkySettings({ compute: { replicas: 5, cpus: 2, memoryMiB: 3000 } }));
        assert.deepEqual(Object.keys(values.nodesets), ["compute"]);
        const compute = values.nodesets.compute;
        assert.equal(compute.replicas, 5);
        assert.deepEqual(compute.slurmd.resources, {
            requests: { cpu: "2", memory: "3000Mi" },
            limits: { cpu: "2", memory: "3000Mi" },
        });
        assert.deepEqual(compute.extraConfMap, { CPUs: "2", RealMemory: "3000" });
        assert.equal(compute.oversubscribeNode, true);
        assert.deepEqual(values.configFiles, {});
        assert.deepEqual(values.controller.extraConfMap, {}, "no GRES lines without GPUs");
    });

    it("declares GPUs as GRES: GresTypes=gpu in slurm.conf, Gres on the nodes, GPUs from the device plugin", () => {
        const values = slinkySlurmValues(slinkySettings({ compute: { gpus: 2 } }, true));
        assert.deepEqual(values.controller.extraConfMap, { GresTypes: ["gpu"], AccountingStorageTRES: ["gres/gpu"] });
        const compute = values.nodesets.compute;
        assert.equal(compute.slurmd.resources.limits["nvidia.com/gpu"], "2");
        assert.equal(compute.slurmd.resources.requests["nvidia.com/gpu"], undefined);
        assert.deepEqual(compute.extraConfMap.Gres, ["gpu:2"]);
        assert.equal(values.configFiles["gres.conf"], "AutoDetect=nvidia\n");
    });

    it("reads the auth keys from Secrets Pulumi makes, under the names and keys the chart's templates use", () => {
        const values = slinkySlurmValues(slinkySettings());
        assert.deepEqual(values.slurmKey, { create: false, secretRef: { name: "slurm-auth-slurm", key: "slurm.key" } });
        assert.deepEqual(values.jwtKey, { create: false, secretRef: { name: "slurm-auth-jwt", key: "jwt.key" } });
        // The same shape, names and keys as the chart documents for release "slurm".
        assert.deepEqual(values.slurmKey.secretRef, documentedSecretRef("slurmKey"));
        assert.deepEqual(values.jwtKey.secretRef, documentedSecretRef("jwtKey"));
        assert.equal(
            loadChartYamlAt(["slurmKey", "create"]),
            true,
            "the chart would make its own key unless told not to",
        );
    });

    it("turns accounting on against the project's MariaDB, the password from its Secret", () => {
        const { accounting } = slinkySlurmValues(slinkySettings());
        assert.deepEqual(accounting, {
            enabled: true,
            storageConfig: {
                host: "mariadb",
                port: 3306,
                database: "slurm_acct_db",
                username: "slurm",
                passwordKeyRef: { name: "mariadb-credentials", key: "password" },
            },
        });
        assert.deepEqual(accounting.storageConfig.passwordKeyRef, DATABASE_PASSWORD_REF);
        // Every storageConfig key is one the chart has (passwordKeyRef included, with its name and key).
        assert.deepEqual(
            Object.keys(accounting.storageConfig).sort(),
            Object.keys(loadChartYamlAt(["accounting", "storageConfig"])).sort(),
        );
        assert.deepEqual(Object.keys(accounting.storageConfig.passwordKeyRef).sort(), ["key", "name"]);
    });

    it("turns each partition into a partition over the compute NodeSet", () => {
        const values = slinkySlurmValues(
            slinkySettings({ partitions: [{ name: "batch" }, { name: "debug", default: true, maxTimeMinutes: 30 }] }),
        );
        assert.deepEqual(values.partitions, {
            batch: { enabled: true, nodesets: ["compute"], configMap: { Default: "NO", MaxTime: "UNLIMITED" } },
            debug: { enabled: true, nodesets: ["compute"], configMap: { Default: "YES", MaxTime: "30" } },
        });
        assert.equal(slinkySlurmValues(slinkySettings()).partitions.batch.configMap.Default, "YES");
    });

    it("sets the cluster name, the state volume and a ClusterIP login", () => {
        const values = slinkySlurmValues(
            slinkySettings({ clusterName: "hpc", storage: { stateSizeGiB: 3, storageClassName: "fast" } }),
        );
        assert.equal(values.clusterName, "hpc");
        assert.deepEqual(values.controller.persistence, {
            storageClassName: "fast",
            resources: { requests: { storage: "3Gi" } },
        });
        assert.deepEqual(values.loginsets, { slinky: { enabled: true, service: { spec: { type: "ClusterIP" } } } });
        assert.equal("storageClassName" in slinkySlurmValues(slinkySettings()).controller.persistence, false);
    });

    it("sets only keys that exist in the slurm chart's values.yaml", () => {
        const upstream = loadChartYaml(SLURM_VALUES);
        const values = slinkySlurmValues(
            slinkySettings(
                {
                    compute: { gpus: 1 },
                    partitions: [{ name: "batch" }, { name: "gpu", maxTimeMinutes: 60 }],
                    storage: { storageClassName: "standard" },
                },
                true,
            ),
        );
        assert.deepEqual(unknownValueKeys(values, upstream, SLURM_TEMPLATES), []);
        for (const leaf of [
            "nodesets.compute.replicas",
            "accounting.storageConfig.passwordKeyRef.key",
            "controller.extraConfMap.GresTypes",
        ]) {
            assert.ok(leafPaths(values).includes(leaf), leaf);
        }
        // The check can fail: a key the NodeSet shape does not have, and one the chart does not have at all.
        assert.deepEqual(
            unknownValueKeys({ nodesets: { compute: { replica: 1 } }, nodeset: {} }, upstream, SLURM_TEMPLATES),
            ["nodesets.compute.replica", "nodeset"],
        );
    });
});

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's merge of user values over the chart's: maps merge key by key, anything else replaces. */
function overChart(chart: unknown, user: unknown): unknown {
    if (!isMap(chart) || !isMap(user)) return user === undefined ? chart : user;
    const out: Record<string, unknown> = { ...chart };
    for (const [key, value] of Object.entries(user)) out[key] = overChart(chart[key], value);
    return out;
}

/**
 * The image of each helper container the slurm chart 1.2.1 renders for `values`: the chart's values.yaml under
 * ours, a NodeSet/LoginSet as `mergeOverwrite` of its defaults and its entry (templates/nodeset/nodeset-cr.yaml,
 * loginset/loginset-cr.yaml), then `slurm.format-image` (templates/_helpers.tpl): `repository@digest` when there
 * is a digest, else `repository:tag`.
 */
function helperImages(values: Record<string, any>): Record<string, string> {
    const merged = overChart(loadChartYaml(SLURM_VALUES), values) as Record<string, any>;
    const format = (image: any): string =>
        typeof image === "string"
            ? image
            : image.digest
              ? `${image.repository}@${image.digest}`
              : `${image.repository}:${image.tag}`;
    const nodeset = overChart(merged.nodesetDefaults, merged.nodesets?.compute ?? {}) as Record<string, any>;
    const loginset = overChart(merged.loginsetDefaults, merged.loginsets?.slinky ?? {}) as Record<string, any>;
    return {
        "controller.logfile": format(merged.controller.logfile.image),
        "nodeset compute logfile": format(nodeset.logfile.image),
        "loginset slinky initconf": format(loginset.initconf.image),
    };
}

describe("the slurm chart's helper containers (issue 17, item 6)", () => {
    const everywhere = (image: string) => ({
        "controller.logfile": image,
        "nodeset compute logfile": image,
        "loginset slinky initconf": image,
    });

    it("run the pinned default image, not the chart's alpine:latest", () => {
        // The chart's own values, recorded upstream: the defect this guards against.
        assert.deepEqual(
            helperImages({ nodesets: { compute: {} }, loginsets: { slinky: {} } }),
            everywhere("docker.io/library/alpine:latest"),
        );
        assert.deepEqual(
            helperImages(slinkySlurmValues(slinkySettings())),
            everywhere("docker.io/library/alpine:3.22"),
        );
        assert.equal(DEFAULT_SLINKY_HELPER_IMAGE, "docker.io/library/alpine:3.22");
    });

    it("run slurm.helperImage, from a mirror, by tag or by digest", () => {
        const digest = `sha256:${"ab".repeat(32)}`;
        for (const [helperImage, rendered] of [
            ["mirror.example.com:5000/library/alpine:3.22", "mirror.example.com:5000/library/alpine:3.22"],
            [`mirror.example.com/alpine:3.22@${digest}`, `mirror.example.com/alpine@${digest}`],
            [`mirror.example.com:5000/alpine@${digest}`, `mirror.example.com:5000/alpine@${digest}`],
        ]) {
            const values = slinkySlurmValues(slinkySettings({ helperImage }));
            assert.deepEqual(helperImages(values), everywhere(rendered), helperImage);
            assert.deepEqual(unknownValueKeys(values, loadChartYaml(SLURM_VALUES), SLURM_TEMPLATES), []);
        }
        assert.deepEqual(slinkyImage(`mirror.example.com:5000/alpine:3.22@${digest}`), {
            repository: "mirror.example.com:5000/alpine",
            tag: "3.22",
            digest,
        });
    });
});

/** The value at `keys` in the slurm chart's values.yaml. */
function loadChartYamlAt(keys: string[]): any {
    return keys.reduce<any>((node, key) => node?.[key], loadChartYaml(SLURM_VALUES));
}

describe("slinkyOperatorValues", () => {
    it("keeps the CRDs out of the operator release and uses cert-manager, with keys the chart has", () => {
        assert.deepEqual(slinkyOperatorValues(), { crds: { enabled: false }, certManager: { enabled: true } });
        const upstream = loadChartYaml(OPERATOR_VALUES);
        assert.deepEqual(unknownValueKeys(slinkyOperatorValues(), upstream), []);
        assert.deepEqual(unknownValueKeys({ certmanager: { enabled: true } }, upstream), ["certmanager"]);
    });
});

describe("certManagerValues", () => {
    it("installs the CRDs through crds.enabled, not the deprecated installCRDs", () => {
        assert.deepEqual(certManagerValues(), { crds: { enabled: true } });
        assert.equal("installCRDs" in certManagerValues(), false);
        assert.equal((loadChartYaml(CERT_MANAGER_VALUES) as any).crds.enabled, false, "off by default upstream");
    });

    it("is valid for the pinned chart's values.yaml and values.schema.json", () => {
        assert.match(CERT_MANAGER_CHART_VERSION, /^v1\.(19|[2-9]\d)\.\d+$/, "a supported release line (1.19 or later)");
        assert.deepEqual(unknownValueKeys(certManagerValues(), loadChartYaml(CERT_MANAGER_VALUES)), []);
        const schema = loadChartJson(CERT_MANAGER_SCHEMA) as Record<string, unknown>;
        assert.deepEqual(schemaProblems(certManagerValues(), schema), []);
        // The schema check can fail: a misspelt key and a wrong type.
        assert.notDeepEqual(schemaProblems({ crds: { enable: true } }, schema), []);
        assert.notDeepEqual(schemaProblems({ crds: { enabled: "yes" } }, schema), []);
    });
});

/**
 * What the cert-manager component's provider hands the chart, as pulumi-go-helmbase v0.2.0 `InitDefaults` does
 * (the component 0.2.0 builds on it): the typed inputs, each at its key, written over `helmOptions.values` (an unset
 * one as null), then the nulls dropped by the Pulumi SDK when it sends the values.
 */
function valuesTheChartGets(helmValues: Record<string, unknown>, typed: Record<string, unknown> = {}): unknown {
    const inputs = Object.keys(
        (loadChartJson(COMPONENT_SCHEMA) as any).resources["kubernetes-cert-manager:index:CertManager"].inputProperties,
    ).filter((key) => key !== "helmOptions");
    const merged: Record<string, unknown> = { ...helmValues };
    for (const key of inputs) merged[key] = typed[key] ?? null;
    return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null));
}

describe("certManagerArgs (the @pulumi/kubernetes-cert-manager component)", () => {
    const schema = loadChartJson(COMPONENT_SCHEMA) as any;

    it("passes everything through helmOptions, whose fields the component's schema has", () => {
        const args = certManagerArgs();
        assert.deepEqual(Object.keys(args), ["helmOptions"], "no typed input: they would overwrite helmOptions.values");
        const release = schema.types["kubernetes-cert-manager:index:Release"].properties;
        for (const key of Object.keys(args.helmOptions)) assert.ok(key in release, `helmOptions.${key}`);
        assert.ok("repo" in schema.types["kubernetes-cert-manager:index:RepositoryOpts"].properties);
        assert.equal(args.helmOptions.version, CERT_MANAGER_CHART_VERSION);
        assert.equal(
            (require("@pulumi/kubernetes-cert-manager/package.json") as { version: string }).version,
            "0.2.0",
            "the installed component is the one whose schema (and provider) these tests read",
        );
    });

    it("gets crds.enabled to the chart: crds is not a typed input, which would overwrite it", () => {
        assert.deepEqual(valuesTheChartGets(certManagerArgs().helmOptions.values), { crds: { enabled: true } });
        const typed = Object.keys(schema.resources["kubernetes-cert-manager:index:CertManager"].inputProperties);
        for (const key of Object.keys(certManagerValues())) assert.ok(!typed.includes(key), key);
        // The model can fail: a value under a typed input's key is lost, and the typed input wins.
        assert.deepEqual(valuesTheChartGets({ installCRDs: true, webhook: { replicaCount: 2 } }), {});
        assert.deepEqual(valuesTheChartGets({ installCRDs: false }, { installCRDs: true }), { installCRDs: true });
    });
});

describe("slinkyConnection", () => {
    it("points at Slinky's controller service and login deployment, and names Secrets only", () => {
        const info = slinkyConnection({ namespace: "hpc" });
        assert.equal(info.namespace, "hpc");
        assert.equal(info.controllerAddress, "slurm-controller.hpc.svc.cluster.local:6817");
        assert.equal(info.commands.sinfo, "kubectl --namespace hpc exec deployment/slurm-login-slinky -- sinfo");
        assert.equal(
            info.commands.accounting,
            "kubectl --namespace hpc exec deployment/slurm-login-slinky -- sacct --allusers",
        );
        assert.equal(info.commands.restapi, "kubectl --namespace hpc port-forward service/slurm-restapi 6820");
        assert.deepEqual(info.secretNames, [
            SLINKY_KEY_SECRETS.slurmKey.name,
            SLINKY_KEY_SECRETS.jwtKey.name,
            "mariadb-credentials",
        ]);
    });
});
