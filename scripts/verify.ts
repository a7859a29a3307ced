/**
 * `npm run verify -- <stack> [--json]`: checks a deployed stack. It reads the stack's settings
 * (`Pulumi.<stack>.yaml`) and outputs (Automation API), then runs the checks of `verify/` with kubectl: the
 * cluster's API, Slurm through the login pod, and each tenant's API and Argo CD with the tenant's own kubeconfig.
 *
 * One PASS/FAIL line per check (or, with `--json`, one JSON report on stdout). Exit code 0 when every check
 * passed, 1 when one failed, 2 when verify could not start (bad arguments, no stack, no Pulumi CLI). Kubeconfigs
 * go into a private temporary directory, removed at the end, and never into the report.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config/schema";
import { readStackSettings } from "../config/stackFile";
import { formatReport, redactor, runChecks } from "../verify/checks";
import { checksFor, planFromStack } from "../verify/plan";
import { processRunner } from "../verify/transport";
import { selectStack } from "./lib/backend";

const ROOT = path.resolve(__dirname, "..");
const USAGE = "usage: npm run verify -- <stack> [--json]   (stack: dev, gpu, ... as in Pulumi.<stack>.yaml)";

/**
 * The stack's outputs with secrets in plain text, through the Automation API (needs the Pulumi CLI), from the
 * backend `npm run up` used (the project-local state unless the user chose one).
 */
export async function readStackOutputs(stack: string): Promise<Record<string, unknown>> {
    try {
        const { stack: selected } = await selectStack(stack, ROOT);
        const outputs = await selected.outputs();
        return Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]));
    } catch (error) {
        const message = String((error as Error).message ?? error);
        if (/ENOENT/.test(message)) {
            throw new Error(
                "the Pulumi CLI was not found on PATH; install it (https://www.pulumi.com/docs/install/) " +
                    "and log in to the stack's backend",
            );
        }
        // The Automation API's error holds the CLI's whole answer; its stderr's `error:` line says what went wrong.
        const stderr = /\n stderr: ([\s\S]*?)\n err\?:/.exec(message)?.[1] ?? message;
        const lines = stderr
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean);
        const line = lines.find((l) => /^error:/.test(l)) ?? lines[0] ?? "the Pulumi CLI said nothing";
        throw new Error(`could not read the outputs of the stack "${stack}": ${line}`);
    }
}

/** Parses the command line: the stack, and whether to print JSON. */
export function parseArgs(argv: readonly string[]): { stack: string; json: boolean } {
    const flags = argv.filter((a) => a.startsWith("-"));
    const names = argv.filter((a) => !a.startsWith("-"));
    const unknown = flags.filter((f) => f !== "--json");
    if (names.length !== 1 || unknown.length > 0) {
        throw new Error(unknown.length > 0 ? `unknown option ${unknown.join(", ")}; ${USAGE}` : USAGE);
    }
    return { stack: names[0], json: flags.includes("--json") };
}

async function main(argv: readonly string[]): Promise<number> {
    let args: { stack: string; json: boolean } | undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-"));
    try {
        args = parseArgs(argv);
        const settings = parseStackConfig(readStackSettings(args.stack));
        const outputs = await readStackOutputs(args.stack);
        const plan = planFromStack(settings, outputs, (name, contents) => {
            const file = path.join(dir, `${name}.kubeconfig`);
            fs.writeFileSync(file, contents, { mode: 0o600 });
            return file;
        });
        const report = await runChecks(args.stack, checksFor(plan, processRunner), undefined, redactor(plan.secrets));
        process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return report.ok ? 0 : 1;
    } catch (error) {
        const message = (error as Error).message;
        process.stderr.write(`verify ${args?.stack ?? ""}: ${message}\n`.replace("verify : ", "verify: "));
        if (args?.json)
            process.stdout.write(
                `${JSON.stringify({ stack: args.stack, ok: false, error: message, checks: [] }, null, 2)}\n`,
            );
        return 2;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
