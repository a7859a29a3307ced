/**
 * The rules of the lab's users (`slurm.users`, `slurm.groups`): POSIX names, the ids a person may have, and OpenSSH
 * public keys, each written once. Pure and free of zod, like `config/rules.ts`, whose {@link Rule} they are.
 */
import type { Rule } from "./rules";
import { credentialsIn, wholeNumber } from "./rules";

const POSIX_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * Names the image or the system already gives to someone: the Debian base users, the daemons' users (`slurm`,
 * `munge`, `sshd`, `slurmrestd`) and the names every Linux system reserves. A user of the lab taking one would
 * shadow or duplicate that account in every pod's /etc/passwd.
 */
export const RESERVED_USER_NAMES: readonly string[] = [
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "_apt",
    "nobody",
    "nogroup",
    "shadow",
    "staff",
    "users",
    "tty",
    "slurm",
    "munge",
    "sshd",
    "slurmrestd",
    "messagebus",
    "systemd-network",
    "systemd-timesync",
];

/** A POSIX user or group name (as `useradd` accepts by default), and not one the image already has. */
export const posixName: Rule<string> = {
    test: ((v: unknown) =>
        typeof v === "string" && POSIX_NAME.test(v) && !RESERVED_USER_NAMES.includes(v)) as Rule<string>["test"],
    allowed:
        "must be a POSIX name of 1-32 characters: lowercase letters, digits, '_' and '-', starting with a letter or " +
        `'_', and none of the system's own (${RESERVED_USER_NAMES.slice(0, 6).join(", ")}, ..., slurm, munge, sshd)`,
};

/** Lowest and highest uid or gid of a lab user: no root, no system ids (< 1000), below `nobody` and subuid ranges. */
export const USER_ID_RANGE = { min: 1000, max: 60000 } as const;

/** A uid or gid of a person. */
export const userId: Rule<number> = {
    test: wholeNumber(USER_ID_RANGE.min, USER_ID_RANGE.max).test,
    allowed:
        `${wholeNumber(USER_ID_RANGE.min, USER_ID_RANGE.max).allowed} ` +
        "(no root and no system ids: those belong to the image's daemons)",
};

/** Key types sshd accepts in authorized_keys, FIDO (`sk-`) keys included. */
export const SSH_KEY_TYPES: readonly string[] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * What is wrong with `value` as one OpenSSH public key line (`<type> <base64 key> [comment]`, as in a `.pub` file),
 * or undefined when it is one. The key's wire format must start with its type as a length-prefixed string (RFC 4253
 * section 6.6), so a key of one type labelled as another, or cut short, is refused as sshd would refuse it.
 * No options (`from=`, `command=`): the lab's keys only let their user in.
 */
export function sshPublicKeyProblem(value: unknown): string | undefined {
    const shape = "must be an OpenSSH public key line: <type> <base64 key> [comment], as in a .pub file";
    if (typeof value !== "string") return shape;
    // A private key pasted by mistake: say so without repeating any of it.
    if (credentialsIn(value)) return `${shape}; this looks like a private key: give the .pub file's line instead`;
    if (/[\r\n]/.test(value)) return `${shape}; one key per list entry, on one line`;
    const [type, body] = value.trim().split(/[ \t]+/);
    if (!SSH_KEY_TYPES.includes(type)) {
        return `${shape}; the type ${JSON.stringify(type)} is none of ${SSH_KEY_TYPES.join(", ")} (no options before it)`;
    }
    if (body === undefined || body === "" || !BASE64.test(body)) return `${shape}; the key after ${type} is not base64`;
    const blob = Buffer.from(body, "base64");
    const length = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    const embedded = length >= 0 && 4 + length <= blob.length ? blob.subarray(4, 4 + length).toString("latin1") : "";
    if (embedded !== type) {
        return `${shape}; the key's data says it is ${embedded ? JSON.stringify(embedded) : "no key at all"}, not ${type}`;
    }
    if (blob.length <= 4 + length) return `${shape}; the ${type} key holds only its type, no key`;
    return undefined;
}

/** An OpenSSH public key line; {@link sshPublicKeyProblem} says what is wrong with one that is not. */
export const sshPublicKey: Rule<string> = {
    test: ((v: unknown) => sshPublicKeyProblem(v) === undefined) as Rule<string>["test"],
    allowed: "must be an OpenSSH public key line: <type> <base64 key> [comment], as in a .pub file",
};
