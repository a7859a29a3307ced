/**
 * Checks across the lab's users and groups (`slurm.users`, `slurm.groups`) and the static stack's two NodePorts
 * (`slurm.login.port`, `slurm.restApi.port`): what each entry cannot tell on its own. Run by `crossChecks` on
 * settings that passed their own schema.
 */
import { problem } from "./rules";
import type { ParsedSettings } from "./settings";

type Parsed = Partial<ParsedSettings>;
type Slurm = ParsedSettings["slurm"];

/** Every problem of the users and groups of `slurm`, one line each. */
export function userChecks(slurm: Slurm): string[] {
    const problems: string[] = [];
    const { users, groups } = slurm;
    if (slurm.mode !== "static") {
        // Slinky's images and manifests know nothing of them: say so rather than ignore them.
        for (const [field, set] of [
            ["users", users.length > 0],
            ["groups", groups.length > 0],
            ["sharedHome", slurm.sharedHome !== undefined],
        ] as const) {
            if (set)
                problems.push(
                    problem(`slurm.${field}`, slurm[field], `is only for slurm.mode static, not ${slurm.mode}`),
                );
        }
        return problems;
    }
    const repeated = <T>(values: readonly T[], where: (i: number) => string, what: string) =>
        values.forEach((v, i) => {
            const first = values.indexOf(v);
            if (first < i)
                problems.push(problem(where(i), v, `is already ${what} of entry ${first}; ${what}s must be unique`));
        });
    repeated(
        users.map((u) => u.name),
        (i) => `slurm.users[${i}].name`,
        "the name",
    );
    repeated(
        users.map((u) => u.uid),
        (i) => `slurm.users[${i}].uid`,
        "the uid",
    );
    repeated(
        groups.map((g) => g.name),
        (i) => `slurm.groups[${i}].name`,
        "the name",
    );
    repeated(
        groups.map((g) => g.gid),
        (i) => `slurm.groups[${i}].gid`,
        "the gid",
    );
    // A user whose gid no listed group has gets a group of their own, named after them, with that gid.
    const own = users.filter((u) => !groups.some((g) => g.gid === (u.gid ?? u.uid)));
    own.forEach((u) => {
        const i = users.indexOf(u);
        const gid = u.gid ?? u.uid;
        const named = groups.findIndex((g) => g.name === u.name);
        if (named >= 0) {
            problems.push(
                problem(
                    `slurm.users[${i}].gid`,
                    gid,
                    `must be ${groups[named].gid}, the gid of slurm.groups[${named}] (${u.name}), or that group renamed: ` +
                        "a user's own group is named after the user",
                ),
            );
        }
        const sharer = own.findIndex((o) => (o.gid ?? o.uid) === gid);
        if (sharer >= 0 && own[sharer] !== u) {
            const other = users.indexOf(own[sharer]);
            if (other < i) {
                problems.push(
                    problem(
                        `slurm.users[${i}].gid`,
                        gid,
                        `is also the gid of slurm.users[${other}], and no slurm.groups entry has it: list the ` +
                            "shared group in slurm.groups (name and gid)",
                    ),
                );
            }
        }
    });
    const known = new Set([...groups.map((g) => g.name), ...own.map((u) => u.name)]);
    users.forEach((u, i) =>
        u.groups.forEach((name, j) => {
            if (!known.has(name)) {
                problems.push(
                    problem(
                        `slurm.users[${i}].groups[${j}]`,
                        name,
                        `names no group: add it to slurm.groups with a gid, or use one of ${[...known].join(", ") || "(none yet)"}`,
                    ),
                );
            }
        }),
    );
    return problems;
}

/**
 * The SSH and REST NodePorts of the static stack: different from each other and, where the same Kubernetes
 * cluster or Kind node has them, from the tenants' NodePorts and the other host ports.
 */
export function slurmPortChecks({ cluster, slurm, vcluster }: Parsed): string[] {
    if (!slurm || slurm.mode !== "static") return [];
    const problems: string[] = [];
    const ports: [string, number][] = [
        ["slurm.login.port", slurm.login.port],
        ["slurm.restApi.port", slurm.restApi.port],
    ];
    if (slurm.login.port === slurm.restApi.port) {
        problems.push(problem("slurm.restApi.port", slurm.restApi.port, "is already slurm.login.port; use another"));
    }
    const taken: [string, number][] = [];
    if (vcluster) {
        vcluster.tenants.forEach((t, i) => {
            taken.push([`the port of vcluster.tenants[${i}]`, t.port ?? vcluster.firstPort + i]);
            if (t.kubeletPort !== undefined) taken.push([`the kubeletPort of vcluster.tenants[${i}]`, t.kubeletPort]);
        });
        if (cluster?.type === "kind" && vcluster.maxTenants > 0) {
            const last = vcluster.firstPort + vcluster.maxTenants - 1;
            for (let p = vcluster.firstPort; p <= last; p++)
                taken.push([`in the tenant pool ${vcluster.firstPort}-${last}`, p]);
        }
    }
    if (cluster?.type === "kind") {
        cluster.portMappings.forEach((m, i) => taken.push([`the hostPort of cluster.portMappings[${i}]`, m.hostPort]));
    }
    for (const [where, port] of ports) {
        const clash = taken.find(([, p]) => p === port);
        if (clash) problems.push(problem(where, port, `is already taken (${clash[0]}); choose another port`));
    }
    return problems;
}
