/**
 * The validation rules every setting and every component argument is judged by, each written once.
 *
 * Pure and free of zod: the stack schema (`config/schema.ts`) builds its zod types from these rules, and the
 * components check their own arguments with the same rules, so no pattern is copied anywhere. A rule knows how
 * to test a value and how to say, in a few words, what is allowed; {@link problem} adds where and what was given.
 */

/** A rule: a test, and the words that say what it allows (`must be ...`). */
export interface Rule<T> {
    /** True when `value` is allowed. */
    readonly test: (value: unknown) => value is T;
    /** What is allowed, as the end of a sentence: `must be a DNS-1123 label ...`. */
    readonly allowed: string;
}

const rule = <T>(test: (value: unknown) => boolean, allowed: string): Rule<T> => ({
    test: test as (value: unknown) => value is T,
    allowed,
});

const isString = (value: unknown): value is string => typeof value === "string";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label (Kubernetes names of namespaces, Services, Helm releases) of at most `maxLength` characters. */
export function dnsLabel(maxLength = 63): Rule<string> {
    return rule(
        (v) => isString(v) && v.length <= maxLength && DNS_LABEL.test(v),
        `must be a DNS-1123 label of at most ${maxLength} characters: lowercase letters, digits and '-', ` +
            "starting and ending with a letter or digit",
    );
}

/** A DNS-1123 subdomain (StorageClass and most other Kubernetes object names): labels joined by dots, <= 253. */
export const dnsSubdomain: Rule<string> = rule(
    (v) => isString(v) && v.length <= 253 && v.split(".").every((label) => DNS_LABEL.test(label)),
    "must be a DNS-1123 subdomain of at most 253 characters: lowercase letters, digits, '-' and '.', " +
        "each dot-separated part starting and ending with a letter or digit",
);

const CHART_VERSION = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** An exact Helm chart version (semantic version, optionally with a leading `v`): never a range. */
export const chartVersion: Rule<string> = rule(
    (v) => isString(v) && CHART_VERSION.test(v),
    "must be an exact chart version such as 1.2.3 or v1.2.3, not a range",
);

// The Docker reference grammar (github.com/distribution/reference, reference.go), anchored:
//   [domain[:port]/]path-component[/path-component...][:tag][@algorithm:hex]
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(
    `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
);
/** The name part (before tag and digest) may be at most this long, as in the reference grammar. */
const MAX_IMAGE_NAME_LENGTH = 255;

/** A container image reference as Docker and containerd parse it: `[registry[:port]/]name[:tag][@digest]`. */
export const imageReference: Rule<string> = rule(
    (v) =>
        isString(v) &&
        IMAGE_REFERENCE.test(v) &&
        v.replace(/@.*$/, "").replace(/:[\w][\w.-]*$/, "").length <= MAX_IMAGE_NAME_LENGTH,
    "must be a container image reference such as registry.example.com:5000/team/slurm:24.11 " +
        "([registry[:port]/]name[:tag][@sha256:digest]; the name in lowercase)",
);

/** A whole number from `min` to `max`, both included. */
export function wholeNumber(min: number, max: number): Rule<number> {
    return rule(
        (v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max,
        `must be a whole number from ${min} to ${max}`,
    );
}

/** A TCP/UDP port number. */
export const port: Rule<number> = wholeNumber(1, 65535);

/** How a value is quoted in a message: JSON, and `(missing)` for undefined. */
export function show(value: unknown): string {
    return value === undefined ? "(missing)" : JSON.stringify(value);
}

/** One line of an error: `where = value: what is allowed`. */
export function problem(where: string, value: unknown, allowed: string): string {
    return `${where} = ${show(value)}: ${allowed}`;
}

/** `problem(where, value, rule.allowed)` when `rule` refuses `value`; nothing otherwise. */
export function check<T>(where: string, value: unknown, r: Rule<T>): string[] {
    return r.test(value) ? [] : [problem(where, value, r.allowed)];
}

/**
 * Throws one error listing every problem, naming the component and its resource name, when there are any.
 * Components call it before `super()`, so bad arguments leave nothing half-registered.
 */
export function refuse(component: string, name: string, problems: readonly string[]): void {
    if (problems.length > 0) {
        throw new Error(`${component} "${name}" has invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}
