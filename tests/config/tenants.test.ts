import { strict as assert } from "node:assert";
import { parseStackConfig, tenantPortMappings } from "../../config/schema";
import { assertAccepted, assertRefused, problemsOf } from "./helpers";

const existing = (vcluster: Record<string, unknown>) => ({
    cluster: { type: "existing" },
    slurm: { mode: "none" },
    vcluster,
});

describe("vCluster tenant settings", () => {
    it("resolve ports from firstPort and servers on Kind, with Argo CD on by default", () => {
        const { vcluster } = parseStackConfig({
            vcluster: { tenants: [{ name: "a" }, { name: "b", argocd: false }, { name: "c", port: 31447 }] },
        });
        assert.deepEqual(vcluster, {
            firstPort: 31443,
            maxTenants: 5,
            serviceType: "NodePort",
            tenants: [
                { name: "a", argocd: true, port: 31443, kubeletPort: 30000, server: "https://127.0.0.1:31443" },
                { name: "b", argocd: false, port: 31444, kubeletPort: 30001, server: "https://127.0.0.1:31444" },
                { name: "c", argocd: true, port: 31447, kubeletPort: 30004, server: "https://127.0.0.1:31447" },
            ],
        });
    });

    it("keep a server that is set, and take LoadBalancer", () => {
        const { vcluster } = parseStackConfig(
            existing({ serviceType: "LoadBalancer", tenants: [{ name: "a", server: "https://a.example.com" }] }),
        );
        assert.equal(vcluster.serviceType, "LoadBalancer");
        assert.deepEqual(vcluster.tenants[0], {
            name: "a",
            argocd: true,
            port: 31443,
            server: "https://a.example.com",
        });
    });

    it("tenantPortMappings maps the whole pool on 127.0.0.1, whatever the tenants", () => {
        const expected = [31443, 31444, 31445].map((p) => ({
            containerPort: p,
            hostPort: p,
            protocol: "TCP",
            listenAddress: "127.0.0.1",
        }));
        assert.deepEqual(tenantPortMappings({ firstPort: 31443, maxTenants: 3 }), expected);
        assert.deepEqual(tenantPortMappings({ firstPort: 32000, maxTenants: 0 }), []);
        const none = parseStackConfig({}).vcluster;
        const two = parseStackConfig({ vcluster: { tenants: [{ name: "a" }, { name: "b" }] } }).vcluster;
        assert.deepEqual(tenantPortMappings(none), tenantPortMappings(two), "adding tenants keeps the Kind cluster");
        assert.equal(tenantPortMappings(none).length, 5);
    });

    describe("refuse", () => {
        it("more tenants than maxTenants on Kind", () => {
            assertRefused(
                { vcluster: { maxTenants: 1, tenants: [{ name: "a" }, { name: "b" }] } },
                'vcluster.tenants = ["a","b"]',
                "vcluster.maxTenants is 1",
            );
            assertAccepted(
                existing({
                    maxTenants: 1,
                    tenants: [
                        { name: "a", server: "https://a" },
                        { name: "b", server: "https://b" },
                    ],
                }),
            );
        });
        it("a port outside the pool on Kind", () => {
            assertRefused(
                { vcluster: { tenants: [{ name: "a", port: 31448 }] } },
                "vcluster.tenants[0].port = 31448",
                "the pool 31443-31447",
            );
            assertRefused(
                { vcluster: { tenants: [{ name: "a", port: 31442 }] } },
                "vcluster.tenants[0].port = 31442",
                "the pool 31443-31447",
            );
            assertAccepted({ vcluster: { tenants: [{ name: "a", port: 31447 }] } });
            assertAccepted(
                existing({ tenants: [{ name: "a", port: 30000, kubeletPort: 30001, server: "https://a" }] }),
            );
        });
        it("two tenants on one port, given or defaulted", () => {
            assertRefused(
                { vcluster: { tenants: [{ name: "a" }, { name: "b", port: 31443 }] } },
                "vcluster.tenants[1].port = 31443",
                "vcluster.tenants[0]",
            );
        });
        it("a cluster port mapping inside the tenant pool", () => {
            assertRefused(
                { cluster: { portMappings: [{ containerPort: 80, hostPort: 31445 }] } },
                "cluster.portMappings[0].hostPort = 31445",
                "tenant port pool 31443-31447",
            );
            assertAccepted({ cluster: { portMappings: [{ containerPort: 80, hostPort: 31448 }] } });
            assertAccepted({ cluster: { portMappings: [{ containerPort: 80, hostPort: 31442 }] } });
        });
        it("ports outside 30000-32767", () => {
            assertRefused({ vcluster: { firstPort: 29999 } }, "vcluster.firstPort = 29999", "from 30000 to 32767");
            assertRefused({ vcluster: { firstPort: 32768 } }, "vcluster.firstPort = 32768", "from 30000 to 32767");
            assertRefused(
                existing({ tenants: [{ name: "a", port: 32768, server: "https://a" }] }),
                "vcluster.tenants[0].port = 32768",
            );
            assertRefused(
                { vcluster: { firstPort: 32765 } },
                "vcluster.maxTenants = 5",
                "runs past the NodePort range",
            );
            assertAccepted({ vcluster: { firstPort: 32763 } });
        });
        it("a server that is not an https URL", () => {
            for (const server of [
                "http://a.example.com",
                "a.example.com:443",
                "https://user:pw@a.example.com",
                "https://",
            ]) {
                assertRefused(
                    existing({ tenants: [{ name: "a", server }] }),
                    "vcluster.tenants[0].server",
                    "https URL",
                );
            }
        });
        it("an existing cluster's tenant without a server", () => {
            assertRefused(
                existing({ tenants: [{ name: "a" }] }),
                "vcluster.tenants[0].server = (missing)",
                "required with cluster.type existing",
            );
        });
        it("tenant names longer than 40, and unknown tenant fields", () => {
            assertRefused({ vcluster: { tenants: [{ name: `a${"b".repeat(40)}` }] } }, "at most 40 characters");
            assertAccepted({ vcluster: { tenants: [{ name: `a${"b".repeat(39)}` }] } });
            assertRefused(
                { vcluster: { tenants: [{ name: "a", argo: true }] } },
                "vcluster.tenants[0].argo: unknown setting",
                "name, argocd, port, kubeletPort, server",
            );
        });
        it("an unknown service type and a maxTenants out of range", () => {
            assertRefused({ vcluster: { serviceType: "ClusterIP" } }, "one of NodePort, LoadBalancer");
            assertRefused({ vcluster: { maxTenants: 51 } }, "from 0 to 50");
            assert.equal(problemsOf({ vcluster: { maxTenants: 0 } }).length, 0);
            assertRefused({ vcluster: { maxTenants: 0, tenants: [{ name: "a" }] } }, "vcluster.maxTenants is 0");
        });
    });
});
