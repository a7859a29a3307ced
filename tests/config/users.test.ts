/**
 * `slurm.users`, `slurm.groups` and the static stack's SSH/REST ports: each class of bad input refused with its own
 * message naming the setting, the value and what is allowed; good input accepted and resolved.
 */
import { strict as assert } from "node:assert";
import { parseStackConfig, slurmPortMappings } from "../../config/schema";
import { sshPublicKeyProblem } from "../../config/userRules";
import { assertAccepted, assertRefused, problemsOf } from "./helpers";
import { KEYS } from "./sshKeys";

const alice = { name: "alice", uid: 1001, sshAuthorizedKeys: [KEYS.ed25519] };
const withUsers = (users: unknown[], extra: Record<string, unknown> = {}) => ({ slurm: { users, ...extra } });

/** A key line of `type` whose wire format holds `embedded` as its type string, followed by `rest`. */
function keyLine(type: string, embedded: string, rest = Buffer.alloc(32, 7)): string {
    const name = Buffer.from(embedded);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(name.length);
    return `${type} ${Buffer.concat([length, name, rest]).toString("base64")} test`;
}

describe("slurm.users and slurm.groups", () => {
    describe("accepted", () => {
        it("a user with every key type ssh-keygen makes, and the gid resolved to the uid", () => {
            const config = parseStackConfig(withUsers([{ ...alice, sshAuthorizedKeys: Object.values(KEYS) }]));
            assert.deepEqual(config.slurm.users, [
                { ...alice, sshAuthorizedKeys: Object.values(KEYS), gid: 1001, groups: [] },
            ]);
        });

        it("FIDO keys (sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com)", () => {
            for (const type of ["sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"]) {
                assert.equal(sshPublicKeyProblem(keyLine(type, type)), undefined, type);
            }
        });

        it("the id boundaries 1000 and 60000, names of 1 and 32 characters, '_' first", () => {
            assertAccepted(
                withUsers([
                    { name: "a", uid: 1000 },
                    { name: "_b".padEnd(32, "x"), uid: 60000, gid: 60000 },
                ]),
            );
        });

        it("groups shared through slurm.groups, and a user's own group named in another's groups", () => {
            const config = parseStackConfig(
                withUsers(
                    [
                        { name: "alice", uid: 1001, gid: 2000 },
                        { name: "bob", uid: 1002 },
                        { name: "carol", uid: 1003, gid: 2000, groups: ["bob", "physics"] },
                    ],
                    { groups: [{ name: "physics", gid: 2000 }] },
                ),
            );
            assert.deepEqual(
                config.slurm.users.map((u) => u.gid),
                [2000, 1002, 2000],
            );
        });

        it("no users by default", () => {
            assert.deepEqual(parseStackConfig({}).slurm.users, []);
            assert.deepEqual(parseStackConfig({}).slurm.groups, []);
        });
    });

    describe("refused, one problem each", () => {
        for (const name of ["Alice", "1alice", "al ice", "a".repeat(33), "", "al.ice", "-a"]) {
            it(`a name that is not a POSIX name: ${JSON.stringify(name)}`, () => {
                assertRefused(
                    withUsers([{ name, uid: 1001 }]),
                    `slurm.users[0].name = ${JSON.stringify(name)}`,
                    "POSIX name",
                );
            });
        }

        for (const name of ["root", "slurm", "munge", "sshd", "slurmrestd", "nobody"]) {
            it(`a name the image already has: ${name}`, () => {
                assertRefused(
                    withUsers([{ name, uid: 1001 }]),
                    `slurm.users[0].name = "${name}"`,
                    "none of the system's own",
                );
            });
        }

        for (const uid of [0, 999, 60001, 1001.5, -1]) {
            it(`uid ${uid}: no root, no system ids, whole numbers up to 60000`, () => {
                assertRefused(
                    withUsers([{ name: "alice", uid }]),
                    `slurm.users[0].uid = ${uid}`,
                    "from 1000 to 60000",
                    "no root",
                );
            });
        }

        it("a gid outside the range", () => {
            assertRefused(
                withUsers([{ name: "alice", uid: 1001, gid: 0 }]),
                "slurm.users[0].gid = 0",
                "from 1000 to 60000",
            );
        });

        it("a missing uid", () => {
            assertRefused(withUsers([{ name: "alice" }]), "slurm.users[0].uid = (missing)", "is required");
        });

        it("a repeated name", () => {
            assertRefused(
                withUsers([alice, { ...alice, uid: 1002 }]),
                'slurm.users[1].name = "alice"',
                "already the name of entry 0",
            );
        });

        it("a repeated uid", () => {
            assertRefused(
                withUsers([alice, { name: "bob", uid: 1001, gid: 1002 }]),
                "slurm.users[1].uid = 1001",
                "must be unique",
            );
        });

        it("two users sharing a gid that no group lists", () => {
            assertRefused(
                withUsers([
                    { name: "alice", uid: 1001, gid: 2000 },
                    { name: "bob", uid: 1002, gid: 2000 },
                ]),
                "slurm.users[1].gid = 2000",
                "list the shared group in slurm.groups",
            );
        });

        it("a group name that is not POSIX, and a repeated group name or gid", () => {
            assertRefused(
                withUsers([], { groups: [{ name: "Physics", gid: 2000 }] }),
                'slurm.groups[0].name = "Physics"',
            );
            assertRefused(
                withUsers([], {
                    groups: [
                        { name: "a", gid: 2000 },
                        { name: "a", gid: 2001 },
                    ],
                }),
                'slurm.groups[1].name = "a"',
            );
            assertRefused(
                withUsers([], {
                    groups: [
                        { name: "a", gid: 2000 },
                        { name: "b", gid: 2000 },
                    ],
                }),
                "slurm.groups[1].gid = 2000",
            );
        });

        it("a user's own group whose name a listed group with another gid has", () => {
            assertRefused(
                withUsers([alice], { groups: [{ name: "alice", gid: 2000 }] }),
                "slurm.users[0].gid = 1001",
                "must be 2000",
            );
        });

        it("a supplementary group that no entry defines", () => {
            assertRefused(
                withUsers([{ ...alice, groups: ["physics"] }]),
                'slurm.users[0].groups[0] = "physics"',
                "names no group",
            );
            assertRefused(withUsers([{ ...alice, groups: ["Bad"] }]), 'slurm.users[0].groups[0] = "Bad"', "POSIX name");
        });

        const badKeys: [string, string, string][] = [
            ["not a string", "", "OpenSSH public key line"],
            ["an unknown type", KEYS.ed25519.replace("ssh-ed25519", "ssh-dss"), 'the type "ssh-dss" is none of'],
            ["options before the type", `from="10.0.0.1" ${KEYS.ed25519}`, "no options before it"],
            ["two keys on one entry", `${KEYS.ed25519}\n${KEYS.rsa2048}`, "one key per list entry"],
            ["a body that is not base64", "ssh-ed25519 AAAA$$$$ me", "is not base64"],
            ["no body", "ssh-ed25519", "is not base64"],
            [
                "a body of another type",
                `ssh-ed25519 ${KEYS.rsa2048.split(" ")[1]}`,
                'says it is "ssh-rsa", not ssh-ed25519',
            ],
            ["a body too short for its type string", "ssh-ed25519 AAAAC3Nz", "no key at all"],
            [
                "a body with the type and nothing else",
                keyLine("ssh-ed25519", "ssh-ed25519", Buffer.alloc(0)),
                "holds only its type",
            ],
            ["a private key pasted", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n", "looks like a private key"],
        ];
        for (const [what, key, message] of badKeys) {
            it(`an SSH key: ${what}`, () => {
                const keys = what === "not a string" ? [42] : [key];
                const line = assertRefused(
                    withUsers([{ ...alice, sshAuthorizedKeys: keys }]),
                    "slurm.users[0].sshAuthorizedKeys[0] =",
                    message,
                );
                if (what === "a private key pasted") assert.ok(!line.includes("BEGIN"), "a PEM block is not repeated");
            });
        }

        it("users, groups or a shared home outside the static stack", () => {
            assertRefused(
                withUsers([alice], { mode: "slinky" }),
                "slurm.users = ",
                "only for slurm.mode static, not slinky",
            );
            assertRefused(
                { slurm: { mode: "none", sharedHome: "nfs" } },
                'slurm.sharedHome = "nfs"',
                "only for slurm.mode static",
            );
        });

        it("reports every bad user at once", () => {
            const problems = problemsOf(
                withUsers([
                    { name: "Root", uid: 0 },
                    { name: "bob", uid: 1, sshAuthorizedKeys: ["x"] },
                ]),
            );
            assert.equal(problems.length, 4, problems.join("\n"));
        });
    });

    describe("the static stack's SSH and REST ports", () => {
        it("default 30084 and 30085, NodePort on Kind and ClusterIP on an existing cluster, mapped on Kind", () => {
            const kind = parseStackConfig({});
            assert.deepEqual(kind.slurm.login, { port: 30084, serviceType: "NodePort" });
            assert.deepEqual(kind.slurm.restApi, { port: 30085, serviceType: "NodePort" });
            assert.deepEqual(
                slurmPortMappings(kind.slurm).map((m) => [m.hostPort, m.containerPort, m.listenAddress]),
                [
                    [30084, 30084, "127.0.0.1"],
                    [30085, 30085, "127.0.0.1"],
                ],
            );
            const existing = parseStackConfig({ cluster: { type: "existing" }, slurm: { image: "r.example/slurm:1" } });
            assert.equal(existing.slurm.login.serviceType, "ClusterIP");
            assert.equal(existing.slurm.restApi.serviceType, "ClusterIP");
            assert.deepEqual(slurmPortMappings(parseStackConfig({ slurm: { mode: "none" } }).slurm), []);
        });

        it("a service type given is kept", () => {
            const config = parseStackConfig({ slurm: { login: { serviceType: "LoadBalancer" } } });
            assert.equal(config.slurm.login.serviceType, "LoadBalancer");
            assertRefused(
                { slurm: { login: { serviceType: "External" } } },
                'slurm.login.serviceType = "External"',
                "ClusterIP, NodePort, LoadBalancer",
            );
        });

        it("the two ports equal, or taken by a tenant, the tenant pool or a host port mapping", () => {
            assertRefused(
                { slurm: { restApi: { port: 30084 } } },
                "slurm.restApi.port = 30084",
                "already slurm.login.port",
            );
            assertRefused({ slurm: { login: { port: 31444 } } }, "slurm.login.port = 31444", "tenant pool 31443-31447");
            assertRefused(
                { slurm: { login: { port: 30001 } }, vcluster: { tenants: [{ name: "a", kubeletPort: 30001 }] } },
                "slurm.login.port = 30001",
                "the kubeletPort of vcluster.tenants[0]",
            );
            assertRefused(
                { cluster: { portMappings: [{ containerPort: 30085, hostPort: 30085 }] } },
                "slurm.restApi.port = 30085",
                "cluster.portMappings[0]",
            );
            assertRefused({ slurm: { login: { port: 29999 } } }, "slurm.login.port = 29999", "from 30000 to 32767");
        });
    });
});
