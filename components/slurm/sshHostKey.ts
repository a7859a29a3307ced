/**
 * The login pod's SSH host key, an ed25519 key made from a 32-byte seed (a `RandomBytes` kept, encrypted, in Pulumi
 * state): the same seed gives the same key on every `up`, so the key survives pod restarts, image upgrades and a
 * re-created Secret, and users' `known_hosts` keeps working. Pure: node's crypto derives the public key from the
 * seed, and the private key file is written in OpenSSH's own format (`openssh-key-v1`, PROTOCOL.key in OpenSSH's
 * sources), unencrypted, as `ssh-keygen -t ed25519 -N ''` writes it.
 */
import * as crypto from "crypto";

/** The DER of a PKCS#8 ed25519 private key up to its 32-byte seed (RFC 8410): version 0, OID 1.3.101.112. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
/** The DER of an SPKI ed25519 public key up to its 32 bytes (RFC 8410). */
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const KEY_TYPE = "ssh-ed25519";

/** An SSH wire-format `string`: a big-endian uint32 length, then the bytes. */
function sshString(value: Buffer | string): Buffer {
    const bytes = typeof value === "string" ? Buffer.from(value) : value;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value >>> 0);
    return out;
}

/** The 32-byte ed25519 public key of `seed`. */
export function ed25519PublicKey(seed: Buffer): Buffer {
    if (seed.length !== 32) throw new Error(`an ed25519 seed is 32 bytes, got ${seed.length}`);
    const key = crypto.createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
        format: "der",
        type: "pkcs8",
    });
    const spki = crypto.createPublicKey(key).export({ format: "der", type: "spki" });
    if (!spki.subarray(0, SPKI_ED25519_PREFIX.length).equals(SPKI_ED25519_PREFIX)) {
        throw new Error("node's crypto exported an ed25519 public key in an unexpected form");
    }
    return spki.subarray(SPKI_ED25519_PREFIX.length);
}

/** A host key: the private key file (secret) and the public key line (`ssh-ed25519 AAAA... comment`). */
export interface SshHostKey {
    /** The `openssh-key-v1` private key file, as sshd reads `HostKey`. Secret. */
    readonly privateKey: string;
    /** The public key line, as in `ssh_host_ed25519_key.pub` and (after the host) in `known_hosts`. Not secret. */
    readonly publicKey: string;
}

/** The OpenSSH ed25519 key pair of `seed` (32 bytes), with `comment`. Deterministic: the same bytes every time. */
export function sshHostKey(seed: Buffer, comment: string): SshHostKey {
    const publicKey = ed25519PublicKey(seed);
    const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);
    // The check integer only lets a reader tell a wrong passphrase; derived from the seed so the file is stable.
    const check = crypto.createHash("sha256").update(seed).digest().readUInt32BE(0);
    const unpadded = Buffer.concat([
        uint32(check),
        uint32(check),
        sshString(KEY_TYPE),
        sshString(publicKey),
        // OpenSSH keeps the private key as seed || public key.
        sshString(Buffer.concat([seed, publicKey])),
        sshString(comment),
    ]);
    // Padded with 1, 2, 3, ... to the cipher's block size, 8 for "none".
    const padding = Buffer.from(Array.from({ length: (8 - (unpadded.length % 8)) % 8 }, (_, i) => i + 1));
    const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        sshString("none"),
        sshString("none"),
        sshString(""),
        uint32(1),
        sshString(publicBlob),
        sshString(Buffer.concat([unpadded, padding])),
    ]);
    const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
    return {
        privateKey: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join(
            "\n",
        ),
        publicKey: `${KEY_TYPE} ${publicBlob.toString("base64")} ${comment}`,
    };
}
