/**
 * How a `pulumi` command pasted into a shell finds this stack: the stack's name, and the variables the Pulumi CLI
 * ran with that a new shell lacks (the project-local state of `npm run up` lives behind PULUMI_BACKEND_URL and
 * PULUMI_CONFIG_PASSPHRASE_FILE). The one rule for the command `npm run up` prints for `stack output` and for the
 * tenants' ready-to-paste commands. Pure: the caller hands in the environment.
 */

/**
 * The variables a pasted command repeats, in this order: where the state is and which file holds its passphrase.
 * Both are locations, not secrets; PULUMI_CONFIG_PASSPHRASE and PULUMI_ACCESS_TOKEN are never repeated (a shell
 * that needs them must have them already).
 */
export const STACK_CLI_ENV = ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE_FILE"] as const;

/** What a pasted command needs to reach one stack. */
export interface StackCli {
    /** The stack's name, passed as `--stack`. */
    readonly stack: string;
    /** The {@link STACK_CLI_ENV} variables that are set (non-empty), with their values. */
    readonly env: Readonly<Partial<Record<(typeof STACK_CLI_ENV)[number], string>>>;
}

/** The {@link StackCli} of `stack` for a Pulumi CLI running with `env`. */
export function stackCli(stack: string, env: Readonly<Record<string, string | undefined>>): StackCli {
    const kept: Partial<Record<(typeof STACK_CLI_ENV)[number], string>> = {};
    for (const name of STACK_CLI_ENV) {
        const value = env[name];
        if (value) kept[name] = value;
    }
    return { stack, env: kept };
}

/**
 * `pulumi <command> --stack <stack>`, preceded by `NAME=value ` for each variable of `cli.env`, every value quoted
 * for a POSIX shell where it needs it. `command` is shell text as it is (it may hold placeholders like `<name>`).
 */
export function pulumiCommand(cli: StackCli, command: string): string {
    const prefix = STACK_CLI_ENV.filter((name) => cli.env[name] !== undefined)
        .map((name) => `${name}=${shellWord(cli.env[name] as string)} `)
        .join("");
    return `${prefix}pulumi ${command} --stack ${shellWord(cli.stack)}`;
}

/** `value` as one word of a POSIX shell: as it is when it holds only safe characters, else single-quoted. */
export function shellWord(value: string): string {
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
    return `'${value.replace(/'/g, `'\\''`)}'`;
}
