import { strict as assert } from "node:assert";
import { ConfigError, parseStackConfig, ParseOptions } from "../../config/schema";

/** The problems `parseStackConfig` reports for `raw` (none when it is accepted). */
export function problemsOf(raw: Record<string, unknown>, options?: ParseOptions): readonly string[] {
    try {
        parseStackConfig(raw, options);
        return [];
    } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.problems;
    }
}

/** Asserts that `raw` is refused with exactly one problem line that contains every `expected` fragment. */
export function assertRefused(raw: Record<string, unknown>, ...expected: string[]): string {
    const problems = problemsOf(raw);
    assert.equal(problems.length, 1, `expected one problem, got:\n${problems.join("\n")}`);
    for (const fragment of expected) {
        assert.ok(problems[0].includes(fragment), `problem lacks ${JSON.stringify(fragment)}:\n${problems[0]}`);
    }
    return problems[0];
}

/** Asserts that `raw` is accepted. */
export function assertAccepted(raw: Record<string, unknown>, options?: ParseOptions): void {
    assert.deepEqual(problemsOf(raw, options), []);
}
