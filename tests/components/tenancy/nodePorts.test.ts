/**
 * The NodePorts each tenant's vCluster Service gets, rendered as vcluster 0.36.1's `templates/service.yaml` renders
 * them (lines 26-45) from the values the program hands each release over the chart's own defaults (the vendored
 * values.yaml): a port whose nodePort is 0 is one Kubernetes picks at random, and its random picks favour the
 * range above 30085, where the tenants' API ports are. No tenant's install may leave a port to chance.
 */
import { strict as assert } from "node:assert";
import { STATIC_NODE_PORT_BAND } from "../../../config/rules";
import { runProgram } from "../../../evaluation/program";
import { loadChartYaml } from "../chartValues";

type Values = Record<string, any>;

/** One port of the rendered Service: its name and nodePort (0: chosen by Kubernetes). */
interface RenderedPort {
    readonly name: string;
    readonly nodePort: number;
}

/** Helm's merge of user values over chart defaults: maps merge key by key, anything else replaces. */
function merge(defaults: Values, values: Values): Values {
    const out: Values = { ...defaults };
    for (const [key, value] of Object.entries(values)) {
        const base = defaults[key];
        const bothMaps = [base, value].every((v) => v && typeof v === "object" && !Array.isArray(v));
        out[key] = bothMaps ? merge(base, value) : value;
    }
    return out;
}

/** The Service ports the chart renders for `values` (NodePort and LoadBalancer Services, no custom spec.ports). */
function renderedServicePorts(values: Values): RenderedPort[] {
    const v = merge(loadChartYaml("vcluster-0.36.1.values.yaml") as Values, values);
    const service = v.controlPlane.service;
    assert.ok(service.enabled && !service.spec.ports, "this helper renders only the chart's own port list");
    const ports: RenderedPort[] = [{ name: "https", nodePort: service.httpsNodePort ?? 0 }];
    if (v.integrations.istio.enabled) ports.push({ name: "wake-http", nodePort: service.httpsNodePort ?? 0 });
    if (v.networking.advanced.proxyKubelets.byHostname && service.spec.type !== "LoadBalancer")
        ports.push({ name: "kubelet", nodePort: service.kubeletNodePort ?? 0 });
    return ports;
}

/** Each tenant's rendered ports, for a stack with these `vcluster` settings. */
async function tenantPorts(vcluster: Values, cluster: Values = {}): Promise<Map<string, RenderedPort[]>> {
    const run = await runProgram({ cluster, slurm: { mode: "none" }, vcluster });
    const releases = run.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "vcluster");
    return new Map(releases.map((r) => [r.inputs.name as string, renderedServicePorts(r.inputs.values)]));
}

describe("tenant NodePorts as the vcluster chart renders them", () => {
    it("the helper renders what the chart does: by default a random kubelet NodePort beside a random https one", () => {
        assert.deepEqual(renderedServicePorts({ controlPlane: { service: { spec: { type: "NodePort" } } } }), [
            { name: "https", nodePort: 0 },
            { name: "kubelet", nodePort: 0 },
        ]);
        assert.deepEqual(renderedServicePorts({ controlPlane: { service: { spec: { type: "LoadBalancer" } } } }), [
            { name: "https", nodePort: 0 },
        ]);
    });

    it("pins every NodePort of every tenant of a full pool, each distinct; kubelet ports in 30000-30085", async () => {
        const names = ["a", "b", "c", "d", "e"];
        const ports = await tenantPorts({ tenants: names.map((name) => ({ name, argocd: false })) });
        assert.deepEqual([...ports.keys()].sort(), names);
        const all = [...ports.values()].flat();
        assert.deepEqual(
            all.filter((p) => p.nodePort === 0),
            [],
            "a nodePort of 0 is picked at random and may be a later tenant's port",
        );
        const numbers = all.map((p) => p.nodePort);
        assert.equal(new Set(numbers).size, numbers.length, `repeated NodePorts: ${numbers.join(", ")}`);
        assert.deepEqual(ports.get("a"), [
            { name: "https", nodePort: 31443 },
            { name: "kubelet", nodePort: 30000 },
        ]);
        for (const p of all.filter((p) => p.name === "kubelet")) {
            assert.ok(p.nodePort >= STATIC_NODE_PORT_BAND.min && p.nodePort <= STATIC_NODE_PORT_BAND.max);
        }
    });

    it("keeps a tenant's ports when another tenant is added or removed before it (pinned ports)", async () => {
        const before = await tenantPorts({ tenants: [{ name: "b", port: 31444, argocd: false }] });
        const after = await tenantPorts({
            tenants: [
                { name: "a", argocd: false },
                { name: "b", port: 31444, argocd: false },
            ],
        });
        assert.deepEqual(after.get("b"), before.get("b"));
    });

    it("takes a kubeletPort that is set, and gives a LoadBalancer Service none", async () => {
        const set = await tenantPorts({ tenants: [{ name: "a", kubeletPort: 30085, argocd: false }] });
        assert.deepEqual(set.get("a"), [
            { name: "https", nodePort: 31443 },
            { name: "kubelet", nodePort: 30085 },
        ]);
        const lb = await tenantPorts(
            { serviceType: "LoadBalancer", tenants: [{ name: "a", server: "https://a.example.com", argocd: false }] },
            { type: "existing" },
        );
        assert.deepEqual(lb.get("a"), [{ name: "https", nodePort: 0 }]);
    });
});
