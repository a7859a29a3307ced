import { strict as assert } from "node:assert";
import {
    chartVersion,
    check,
    dnsLabel,
    dnsSubdomain,
    httpsUrl,
    imageReference,
    ipAddress,
    isWildcardAddress,
    kubeconfigPath,
    looksLikeKubeconfigContents,
    namespaceOutside,
    nodePort,
    partitionName,
    port,
    problem,
    refuse,
    show,
    tenantName,
    wholeNumber,
} from "../../config/rules";

describe("config/rules.ts", () => {
    it("dnsLabel: lowercase alphanumerics and '-', ends alphanumeric, at most maxLength", () => {
        for (const ok of ["a", "a-1", "1a", "x".repeat(63)]) assert.ok(dnsLabel().test(ok), ok);
        for (const bad of ["", "A", "a_b", "-a", "a-", "a.b", "x".repeat(64), 3, null]) {
            assert.ok(!dnsLabel().test(bad), String(bad));
        }
        assert.ok(dnsLabel(3).test("abc") && !dnsLabel(3).test("abcd"));
        assert.match(dnsLabel(7).allowed, /at most 7 characters/);
    });

    it("dnsSubdomain: dot-separated labels, at most 253", () => {
        assert.ok(dnsSubdomain.test("a.b-c.d") && dnsSubdomain.test("x".repeat(63)));
        for (const bad of ["a..b", "a.", "A.b", `${"a.".repeat(126)}ab`, 5])
            assert.ok(!dnsSubdomain.test(bad), String(bad));
        assert.ok(dnsSubdomain.test(`${"a.".repeat(126)}a`), "253 characters");
    });

    it("tenantName and partitionName", () => {
        assert.ok(tenantName.test("a1") && !tenantName.test("1a") && !tenantName.test("a".repeat(41)));
        assert.ok(tenantName.test("a".repeat(40)));
        assert.match(tenantName.allowed, /starting with a letter and ending with a letter or digit/);
        for (const bad of ["default", "Default", "DEFAULT"]) assert.ok(!partitionName.test(bad), bad);
        assert.ok(partitionName.test("defaults") && partitionName.test("batch") && !partitionName.test("p".repeat(41)));
        assert.ok(!partitionName.test(7));
    });

    it("chartVersion: exact versions only", () => {
        assert.equal(chartVersion.allowed, "must be an exact chart version such as 1.2.3 or v1.2.3, not a range");
        for (const ok of ["1.2.3", "v1.2.3", "1.2.3-rc.1", "1.2.3+build.5", "10.20.30", "1.2.3-rc1+b2"])
            assert.ok(chartVersion.test(ok), ok);
        for (const bad of ["^1.2.3", "1.2", "~1.2.3", "1.2.3 ", "latest", 1, "1.2.3-", "1.2.3+", "1.2.3-rc 1"])
            assert.ok(!chartVersion.test(bad), String(bad));
    });

    it("imageReference: the name at most 255 characters, tags and digests apart", () => {
        const name = (n: number) => `a/${"b".repeat(n - 2)}`;
        assert.ok(imageReference.test(`${name(255)}:tag`));
        assert.ok(!imageReference.test(`${name(256)}:tag`));
        assert.ok(imageReference.test(`${name(255)}@sha256:${"a".repeat(64)}`));
        assert.ok(imageReference.test(`r:5000/${"b".repeat(240)}:${"T".repeat(128)}`));
        assert.ok(!imageReference.test(`r/s:${"T".repeat(129)}`), "a tag of 129 characters");
        assert.ok(!imageReference.test(42));
    });

    it("wholeNumber, port and nodePort", () => {
        const r = wholeNumber(2, 4);
        assert.deepEqual(
            [1, 2, 4, 5, 2.5, "3", NaN].map((v) => r.test(v)),
            [false, true, true, false, false, false, false],
        );
        assert.equal(r.allowed, "must be a whole number from 2 to 4");
        assert.ok(port.test(1) && port.test(65535) && !port.test(0) && !port.test(65536));
        assert.ok(nodePort.test(30000) && nodePort.test(32767) && !nodePort.test(29999) && !nodePort.test(32768));
    });

    it("ipAddress and isWildcardAddress", () => {
        for (const ok of ["127.0.0.1", "::1", "0.0.0.0", "::", "fe80::1"]) assert.ok(ipAddress.test(ok), ok);
        for (const bad of ["localhost", "[::1]", "127.0.0.1:80", "256.0.0.1", "", 1])
            assert.ok(!ipAddress.test(bad), String(bad));
        for (const any of [
            "0.0.0.0",
            "::",
            "0:0:0:0:0:0:0:0",
            "0000:0000:0000:0000:0000:0000:0000:0000",
            "0:0:0:0:0:0:0:00",
        ]) {
            assert.ok(isWildcardAddress(any), any);
        }
        for (const one of [
            "127.0.0.1",
            "::1",
            "0.0.0.1",
            "0:0:0:0:0:0:0:1",
            "10.0.0.0",
            "ab0:0:0:0:0:0:0:0",
            "0:0:0:0:0:0:0:0001",
        ])
            assert.ok(!isWildcardAddress(one), one);
    });

    it("httpsUrl", () => {
        assert.ok(httpsUrl.test("https://a.example.com") && httpsUrl.test("https://127.0.0.1:31443/x"));
        for (const bad of ["http://a", "https://u@a", "https://:p@a", "not a url", "https://", 443]) {
            assert.ok(!httpsUrl.test(bad), String(bad));
        }
    });

    it("kubeconfig paths versus contents", () => {
        for (const contents of [
            "a\nb",
            "a\rb",
            "{}",
            " [1]",
            "apiVersion: v1",
            "clusters: []",
            "users:",
            "contexts :",
            "current-context: x",
        ]) {
            assert.ok(looksLikeKubeconfigContents(contents), contents);
            assert.ok(!kubeconfigPath.test(contents), contents);
        }
        for (const file of [
            "~/.kube/config",
            "/etc/rancher/k3s/k3s.yaml",
            "kubeconfig-users.yaml",
            "C:\\kube\\config",
            "dir[1]/{x}/config",
        ]) {
            assert.ok(!looksLikeKubeconfigContents(file), file);
            assert.ok(kubeconfigPath.test(file), file);
        }
        assert.ok(!kubeconfigPath.test("  ") && !kubeconfigPath.test("") && !kubeconfigPath.test(5), "blank");
    });

    it("namespaceOutside", () => {
        const r = namespaceOutside(["kube-system", "slinky"]);
        assert.ok(r.test("slurm") && !r.test("slinky") && !r.test("kube-system") && !r.test("Slurm"));
        assert.match(r.allowed, /none of kube-system, slinky$/);
    });

    it("problem, check, show and refuse", () => {
        assert.equal(show(undefined), "(missing)");
        assert.equal(show("a"), '"a"');
        assert.equal(problem("x.y", 3, "must be 4"), "x.y = 3: must be 4");
        assert.deepEqual(check("p", 5, port), []);
        assert.deepEqual(check("p", 0, port), ["p = 0: must be a whole number from 1 to 65535"]);
        assert.doesNotThrow(() => refuse("Thing", "t", []));
        assert.throws(
            () => refuse("Thing", "t", ["a = 1: must be 2", "b = 3: must be 4"]),
            (e: Error) => e.message === 'Thing "t" has invalid arguments:\n  - a = 1: must be 2\n  - b = 3: must be 4',
        );
    });
});
