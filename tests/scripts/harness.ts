/**
 * Runs the real `scripts/stack.ts` (ts-node, as `npm run up` does) in a throw-away copy of the repository, with
 * the fakes of tests/fakes (by default `pulumi`, `docker`, `kind` and `kubectl`) on PATH and nothing else of the
 * host's tools.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const FAKES = path.join(ROOT, "tests", "fakes");

/** What the fakes' scripts themselves use (bash builtins aside); linked into PATH so no real CLI leaks in. */
const UTILITIES = "cat cp cut grep head ls mkdir mv readlink rm sed sha256sum sort touch tr".split(" ");

/** The fakes a sandbox can put on PATH. */
export const FAKE_TOOLS = ["pulumi", "docker", "kind", "nvidia-smi", "kubectl"] as const;

/** The repository parts `scripts/stack.ts` reads or builds from. */
const COPIED = ["scripts", "config", "containers/images/slurm-base", "Pulumi.yaml", "package.json", "tsconfig.json"];

/** A sandbox: a repository copy, a PATH of chosen fakes, a HOME, and the fakes' state directory. */
export class Sandbox {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-script-"));
    readonly repo = path.join(this.dir, "repo");
    readonly state = path.join(this.dir, "state");
    readonly home = path.join(this.dir, "home");
    readonly bin = path.join(this.dir, "bin");

    constructor(tools: readonly string[] = ["pulumi", "docker", "kind", "kubectl"]) {
        for (const dir of [this.repo, this.state, this.home, this.bin]) fs.mkdirSync(dir, { recursive: true });
        for (const part of COPIED) fs.cpSync(path.join(ROOT, part), path.join(this.repo, part), { recursive: true });
        for (const file of fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[\w.-]+\.yaml$/.test(f))) {
            fs.copyFileSync(path.join(ROOT, file), path.join(this.repo, file));
        }
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(this.repo, "node_modules"));
        for (const tool of tools) fs.symlinkSync(path.join(FAKES, tool), path.join(this.bin, tool));
        for (const utility of UTILITIES) {
            const found = ["/usr/bin", "/bin"].map((d) => path.join(d, utility)).find((p) => fs.existsSync(p));
            if (!found) throw new Error(`the fakes need ${utility}, found in neither /usr/bin nor /bin`);
            fs.symlinkSync(found, path.join(this.bin, utility));
        }
    }

    /**
     * Runs `<script> <args>` (default scripts/stack.ts) under ts-node in the copy; `env` adds to (or, with
     * undefined, removes from) the clean environment.
     */
    run(args: readonly string[], env: Record<string, string | undefined> = {}, script = "scripts/stack.ts") {
        const base: Record<string, string> = {
            PATH: this.bin,
            HOME: this.home,
            FAKE_CLI_STATE: this.state,
            TS_NODE_TRANSPILE_ONLY: "1",
        };
        const merged = { ...base, ...env };
        const clean = Object.fromEntries(
            Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined),
        );
        return spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), script, ...args], {
            cwd: this.repo,
            env: clean,
            encoding: "utf8",
        });
    }

    /** Every call of a fake so far, each as its argument list. */
    calls(tool: string): string[][] {
        const file = path.join(this.state, `${tool}.calls`);
        if (!fs.existsSync(file)) return [];
        return fs
            .readFileSync(file, "utf8")
            .trimEnd()
            .split("\n")
            .map((line) => line.split("\t"));
    }

    /** The environment the fake pulumi saw, one record per call. */
    pulumiEnv(): Record<string, string>[] {
        const file = path.join(this.state, "pulumi.env");
        if (!fs.existsSync(file)) return [];
        return fs
            .readFileSync(file, "utf8")
            .trimEnd()
            .split("\n")
            .map((line) =>
                Object.fromEntries(
                    line
                        .split("\t")
                        .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
                ),
            );
    }

    /** Adds images to the fake Docker's local images. */
    addImages(...images: string[]): void {
        fs.appendFileSync(path.join(this.state, "docker-images"), images.map((i) => `${i}\n`).join(""));
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
