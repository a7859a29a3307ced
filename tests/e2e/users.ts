/**
 * The lab's users, end to end, in the scenario of slurm.e2e.ts: a key made here with ssh-keygen goes into
 * `slurm.users` of the render; a real `ssh` client on this machine logs in to the login container's sshd as that
 * user, runs `sbatch` and `srun` as them, and `curl` calls the real slurmrestd with a token from `scontrol token`.
 * Root and password logins are refused; the user cannot read the MUNGE key or another user's home.
 */
import { strict as assert } from "node:assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PodmanLab } from "./harness/lab";
import { waitFor } from "./harness/podman";
import { podmanTransport } from "./harness/podmanTransport";
import { formatReport, runChecks, SLURM_TARGET } from "../../verify/checks";
import { userChecks } from "../../verify/userChecks";
import { PORTS } from "../../components/slurm/topology";
import { REST_API_VERSION } from "../../components/slurm/userAccess";

/** The users of the e2e render: alice logs in with the test's key; bob has no key. */
export const E2E_USERS = (publicKey: string) => [
    { name: "alice", uid: 1001, sshAuthorizedKeys: [publicKey] },
    { name: "bob", uid: 1002 },
];

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a program on this machine, bounded by `timeoutMs`; never rejects on a non-zero exit. */
export function host(file: string, args: readonly string[], timeoutMs = 60_000): Promise<Run> {
    return new Promise((resolve) => {
        execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            const code = error ? (typeof error.code === "number" ? error.code : 124) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
    });
}

/** Makes an ed25519 key pair in `dir` (`ssh-keygen -t ed25519 -N ''`); returns its private key path and public line. */
export async function makeUserKey(dir: string): Promise<{ key: string; publicKey: string }> {
    const key = path.join(dir, "id_ed25519");
    const made = await host("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice@e2e", "-f", key]);
    assert.equal(made.code, 0, made.stderr);
    return { key, publicKey: fs.readFileSync(`${key}.pub`, "utf8").trim() };
}

/** What the user cases need from the scenario, read when they run (the `before` hook fills it). */
export interface UsersScenario {
    /** The running lab. */
    readonly lab: PodmanLab;
    /** The login pod's name. */
    readonly login: string;
    /** The run's folder: the first render is `render-1` in it. */
    readonly dir: string;
    /** The private key of alice's public key in the render. */
    readonly key: string;
}

