/**
 * How `npm run up|preview|destroy` reports a failure: one line per problem, the action and stack named once,
 * secrets never printed. A failed Pulumi CLI run arrives as the Automation API's CommandError, whose message
 * repeats the CLI's whole stdout (already streamed to the user) and stderr: only the stderr's `error:` lines are
 * kept, else the resources' errors from stdout, else stderr's last line.
 */

/** A run stopped on purpose, for reasons each worth one line (preflight, a missing image, a failed build). */
export class Stop extends Error {
    /** One line per problem: what is wrong and what to do. */
    readonly problems: readonly string[];

    constructor(problems: readonly string[]) {
        super(problems.join("\n"));
        this.name = "Stop";
        this.problems = problems;
    }
}

/** The part of the Automation API's CommandError this reads. */
interface CommandResultLike {
    readonly stdout?: string;
    readonly stderr: string;
    readonly code: number;
    readonly err?: Error;
}

/** The lines that say why `error` happened, with every value in `secrets` masked. */
export function failureLines(error: unknown, secrets: readonly string[] = []): string[] {
    const lines = rawLines(error);
    const unique = [...new Set(lines.map((line) => line.trim()).filter(Boolean))];
    return unique.map((line) => mask(line, secrets));
}

/** The whole report: `<action> <stack>: <line>` for one problem, else a heading and one indented line each. */
export function failureReport(action: string, stack: string, lines: readonly string[]): string {
    const heading = `npm run ${action} -- ${stack}`;
    if (lines.length === 1) return `${heading}: ${lines[0]}`;
    return [`${heading} stopped:`, ...lines.map((line) => `  - ${line}`)].join("\n");
}

function rawLines(error: unknown): string[] {
    // Stop, and the settings' ConfigError: a list of problems, one line each.
    const problems = (error as { problems?: unknown } | undefined)?.problems;
    if (Array.isArray(problems)) return problems.map(String);
    let result = (error as { commandResult?: CommandResultLike } | undefined)?.commandResult;
    // A failed run reaches us wrapped: the CLI's exit makes execa throw, and the Automation API turns that error
    // into a CommandError whose stderr is execa's whole message (stdout included). execa's error keeps the CLI's
    // real stderr and exit code.
    const cause = result?.err as { stdout?: unknown; stderr?: unknown; exitCode?: unknown } | undefined;
    const stdout = `${result?.stdout ?? ""}\n${String(cause?.stdout ?? "")}`;
    const unreachable = unreachableCluster(stdout);
    if (unreachable) return [unreachable];
    if (result !== undefined && typeof cause?.stderr === "string") {
        const exitCode = typeof cause.exitCode === "number" ? cause.exitCode : undefined;
        // Killed by a signal, the CLI has no exit code: execa's message names the signal.
        const err = exitCode === undefined ? result.err : undefined;
        result = { stderr: cause.stderr, code: exitCode ?? result.code, err };
    }
    if (result !== undefined) {
        const stderr = result.stderr
            .split("\n")
            .map((line) => line.trim())
            .filter(Boolean);
        const errors = stderr.filter((line) => /^error:/i.test(line));
        if (errors.length > 0) return errors;
        const reported = resourceErrors(stdout);
        if (reported.length > 0) return reported;
        if (stderr.length > 0) return [stderr[stderr.length - 1]];
        return [
            result.err
                ? result.err.message.split("\n")[0]
                : `the Pulumi CLI exited with code ${result.code}; its output is above`,
        ];
    }
    const message = error instanceof Error ? error.message : String(error);
    return message.split("\n").map((line) => line.replace(/^\s*-\s+/, ""));
}

/**
 * One line for a cluster the Kubernetes provider could not reach, from its warning (pulumi-kubernetes, Configure:
 * `configured Kubernetes cluster is unreachable: <reason>`), which it repeats for every object it then fails to
 * read; undefined when the output has none. The provider then fails each read, so the state is unchanged.
 */
function unreachableCluster(output: string): string | undefined {
    // With PULUMI_K8S_DELETE_UNREACHABLE (a Kind cluster known gone) the same warning precedes a successful drop
    // from the state: only a read that failed for it makes the cluster's absence the reason of the failure.
    if (!/failed to read resource state due to unreachable cluster/.test(output)) return undefined;
    const reason = /configured Kubernetes cluster is unreachable: (.*)$/m.exec(output)?.[1]?.trim();
    if (reason === undefined) return undefined;
    const server = /"(https?:\/\/[^/"]+)/.exec(reason)?.[1];
    const why = /dial tcp [^ ]+: (.*)$/.exec(reason)?.[1] ?? reason;
    return (
        `the Kubernetes cluster${server ? ` at ${server}` : ""} is unreachable (${why}); nothing was changed and ` +
        "nothing was dropped from the state: start it (or wait until it answers) and run this again"
    );
}

/**
 * The resources' own errors from the CLI's stdout (where the engine prints each resource's diagnostics, with
 * nothing on stderr): `error:` lines and the `* ` items of their lists, without the lists' headings, and the stack's
 * closing `error: update failed` only when nothing else was said.
 */
function resourceErrors(stdout: string): string[] {
    const lines = stdout.split("\n").map((line) => line.trim());
    const errors = lines.filter((line, i) => /^error:/.test(line) || (/^\* /.test(line) && inErrorList(lines, i)));
    const specific = errors.filter((line) => !/^error: (\d+ errors occurred:|update failed)$/.test(line));
    return specific.length > 0 ? specific : errors;
}

/** Whether line `i` is an item of a list that an `error: N errors occurred:` line opened. */
function inErrorList(lines: readonly string[], i: number): boolean {
    let j = i - 1;
    while (j >= 0 && /^\* /.test(lines[j])) j--;
    return j >= 0 && /^error: \d+ errors occurred:$/.test(lines[j]);
}

function mask(line: string, secrets: readonly string[]): string {
    // Short values (an empty or one-letter passphrase) would mask unrelated text; they are not worth hiding there.
    return secrets
        .filter((secret) => secret.length >= 4)
        .reduce((text, secret) => text.split(secret).join("[secret]"), line);
}
