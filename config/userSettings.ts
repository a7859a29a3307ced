/**
 * The settings of the lab's users and how they reach it: `slurm.users`, `slurm.groups`, `slurm.login` (SSH) and
 * `slurm.restApi` (slurmrestd). Pure; checks across users (unique names and ids, known groups) live in
 * `config/userChecks.ts`.
 */
import { z } from "zod";
import * as rules from "./rules";
import { list, meta, oneOf, strictObject, text, whole, wholeBy } from "./schemaParts";
import * as userRules from "./userRules";

/** One OpenSSH public key line; the message says which part is wrong (type, base64, the key's own type). */
const sshKey = meta(
    z.string({ error: userRules.sshPublicKey.allowed }).superRefine((value, ctx) => {
        const wrong = userRules.sshPublicKeyProblem(value);
        if (wrong) ctx.addIssue({ code: "custom", message: wrong });
    }),
    { allowed: `OpenSSH public key line (${userRules.SSH_KEY_TYPES.join(", ")})` },
);

/** A user of the lab (`slurm.users`). */
export const user = strictObject({
    name: text(userRules.posixName).describe("Login name, the same in every Slurm pod and in accounting. Required."),
    uid: wholeBy(userRules.userId).describe("User id, the owner of the user's files and jobs. Required."),
    gid: wholeBy(userRules.userId)
        .optional()
        .describe(
            "Primary group id. Default: the uid; a group named after the user with that id is made unless " +
                "slurm.groups names one.",
        ),
    groups: list(text(userRules.posixName), "group names")
        .default([])
        .describe("Further groups (names from slurm.groups or other users' own groups). Default none."),
    sshAuthorizedKeys: list(sshKey, "OpenSSH public key lines")
        .default([])
        .describe("Public keys that may log in as this user over SSH (the login pod). Default none: no SSH login."),
});

/** A group the users may name (`slurm.groups`). */
export const group = strictObject({
    name: text(userRules.posixName).describe("Group name. Required."),
    gid: wholeBy(userRules.userId).describe("Group id. Required."),
});

/** The type of a Slurm Service reached from outside the cluster (login, REST API). */
const serviceType = () =>
    meta(oneOf(["ClusterIP", "NodePort", "LoadBalancer"]), { defaultText: "NodePort on Kind, else ClusterIP" })
        .optional()
        .describe(
            "Type of its Service. Default on Kind `NodePort` (its port mapped on the host at 127.0.0.1), " +
                "on an existing cluster `ClusterIP` (reach it with kubectl port-forward).",
        );

/**
 * A Slurm Service reached from outside the cluster: its type, and its NodePort (`port` unless set), which on Kind
 * is also its host port.
 */
function externalService(what: string, port: number) {
    return strictObject({
        serviceType: serviceType(),
        port: whole(rules.NODE_PORT_RANGE.min, rules.NODE_PORT_RANGE.max)
            .default(port)
            .describe(
                `NodePort of ${what}, and on Kind its host port (mapped at cluster creation: changing it replaces ` +
                    `the Kind cluster). Default ${port}.`,
            ),
    });
}

/** The login pod's SSH Service (`slurm.login`). */
export const login = externalService("the login pod's SSH Service", 30084);

/** slurmrestd's Service (`slurm.restApi`). */
export const restApi = externalService("slurmrestd's Service", 30085);