/** The user cases, as `it`s of the calling `describe`; `scenario` is asked when they run. */
export function describeUsers(scenario: () => UsersScenario, commandTimeoutMs: number, jobTimeoutMs: number): void {
    const ctx = {
        lab: () => scenario().lab,
        login: () => scenario().login,
        renderDir: () => path.join(scenario().dir, "render-1"),
        workDir: () => scenario().dir,
        key: () => scenario().key,
        commandTimeoutMs,
        jobTimeoutMs,
    };
    let knownHosts = "";
    let hostKey = "";
    const address = () => ctx.lab().address(ctx.login());
    const ssh = (user: string, command: string, extra: string[] = []) =>
        host(
            "ssh",
            [
                ...["-p", String(PORTS.sshd), "-i", ctx.key(), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"],
                ...["-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
                ...["-o", "ConnectTimeout=20", ...extra, `${user}@${address()}`, command],
            ],
            ctx.commandTimeoutMs,
        );

    it("sshd answers with the stack's host key (the public half of the Secret's key)", async () => {
        const file = path.join(ctx.renderDir(), "slurm", "02-secret.slurm-ssh-host-key.yaml");
        const secret = parse(fs.readFileSync(file, "utf8"));
        const privateKey = path.join(ctx.workDir(), "host-key");
        fs.writeFileSync(privateKey, secret.stringData.ssh_host_ed25519_key, { mode: 0o600 });
        const derived = await host("ssh-keygen", ["-y", "-f", privateKey]);
        assert.equal(derived.code, 0, derived.stderr);
        hostKey = derived.stdout.trim().split(" ").slice(0, 2).join(" ");
        const scan = await host("ssh-keyscan", ["-t", "ed25519", "-p", String(PORTS.sshd), address()]);
        assert.equal(scan.stdout.trim().split(" ").slice(1, 3).join(" "), hostKey, scan.stderr);
        knownHosts = path.join(ctx.workDir(), "known_hosts");
        fs.writeFileSync(knownHosts, `[${address()}]:${PORTS.sshd} ${hostKey}\n`);
    });

    it("alice logs in with her key, checked against known_hosts, and is herself there", async () => {
        const r = await ssh("alice", "hostname; id -un; id -u; pwd");
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), ["login", "alice", "1001", "/home/alice"]);
    });

    it("refuses root (even with a key listed for alice), passwords, and bob, who has no key", async () => {
        const root = await ssh("root", "true");
        assert.equal(root.code, 255);
        assert.match(root.stderr, /Permission denied \(publickey\)/);
        const password = await ssh("alice", "true", [
            ...["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"],
        ]);
        assert.equal(password.code, 255);
        // The server offers public keys only: no password or keyboard-interactive method at all.
        assert.match(password.stderr, /Permission denied \(publickey\)/);
        assert.equal((await ssh("bob", "true")).code, 255);
    });

    it("sbatch as alice runs as alice on a compute node: her output file, sacct -u alice", async () => {
        const submitted = await ssh("alice", "sbatch --parsable --wrap 'id -un; id -u; touch mine'");
        assert.equal(submitted.code, 0, submitted.stderr);
        const job = submitted.stdout.trim().split(";")[0];
        const row = await waitFor(
            `alice's job ${job} COMPLETED in sacct -u alice`,
            async () => {
                const r = await ssh("alice", `sacct -n -X -P -u alice -j ${job} -o State,User,NodeList`);
                const [state, user, node] = r.stdout.trim().split("|");
                return state === "COMPLETED" ? { user, node } : undefined;
            },
            ctx.jobTimeoutMs,
        );
        assert.equal(row.user, "alice");
        // Root in the pod cannot even enter her 0700 home (no CAP_DAC_READ_SEARCH): look as alice.
        const asAlice = (command: string) =>
            ctx.lab().sh(row.node, `setpriv --reuid=1001 --regid=1001 --clear-groups ${command}`);
        const owned = await asAlice(`stat -c '%U %u %a' /home/alice/slurm-${job}.out /home/alice/mine`);
        assert.deepEqual(owned.trim().split("\n"), ["alice 1001 644", "alice 1001 644"]);
        assert.equal(await asAlice(`cat /home/alice/slurm-${job}.out`), "alice\n1001\n");
        assert.equal(
            (await ctx.lab().sh(row.node, "stat -c '%U %a' /home/alice /home/bob")).trim(),
            "alice 700\nbob 700",
        );
    });

    it("srun as alice runs as alice; she cannot read the MUNGE key or bob's home, here or on a node", async () => {
        const r = await ssh("alice", "srun -N1 id -un");
        assert.deepEqual([r.code, r.stdout.trim()], [0, "alice"], r.stderr);
        for (const command of ["cat /etc/munge/munge.key", "cat /etc/munge-secret/munge.key", "ls /home/bob"]) {
            const here = await ssh("alice", command);
            assert.notEqual(here.code, 0, command);
            assert.match(here.stderr, /Permission denied/, command);
            const there = await ssh("alice", `srun -N1 ${command}`);
            assert.notEqual(there.code, 0, `srun ${command}`);
        }
    });

    it("each user has an association with the account users, made by the controller pod", async () => {
        const assoc = await waitFor(
            "associations of alice and bob",
            async () => {
                const out = await ctx
                    .lab()
                    .sh(ctx.login(), "sacctmgr -n -P show assoc where account=users format=user");
                const users = out.trim().split("\n").filter(Boolean).sort();
                return users.includes("alice") && users.includes("bob") ? users : undefined;
            },
            ctx.jobTimeoutMs,
        );
        assert.deepEqual(assoc, ["alice", "bob"]);
    });

    it("a user no longer listed loses the association, and keeps the job history", async () => {
        const job = (
            await ctx
                .lab()
                .sh(
                    ctx.login(),
                    "setpriv --reuid=bob --regid=1002 --init-groups bash -c 'cd /home/bob && sbatch --parsable --wrap true'",
                )
        ).trim();
        await waitFor(
            `bob's job ${job} in sacct`,
            async () =>
                (await ctx.lab().sh(ctx.login(), `sacct -n -X -P -j ${job} -o State`)).trim() === "COMPLETED"
                    ? true
                    : undefined,
            ctx.jobTimeoutMs,
        );
        // The controller's sync, as a start with bob gone from the ConfigMap runs it.
        const dir = "/usr/local/lib/slurm-entrypoint";
        await ctx
            .lab()
            .sh(
                "slurmctld-0",
                `source ${dir}/lib.sh; source ${dir}/wait.sh; source ${dir}/accounts.sh; USER_NAMES=(alice); sync_accounts`,
            );
        const left = await ctx.lab().sh(ctx.login(), "sacctmgr -n -P show assoc where account=users format=user");
        assert.deepEqual(left.trim().split("\n").filter(Boolean), ["alice"]);
        assert.match(await ctx.lab().sh(ctx.login(), `sacct -n -X -P -u bob -j ${job} -o State`), /^COMPLETED$/m);
    });

    it("slurmrestd answers curl with a token alice got from scontrol token", async () => {
        const token = await ssh("alice", "scontrol token lifespan=300");
        assert.equal(token.code, 0, token.stderr);
        const jwt = /^SLURM_JWT=(\S+)$/m.exec(token.stdout)?.[1];
        assert.ok(jwt, "scontrol token printed SLURM_JWT=<token>");
        const url = `http://${ctx.lab().address("restapi-e2e0")}:${PORTS.slurmrestd}/slurm/${REST_API_VERSION}/jobs`;
        const curl = (user: string, t: string) =>
            host("curl", [
                "-sS",
                "-w",
                "\n%{http_code}",
                "-H",
                `X-SLURM-USER-NAME: ${user}`,
                "-H",
                `X-SLURM-USER-TOKEN: ${t}`,
                url,
            ]);
        const ok = await curl("alice", jwt);
        const status = ok.stdout.trim().split("\n").pop();
        assert.equal(status, "200", ok.stdout.slice(0, 500));
        const body = JSON.parse(ok.stdout.slice(0, ok.stdout.lastIndexOf("\n")));
        assert.ok(
            body.jobs.some((j: { user_name: string }) => j.user_name === "alice"),
            "alice's jobs are listed",
        );
        const bad = await curl("alice", `${jwt.slice(0, -4)}AAAA`);
        assert.notEqual(bad.stdout.trim().split("\n").pop(), "200", "a forged token is refused");
    });

    it("passes verify's user checks through podman exec", async () => {
        const transport = podmanTransport({ [SLURM_TARGET]: ctx.lab().containerOf(ctx.login()) });
        const expect = {
            user: "alice",
            hostKey,
            sshPort: PORTS.sshd,
            restUrl: `http://restapi:${PORTS.slurmrestd}`,
            restVersion: REST_API_VERSION,
        };
        const report = await runChecks("e2e", userChecks(expect, transport));
        console.log(formatReport(report));
        assert.deepEqual(
            report.checks.filter((c) => !c.ok),
            [],
        );
        assert.equal(report.checks.length, 3);
    });
}
