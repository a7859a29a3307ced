import { strict as assert } from "node:assert";
import {
    argocdValues,
    kubeconfigSecretRef,
    serverHost,
    tenantCommands,
    vclusterValues,
} from "../../../components/tenancy/values";
import { leafPaths, loadChartJson, loadChartYaml, schemaProblems, unknownValueKeys } from "../chartValues";

const VCLUSTER_VALUES = "vcluster-0.36.1.values.yaml";
const VCLUSTER_SCHEMA = "vcluster-0.36.1.values.schema.json";
const ARGOCD_VALUES = "argo-cd-10.1.1.values.yaml";
const NODEPORT = {
    tenantName: "team-a",
    serviceType: "NodePort",
    port: 31443,
    kubeletPort: 30000,
    server: "https://127.0.0.1:31443",
} as const;
const LOADBALANCER = {
    tenantName: "team-b",
    serviceType: "LoadBalancer",
    port: 31444,
    server: "https://team-b.vc.example.com:8443",
} as const;

describe("vclusterValues", () => {
    it("publishes NodePort <port>, exports a kubeconfig for <server>, signs the certificate for its host", () => {
        assert.deepEqual(vclusterValues(NODEPORT), {
            controlPlane: {
                service: { spec: { type: "NodePort" }, httpsNodePort: 31443, kubeletNodePort: 30000 },
                proxy: { extraSANs: ["127.0.0.1"] },
            },
            exportKubeConfig: { context: "vcluster-team-a", server: "https://127.0.0.1:31443" },
        });
    });

    it("as a LoadBalancer leaves the node port to Kubernetes and signs for the server's DNS name", () => {
        assert.deepEqual(vclusterValues(LOADBALANCER), {
            controlPlane: {
                service: { spec: { type: "LoadBalancer" } },
                proxy: { extraSANs: ["team-b.vc.example.com"] },
            },
            exportKubeConfig: { context: "vcluster-team-b", server: "https://team-b.vc.example.com:8443" },
        });
    });

    it("sets only keys that exist in the chart's values.yaml", () => {
        const upstream = loadChartYaml(VCLUSTER_VALUES);
        for (const args of [NODEPORT, LOADBALANCER])
            assert.deepEqual(unknownValueKeys(vclusterValues(args), upstream), []);
        assert.deepEqual(leafPaths(vclusterValues(NODEPORT)), [
            "controlPlane.service.spec.type",
            "controlPlane.service.httpsNodePort",
            "controlPlane.service.kubeletNodePort",
            "controlPlane.proxy.extraSANs",
            "exportKubeConfig.context",
            "exportKubeConfig.server",
        ]);
        // The check can fail: a misspelt key is caught.
        assert.deepEqual(unknownValueKeys({ controlPlane: { service: { httpsNodeport: 1 } } }, upstream), [
            "controlPlane.service.httpsNodeport",
        ]);
    });

    it("validates against the chart's values.schema.json", () => {
        const schema = loadChartJson(VCLUSTER_SCHEMA) as Record<string, unknown>;
        for (const args of [NODEPORT, LOADBALANCER]) assert.deepEqual(schemaProblems(vclusterValues(args), schema), []);
        // The schema is strict (additionalProperties: false) and typed, so the check can fail:
        assert.deepEqual(schemaProblems({ exportKubeConfig: { sever: "x" } }, schema), [
            "exportKubeConfig.sever: not allowed by the schema",
        ]);
        assert.deepEqual(schemaProblems({ controlPlane: { service: { httpsNodePort: "31443" } } }, schema), [
            'controlPlane.service.httpsNodePort: expected integer, got "31443"',
        ]);
        assert.deepEqual(schemaProblems({ controlPlane: { proxy: { extraSANs: "127.0.0.1" } } }, schema), [
            'controlPlane.proxy.extraSANs: expected array, got "127.0.0.1"',
        ]);
    });

    it("hands the kubeconfig Secret name vCluster exports, vc-<name>, and its key", () => {
        assert.deepEqual(kubeconfigSecretRef("team-a"), { name: "vc-team-a", key: "config" });
    });
});

describe("serverHost", () => {
    it("takes the host of an https URL, IPv6 without brackets", () => {
        assert.equal(serverHost("https://127.0.0.1:31443"), "127.0.0.1");
        assert.equal(serverHost("https://vc.example.com"), "vc.example.com");
        assert.equal(serverHost("https://[::1]:31443"), "::1");
    });

    it("refuses what is not an https URL", () => {
        assert.throws(() => serverHost("http://127.0.0.1:31443"), /is not an https URL/);
        assert.throws(() => serverHost("127.0.0.1:31443"));
    });
});

describe("argocdValues", () => {
    it("names every object argocd-* and leaves Dex out", () => {
        assert.deepEqual(argocdValues(), { fullnameOverride: "argocd", dex: { enabled: false } });
    });

    it("sets only keys that exist in the chart's values.yaml, with the types upstream has", () => {
        const upstream = loadChartYaml(ARGOCD_VALUES) as { fullnameOverride: unknown; dex: { enabled: unknown } };
        assert.deepEqual(unknownValueKeys(argocdValues(), upstream), []);
        assert.equal(typeof upstream.fullnameOverride, typeof argocdValues().fullnameOverride);
        assert.equal(typeof upstream.dex.enabled, typeof argocdValues().dex.enabled);
        assert.deepEqual(unknownValueKeys({ dex: { enable: false } }, upstream), ["dex.enable"]);
    });
});

describe("tenantCommands", () => {
    const loggedIn = { stack: "dev", env: {} };
    it("saves the kubeconfig privately from the stack output, and reaches Argo CD with it", () => {
        const commands = tenantCommands("team-a", true, loggedIn);
        assert.deepEqual(Object.keys(commands), ["kubeconfig", "namespaces", "argocdUi", "argocdPassword"]);
        assert.equal(
            commands.kubeconfig,
            "pulumi stack output tenantInfo --show-secrets --json --stack dev | " +
                `jq -r '."team-a".kubeconfig' > team-a.kubeconfig && chmod 600 team-a.kubeconfig`,
        );
        assert.equal(
            commands.argocdPassword,
            "pulumi stack output tenantInfo --show-secrets --json --stack dev | " +
                `jq -r '."team-a".argocd.adminPassword'`,
        );
        assert.match(
            commands.argocdUi,
            /^kubectl --kubeconfig team-a\.kubeconfig --namespace argocd port-forward svc\/argocd-server 8080:443 /,
        );
    });

    it("has no Argo CD commands for a tenant without it", () => {
        assert.deepEqual(Object.keys(tenantCommands("team-b", false, loggedIn)), ["kubeconfig", "namespaces"]);
    });

    it("repeats the project-local backend's variables before each pulumi command", () => {
        const cli = {
            stack: "dev",
            env: { PULUMI_BACKEND_URL: "file:///lab/.pulumi-state", PULUMI_CONFIG_PASSPHRASE_FILE: "/lab/p" },
        };
        const commands = tenantCommands("team-a", true, cli);
        const output =
            "PULUMI_BACKEND_URL=file:///lab/.pulumi-state PULUMI_CONFIG_PASSPHRASE_FILE=/lab/p " +
            "pulumi stack output tenantInfo --show-secrets --json --stack dev";
        assert.ok(commands.kubeconfig.startsWith(`${output} | jq`), commands.kubeconfig);
        assert.ok(commands.argocdPassword.startsWith(`${output} | jq`), commands.argocdPassword);
    });
});
