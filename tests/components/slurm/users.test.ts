/**
 * The users' files (passwd and group fragments, authorized keys), the SSH host key made from a seed, and the
 * commands users paste: golden files, the real ssh-keygen and sshd reading the key, and every Service type.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../../config/schema";
import { sshHostKey } from "../../../components/slurm/sshHostKey";
import { renderUserFiles, usersConfigMap } from "../../../components/slurm/users";
import { userAccess } from "../../../components/slurm/userAccess";
import { KEYS } from "../../config/sshKeys";

const GOLDEN = path.join(__dirname, "golden");
const DOCKER = path.resolve(__dirname, "../../../containers/images/slurm-base/Docker");

function assertGolden(name: string, actual: string): void {
    const file = path.join(GOLDEN, name);
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, actual);
    assert.equal(actual, fs.readFileSync(file, "utf8"), `${name} differs from its golden file (UPDATE_GOLDEN=1)`);
}

const lab = parseStackConfig({
    slurm: {
        users: [
            { name: "alice", uid: 1001, groups: ["physics"], sshAuthorizedKeys: [KEYS.ed25519, ` ${KEYS.rsa2048} `] },
            { name: "bob", uid: 1002, gid: 2000 },
            { name: "carol", uid: 1003, groups: ["alice", "physics"] },
        ],
        groups: [{ name: "physics", gid: 2000 }],
    },
}).slurm;

function scratch<T>(use: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "users-test-"));
    try {
        return use(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("the lab's users as files", () => {
    it("renders passwd, group and each user's authorized keys as the golden files", () => {
        const files = renderUserFiles(lab);
        assert.deepEqual(Object.keys(files), ["authorized_keys.alice", "group", "passwd"], "no keys file for bob");
        assertGolden("users.passwd", files.passwd);
        assertGolden("users.group", files.group);
        assertGolden("users.authorized_keys.alice", files["authorized_keys.alice"]);
        assert.equal(files["authorized_keys.alice"], `${KEYS.ed25519}\n${KEYS.rsa2048}\n`, "trimmed, one per line");
    });

    it("gives bob the listed group of his gid and the others groups of their own", () => {
        const group = renderUserFiles(lab).group;
        assert.match(group, /^physics:x:2000:alice,carol$/m);
        assert.match(group, /^alice:x:1001:carol$/m);
        assert.doesNotMatch(group, /^bob:/m, "bob's gid is physics'");
    });

    it("is deterministic, and its checksum changes with a user (which rolls the pods)", () => {
        const one = usersConfigMap({ namespace: "slurm" }, lab);
        assert.deepEqual(usersConfigMap({ namespace: "slurm" }, lab), one);
        const fewer = usersConfigMap({ namespace: "slurm" }, { users: lab.users.slice(1), groups: lab.groups });
        assert.notEqual(fewer.checksum, one.checksum);
        assert.deepEqual(usersConfigMap({ namespace: "slurm" }, { users: [], groups: [] }).object.data, {
            group: "",
            passwd: "",
        });
    });
});

describe("the login's SSH host key, from a 32-byte seed", () => {
    const seed = Buffer.from("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "hex");

    it("is the same for the same seed, another for another", () => {
        assert.deepEqual(sshHostKey(seed, "login"), sshHostKey(Buffer.from(seed), "login"));
        assert.notEqual(sshHostKey(Buffer.alloc(32, 1), "login").publicKey, sshHostKey(seed, "login").publicKey);
        assert.throws(() => sshHostKey(Buffer.alloc(31), "login"), /32 bytes, got 31/);
    });

    it("is read by the real ssh-keygen, which derives the same public key, and accepted by sshd -t", function () {
        // openssh-server is a test tool here (.ci/run installs it with openssh-client); say so rather than pass.
        if (!fs.existsSync("/usr/sbin/sshd")) this.skip();
        const key = sshHostKey(seed, "login");
        assert.match(
            key.privateKey,
            /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n$/,
        );
        scratch((dir) => {
            const file = path.join(dir, "ssh_host_ed25519_key");
            fs.writeFileSync(file, key.privateKey, { mode: 0o600 });
            assert.equal(execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim(), key.publicKey);
            // The image's sshd_config, with this key: what the login role's `sshd -t` checks at start.
            fs.mkdirSync("/run/sshd", { recursive: true });
            const check = spawnSync("/usr/sbin/sshd", ["-t", "-f", path.join(DOCKER, "sshd_config"), "-h", file], {
                encoding: "utf8",
            });
            assert.equal(check.status, 0, check.stderr);
        });
    });

    it("never puts its seed or private key into the public line", () => {
        const key = sshHostKey(seed, "login");
        assert.match(key.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} login$/);
        assert.ok(!Buffer.from(key.publicKey.split(" ")[1], "base64").includes(seed));
    });
});

describe("the commands users paste (slurmInfo.ssh, knownHosts, restApi)", () => {
    const base = {
        namespace: "slurm",
        users: lab.users,
        hostKey: "ssh-ed25519 AAAAkey login",
        onKind: true,
        login: { serviceType: "NodePort" as const, port: 30084 },
        restApi: { serviceType: "NodePort" as const, port: 30085 },
    };

    it("on Kind: ssh -p <port> <user>@127.0.0.1 for each user with keys, and curl of the jobs", () => {
        const access = userAccess(base);
        assert.deepEqual(access.ssh, { alice: "ssh -p 30084 alice@127.0.0.1" });
        assert.equal(access.knownHosts, "[127.0.0.1]:30084 ssh-ed25519 AAAAkey");
        assert.equal(access.restApi.token, "export $(ssh -p 30084 alice@127.0.0.1 scontrol token lifespan=3600)");
        assert.equal(
            access.restApi.jobs,
            'curl -H "X-SLURM-USER-NAME: alice" -H "X-SLURM-USER-TOKEN: $SLURM_JWT" http://127.0.0.1:30085/slurm/v0.0.41/jobs',
        );
    });

    it("elsewhere: a node's address, the load balancer's, or a port-forward", () => {
        const existing = { ...base, onKind: false };
        assert.equal(userAccess(existing).ssh.alice, "ssh -p 30084 alice@<a node's address>");
        const lb = userAccess({ ...existing, login: { serviceType: "LoadBalancer", port: 30084 } });
        assert.match(lb.ssh.alice, /^ssh alice@\$\(kubectl -n slurm get service login-ssh -o jsonpath=/);
        const forwarded = userAccess({ ...existing, login: { serviceType: "ClusterIP", port: 30084 } });
        assert.equal(
            forwarded.ssh.alice,
            "kubectl -n slurm port-forward service/login-ssh 2222:22 & ssh -p 2222 alice@127.0.0.1",
        );
        const rest = userAccess({ ...existing, restApi: { serviceType: "ClusterIP", port: 30085 } }).restApi;
        assert.equal(rest.url, "kubectl -n slurm port-forward service/restapi 6820:6820 & http://127.0.0.1:6820");
    });

    it("with no user with keys: no ssh command, and <user> in the REST commands", () => {
        const access = userAccess({ ...base, users: [] });
        assert.deepEqual(access.ssh, {});
        assert.match(access.restApi.jobs, /X-SLURM-USER-NAME: <user>/);
    });
});
