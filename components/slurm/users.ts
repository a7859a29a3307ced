/**
 * The lab's users as files, rendered once for every Slurm pod: a `passwd` and a `group` fragment that the image's
 * entrypoint appends to /etc/passwd and /etc/group at start, and one `authorized_keys.<user>` per user with keys,
 * which the login pod installs root-owned for sshd. Carried by the `slurm-users` ConfigMap, whose checksum rolls
 * the pods, so adding or removing a user is an `up`, not an image rebuild. Pure and deterministic.
 */
import type { GroupSettings, UserSettings } from "../../config/schema";
import { ChecksummedConfigMap, ObjectPlacement, checksummedConfigMap } from "./objects";
import { NAMES } from "./topology";

/** Where users' homes are, in every pod (per pod, or the shared volume). */
export const HOME_ROOT = "/home";

/** The users and the groups they may name. */
export interface UsersInput {
    /** The lab's users, gid resolved. */
    readonly users: readonly UserSettings[];
    /** Groups besides the users' own. */
    readonly groups: readonly GroupSettings[];
}

/** One `/etc/group` entry: name, gid, supplementary members. */
interface GroupEntry {
    readonly name: string;
    readonly gid: number;
    readonly members: string[];
}

/**
 * Every group: the listed ones, then each user's own group (named after the user, with the user's gid) where no
 * listed group has that gid; members are the users that name the group in their `groups`.
 */
export function groupEntries(input: UsersInput): GroupEntry[] {
    const entries: GroupEntry[] = input.groups.map((g) => ({ name: g.name, gid: g.gid, members: [] }));
    for (const u of input.users) {
        if (!entries.some((g) => g.gid === u.gid)) entries.push({ name: u.name, gid: u.gid, members: [] });
    }
    for (const u of input.users) {
        for (const name of u.groups) entries.find((g) => g.name === name)?.members.push(u.name);
    }
    return entries;
}

/** The passwd fragment: `name:x:uid:gid:name:/home/name:/bin/bash` per user; no comments (passwd has none). */
export function renderPasswd(input: UsersInput): string {
    return input.users
        .map((u) => `${u.name}:x:${u.uid}:${u.gid}:${u.name}:${HOME_ROOT}/${u.name}:/bin/bash\n`)
        .join("");
}

/** The group fragment: `name:x:gid:member,member`. */
export function renderGroup(input: UsersInput): string {
    return groupEntries(input)
        .map((g) => `${g.name}:x:${g.gid}:${g.members.join(",")}\n`)
        .join("");
}

/** `authorized_keys.<user>` → the user's keys, one per line; users without keys get no file (no SSH login). */
export function renderAuthorizedKeys(input: UsersInput): Record<string, string> {
    return Object.fromEntries(
        input.users
            .filter((u) => u.sshAuthorizedKeys.length > 0)
            .map((u) => [`authorized_keys.${u.name}`, u.sshAuthorizedKeys.map((k) => `${k.trim()}\n`).join("")]),
    );
}

/** Every file of the `slurm-users` ConfigMap, keyed by file name, in a stable order. */
export function renderUserFiles(input: UsersInput): Record<string, string> {
    return { ...renderAuthorizedKeys(input), group: renderGroup(input), passwd: renderPasswd(input) };
}

/** The `slurm-users` ConfigMap and the checksum that rolls every pod mounting it when a user changes. */
export function usersConfigMap(placement: ObjectPlacement, input: UsersInput): ChecksummedConfigMap {
    return checksummedConfigMap(placement, NAMES.usersConfigMap, "users", renderUserFiles(input));
}
