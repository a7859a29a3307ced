/**
 * The lab's users in the Slurm image's entrypoint (users.sh): the users' ConfigMap's passwd and group fragments,
 * checked before anything starts, planned in a dry run, and appended to /etc/passwd and /etc/group (here files in a
 * scratch folder) with homes made 0700 for their users; a second start changes nothing, and an entry that would
 * shadow one of the image's accounts is refused.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ENTRYPOINT, fixture, planLines, run, SLURM_CONF, useScratch } from "./entrypointScript";

// The current user's ids, so that the homes can be handed to them without root; as root, any user's.
const uid = process.getuid?.() || 1001;
const gid = process.getgid?.() || 1001;
const PASSWD = `alice:x:${uid}:${gid}:alice:/home/alice:/bin/bash\n`;
const GROUP = `alice:x:${gid}:\nphysics:x:2000:alice\n`;
const IMAGE_PASSWD = "root:x:0:0:root:/root:/bin/bash\nslurm:x:64030:64030::/nonexistent:/usr/sbin/nologin\n";
const IMAGE_GROUP = "root:x:0:\nslurm:x:64030:\n";

/** Runs install_users of the entrypoint's library in bash, as the roles do after validation. */
function install(env: Record<string, string>, makeHomes: boolean) {
    const dir = path.dirname(ENTRYPOINT);
    const script = [
        "set -euo pipefail",
        `source ${dir}/lib.sh`,
        `source ${dir}/wait.sh`,
        `source ${dir}/users.sh`,
        `MAKE_HOMES=${makeHomes ? 1 : 0}`,
        "collect_users",
        "install_users",
    ].join("\n");
    return spawnSync("bash", ["-c", script], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8" });
}

function withImageFiles(env: Record<string, string>): Record<string, string> {
    fs.writeFileSync(env.ETC_PASSWD, IMAGE_PASSWD);
    fs.writeFileSync(env.ETC_GROUP, IMAGE_GROUP);
    return env;
}

describe("slurm image entrypoint: the lab's users", function () {
    useScratch();

    it("plans each user, and a home on the roles where jobs or logins run", async () => {
        const users = { passwd: PASSWD, group: GROUP };
        const compute = await run(["compute"], fixture("plan-compute", { slurmConf: SLURM_CONF, users }));
        assert.equal(compute.status, 0, compute.stderr);
        assert.deepEqual(planLines(compute, "user"), ["alice"]);
        assert.equal(planLines(compute, "home").length, 1);
        const ctld = await run(["slurmctld"], fixture("plan-ctld", { slurmConf: SLURM_CONF, users }));
        assert.deepEqual([planLines(ctld, "user"), planLines(ctld, "home")], [["alice"], []]);
    });

    it("starts with no users when the ConfigMap is not mounted", async () => {
        const result = await run(["compute"], fixture("no-users", { slurmConf: SLURM_CONF }));
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(planLines(result, "user"), []);
    });

    for (const [what, users, message] of [
        ["a passwd line that is not an entry", { passwd: "alice:x:1001\n", group: "" }, "not a passwd entry"],
        ["a group line that is not an entry", { passwd: PASSWD, group: "physics::2000\n" }, "not a group entry"],
        ["a passwd fragment without its group fragment", { passwd: PASSWD }, "missing group of the users"],
    ] as const) {
        it(`refuses ${what} before anything starts`, async () => {
            const env = fixture(`bad-${what.replace(/\W+/g, "-")}`, { slurmConf: SLURM_CONF, users });
            const result = await run(["compute"], env);
            assert.notEqual(result.status, 0);
            assert.ok(result.stderr.includes(message), result.stderr);
            assert.equal(result.stdout, "", "nothing planned");
        });
    }

    it("appends the entries, makes the home 0700 for its user, and changes nothing on a second start", () => {
        const env = withImageFiles(
            fixture("install", { slurmConf: SLURM_CONF, users: { passwd: PASSWD, group: GROUP } }),
        );
        const first = install(env, true);
        assert.equal(first.status, 0, first.stderr);
        assert.equal(fs.readFileSync(env.ETC_PASSWD, "utf8"), IMAGE_PASSWD + PASSWD);
        assert.equal(fs.readFileSync(env.ETC_GROUP, "utf8"), IMAGE_GROUP + GROUP);
        const home = fs.statSync(path.join(env.HOME_ROOT, "alice"));
        assert.equal(home.mode & 0o777, 0o700);
        assert.deepEqual([home.uid, home.gid], [uid, gid]);
        const again = install(env, true);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(fs.readFileSync(env.ETC_PASSWD, "utf8"), IMAGE_PASSWD + PASSWD, "a restart appends nothing");
    });

    it("makes no home where MAKE_HOMES is 0 (slurmctld, slurmdbd)", () => {
        const env = withImageFiles(
            fixture("no-homes", { slurmConf: SLURM_CONF, users: { passwd: PASSWD, group: GROUP } }),
        );
        assert.equal(install(env, false).status, 0);
        assert.equal(fs.existsSync(path.join(env.HOME_ROOT, "alice")), false);
    });

    for (const [what, passwd] of [
        ["a name the image has", `slurm:x:${uid}:${gid}:x:/home/slurm:/bin/bash\n`],
        ["an id the image has", "mallory:x:64030:64030:m:/home/mallory:/bin/bash\n"],
    ]) {
        it(`refuses an entry with ${what}, adding nothing`, () => {
            const env = withImageFiles(
                fixture(`shadow-${what.replace(/\W+/g, "-")}`, { slurmConf: SLURM_CONF, users: { passwd, group: "" } }),
            );
            const result = install(env, false);
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /already has an entry named \S+ or with id \d+/);
            assert.equal(fs.readFileSync(env.ETC_PASSWD, "utf8"), IMAGE_PASSWD);
        });
    }
});
