/**
 * `npm run render -- <stack> [dir]`: writes every object of a stack as files, without a cluster or the Pulumi
 * CLI (the program runs under Pulumi's mocks). Secrets hold placeholders. Default dir: `render/<stack>`.
 */
import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../evaluation/program";
import { RENDER_MARKER, renderResources } from "../evaluation/render";
import { readStackSettings } from "../config/stackFile";

async function main(argv: string[]): Promise<void> {
    const [stack, dirArg] = argv;
    if (!stack || argv.length > 2) {
        throw new Error("usage: npm run render -- <stack> [dir]   (stack: dev, gpu, ... as in Pulumi.<stack>.yaml)");
    }
    const dir = path.resolve(dirArg ?? path.join("render", stack));
    const run = await runProgram(readStackSettings(stack), stack);
    const files = renderResources(run.resources);
    prepare(dir);
    for (const [name, text] of files) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
    }
    fs.writeFileSync(path.join(dir, RENDER_MARKER), `stack ${stack}\n`);
    console.log(`rendered ${files.size} files for stack ${stack} into ${dir}`);
}

/** Empties a previous render; refuses to write into a folder that holds anything else. */
function prepare(dir: string): void {
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
        if (!fs.existsSync(path.join(dir, RENDER_MARKER))) {
            throw new Error(`${dir} is not empty and is not a previous render; choose an empty or new folder`);
        }
        fs.rmSync(dir, { recursive: true });
    }
    fs.mkdirSync(dir, { recursive: true });
}

main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`render: ${error.message}`);
    process.exit(1);
});
