/**
 * Every pair of this project's stacks (each Pulumi.<stack>.yaml, with its defaults) can run at once on one host:
 * Docker refuses a second container that publishes a host port another already binds ("port is already
 * allocated"), and kind refuses a second cluster of an existing name. Each stack's bindings are the ones its Kind
 * config publishes (kindPortMappings, which index.ts hands the Kind cluster).
 */
import { strict as assert } from "node:assert";
import { parseStackConfig, kindPortMappings, StackConfig } from "../../config/schema";
import { hostPortsClash } from "../../config/rules";
import { readStackSettings, stackNames } from "../../config/stackFile";

/** The host bindings of `a` that Docker could not publish while `b` runs, as `port/protocol on address` lines. */
function clashes(a: StackConfig, b: StackConfig): string[] {
    return kindPortMappings(a).flatMap((m) =>
        kindPortMappings(b)
            .filter((o) => hostPortsClash(m, o))
            .map(() => `${m.hostPort}/${m.protocol} on ${m.listenAddress}`),
    );
}

const kindName = (config: StackConfig) => (config.cluster.type === "kind" ? config.cluster.name : undefined);

describe("stacks side by side", () => {
    const stacks = stackNames().map((name) => ({ name, config: parseStackConfig(readStackSettings(name)) }));

    it("reads every stack file of the project (dev and gpu at least)", () => {
        assert.ok(
            ["dev", "gpu"].every((s) => stacks.some((t) => t.name === s)),
            stacks.map((s) => s.name).join(),
        );
    });

    it("no two stacks publish the same host port, nor name the same Kind cluster", () => {
        for (const [i, a] of stacks.entries()) {
            for (const b of stacks.slice(i + 1)) {
                assert.deepEqual(clashes(a.config, b.config), [], `${a.name} and ${b.name} bind the same host ports`);
                const name = kindName(a.config);
                if (name !== undefined) assert.notEqual(name, kindName(b.config), `${a.name} and ${b.name}`);
            }
        }
    });

    it("the gpu stack maps no tenant pool (no tenants, maxTenants 0), only its SSH and REST ports", () => {
        const gpu = stacks.find((s) => s.name === "gpu")!.config;
        assert.deepEqual(
            kindPortMappings(gpu).map((m) => m.hostPort),
            [gpu.slurm.login.port, gpu.slurm.restApi.port],
        );
        assert.deepEqual(gpu.vcluster.tenants, []);
    });

    it("the check can fail: two stacks with the default pool clash on every port, a wildcard on any address", () => {
        const withTenants = parseStackConfig({ vcluster: { tenants: [{ name: "a" }] } });
        assert.deepEqual(clashes(withTenants, parseStackConfig({})), [
            "31443/TCP on 127.0.0.1",
            "31444/TCP on 127.0.0.1",
            "31445/TCP on 127.0.0.1",
            "31446/TCP on 127.0.0.1",
            "31447/TCP on 127.0.0.1",
            "30084/TCP on 127.0.0.1",
            "30085/TCP on 127.0.0.1",
        ]);
        const web = (listenAddress: string) =>
            parseStackConfig({
                cluster: { portMappings: [{ containerPort: 30080, hostPort: 8080, listenAddress }] },
                vcluster: { maxTenants: 0 },
                slurm: { mode: "none" },
            });
        assert.deepEqual(clashes(web("0.0.0.0"), web("127.0.0.1")), ["8080/TCP on 0.0.0.0"]);
        assert.deepEqual(clashes(web("127.0.0.2"), web("127.0.0.1")), [], "two loopback addresses do not clash");
    });
});
