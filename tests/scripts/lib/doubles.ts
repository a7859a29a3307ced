/** Test doubles shared by the tests of scripts/lib: command results and a runner that answers from a table. */
import * as path from "path";
import { RunResult, Runner } from "../../../scripts/lib/run";

/** The repository root. */
export const ROOT = path.resolve(__dirname, "../../..");
/** A command that succeeded with `stdout`. */
export const ok = (stdout = ""): RunResult => ({ status: 0, stdout, stderr: "", notFound: false });
/** A command that failed with `stderr`. */
export const failed = (stderr: string, status = 1): RunResult => ({ status, stdout: "", stderr, notFound: false });
/** A log function that drops what it is given. */
export const quiet = () => undefined;
/** A command that is not on PATH. */
export const notFound: RunResult = { status: null, stdout: "", stderr: "spawn ENOENT", notFound: true };

/** A runner answering from a table keyed by `command first-argument`; records every call. */
export function fakeRunner(answers: Record<string, RunResult>, calls: string[][] = []): Runner {
    return (command, args) => {
        calls.push([command, ...args]);
        const answer = answers[`${command} ${args[0]}`];
        if (!answer) throw new Error(`unexpected command ${command} ${args.join(" ")}`);
        return answer;
    };
}

/** Answers of a host where every tool is there and new enough, and a GPU is set up. */
export const HEALTHY = {
    "pulumi version": ok("v3.187.0\n"),
    "kind version": ok("kind v0.29.0 go1.24.2 linux/amd64\n"),
    // The clusters kind has: the dev and gpu stacks' clusters exist.
    "kind get": ok("ai-hyperscaler-dev\nai-hyperscaler-gpu\n"),
    "docker info": ok("27.3.1|nvidia\n"),
    "nvidia-smi -L": ok("GPU 0: NVIDIA A10G (UUID: GPU-1)\n"),
    "kubectl version": ok("Client Version: v1.33.1\nKustomize Version: v5.6.0\n"),
};
