/** Doubles of the Automation API stack and of an action's tools, shared by the tests of scripts/lib/action.ts. */
import { ActionTools, DrivenStack } from "../../../scripts/lib/action";
import { RunResult } from "../../../scripts/lib/run";
import { fakeRunner, HEALTHY, ok, ROOT } from "./doubles";

/** A stack double: records which of up, preview and destroy ran, with what options; `up` returns `outputs`. */
export function fakeStack(outputs: Record<string, { value: unknown; secret: boolean }> = {}) {
    const ran: { method: string; options: Record<string, unknown> }[] = [];
    const stack = {
        up: async (options: Record<string, unknown>) => {
            ran.push({ method: "up", options });
            return { outputs };
        },
        preview: async (options: Record<string, unknown>) => {
            ran.push({ method: "preview", options });
            return {};
        },
        destroy: async (options: Record<string, unknown>) => {
            ran.push({ method: "destroy", options });
            return {};
        },
    } as unknown as DrivenStack;
    return { stack, ran };
}

const LOCAL_BACKEND = {
    envVars: { PULUMI_BACKEND_URL: "file:///lab/.pulumi-state", PULUMI_CONFIG_PASSPHRASE_FILE: "/lab/p" },
    description: "state in .pulumi-state/",
};

/** Tools whose runner answers from `answers` (HEALTHY by default) and whose stack is `stack`; records everything. */
export function fakeTools(stack: DrivenStack, answers: Record<string, RunResult> = {}, env: NodeJS.ProcessEnv = {}) {
    const calls: string[][] = [];
    const opened: string[] = [];
    const openedEnv: Record<string, string>[] = [];
    const written: string[] = [];
    const withBuild = { ...HEALTHY, "docker image": ok("sha256:1\n"), ...answers };
    const answer = fakeRunner(withBuild, calls);
    const runOptions: unknown[] = [];
    const tools: ActionTools = {
        run: (command, args, options) => {
            runOptions.push(options);
            return answer(command, args, options);
        },
        openStack: async (name, extraEnv = {}) => {
            opened.push(name);
            openedEnv.push(extraEnv);
            // The order matters: Pulumi is reached only after every check and the image.
            calls.push(["<openStack>", name]);
            return { stack, backend: LOCAL_BACKEND };
        },
        root: ROOT,
        env,
        write: (text) => written.push(text),
    };
    return { tools, calls, opened, openedEnv, written, runOptions };
}
