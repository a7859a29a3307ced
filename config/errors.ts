/**
 * How a bad setting is reported: one line per problem, naming the setting's path, the value given and what is
 * allowed. zod's findings are turned into such lines here; the cross-setting checks write theirs with `problem()`.
 */
import { z } from "zod";
import { CREDENTIAL_KINDS, credentialsIn, problem } from "./rules";

/** A stack setting that is wrong; `problems` lists every problem, one line each, and the message shows them all. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** Shown instead of a value that holds credentials of `kind`, saying which kind. */
export function redacted(kind: keyof typeof CREDENTIAL_KINDS): string {
    return `(not shown: it looks like ${CREDENTIAL_KINDS[kind]})`;
}

/** Shown instead of kubeconfig contents (pasted where a path belongs, say). */
export const REDACTED = redacted("kubeconfig");

/**
 * `value`, or the words that say it is not shown when it looks like credentials (kubeconfig contents, a PEM block,
 * a token). Anything else is shown as given: a stray newline is a typo to see, not a secret.
 */
export function redact(value: unknown): unknown {
    const kind = credentialsIn(value);
    return kind === undefined ? value : redacted(kind);
}

/** `cluster.portMappings[0].hostPort` from `["cluster", "portMappings", 0, "hostPort"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
    return path
        .map(String)
        .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

/** The value at `path` inside `raw`, or undefined when it is not there. */
export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>(
        (node, key) =>
            node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined,
        raw,
    );
}

/**
 * The problem lines of one zod issue found in `raw`. `schema` is the schema `raw` was parsed with, so that an
 * unknown key can be answered with the keys allowed there.
 */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown, schema: z.ZodType): string[] {
    const where = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
        const known = knownKeys(schema, issue.path, raw);
        return issue.keys.map(
            (key) =>
                `${formatPath([...issue.path, key])}: unknown setting` +
                (known ? `; allowed here: ${known.join(", ")}` : ""),
        );
    }
    const value = valueAt(raw, issue.path);
    // A missing field reaches zod as undefined, which fails the type test: say that it is required.
    const message =
        issue.code === "invalid_type" && value === undefined ? `is required; ${issue.message}` : issue.message;
    return [problem(where, redact(value), message)];
}

/** The keys an object at `path` of `raw` accepts, for "unknown setting" messages; undefined when none is there. */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] | undefined {
    let node: z.ZodType | undefined = schema;
    for (let depth = 0; node; depth++) {
        node = unwrap(node);
        if (node instanceof z.ZodDiscriminatedUnion) {
            // The variant the user chose (its `type`), not every variant's keys.
            node = variant(node, valueAt(raw, path.slice(0, depth)));
        }
        if (depth === path.length) break;
        const segment = String(path[depth]);
        if (node instanceof z.ZodObject) node = node.shape[segment] as z.ZodType | undefined;
        else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
        else node = undefined;
    }
    return node instanceof z.ZodObject ? Object.keys(node.shape) : undefined;
}

function variant(union: z.ZodDiscriminatedUnion, value: unknown): z.ZodObject | undefined {
    const type = (value as Record<string, unknown> | null | undefined)?.type ?? "kind";
    return (union.options as z.ZodObject[]).find((o) => (o.shape.type as z.ZodLiteral).value === type);
}

/** The schema inside defaults, optionals, prefaults and preprocessing. */
export function unwrap(schema: z.ZodType): z.ZodType {
    let s: z.ZodType = schema;
    for (;;) {
        if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault) {
            s = s.unwrap() as z.ZodType;
        } else if (s instanceof z.ZodPipe) {
            s = s.out as z.ZodType;
        } else {
            return s;
        }
    }
}
