/**
 * `npm run up -- <stack>` / `npm run preview -- <stack>` / `npm run destroy -- <stack>`: the whole lab in one
 * command, through Pulumi's Automation API, the way a pipeline would drive it. The steps are in
 * `scripts/lib/action.ts`; this file only hands them the command line and sets the exit code.
 */
import { cli, realTools, watchInterrupts } from "./lib/action";

if (require.main === module) {
    const interrupt = watchInterrupts(
        (signal, handler) => process.on(signal, handler),
        (line) => console.error(line),
        (code) => process.exit(code),
    );
    void cli(process.argv.slice(2), process.env, { ...realTools(process.env), interrupt }).then((code) => {
        process.exitCode = code;
    });
}
