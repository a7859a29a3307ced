/**
 * The verify module's exec transport for the harness: `podman exec` into the container that plays a target, so
 * `npm run verify`'s Slurm checks (verify/checks.ts) run unchanged against the lab's real daemons.
 */
import type { ExecResult, ExecTransport } from "../../../verify/transport";
import { exec } from "./podman";

/**
 * Commands start in /tmp. A batch job runs in the directory it was submitted from, on its compute node, and writes its
 * output there: `kubectl exec` starts in the image's `/`, which Kubernetes keeps 0755, but podman mounts `/` 0555,
 * where root without CAP_DAC_OVERRIDE (the pods drop it) cannot write, and verify's job would fail for that alone.
 */
const WORKDIR = "/tmp";

/**
 * An {@link ExecTransport} that runs each command in `containers[target]` through the harness's `exec`. Like
 * `processRunner` it never rejects: 124 when the time limit stopped the call, 127 when podman is missing.
 */
export function podmanTransport(containers: Readonly<Record<string, string>>): ExecTransport {
    return {
        async exec(target, argv, options): Promise<ExecResult> {
            const container = containers[target];
            if (!container) return { code: 2, stdout: "", stderr: `no container is known for the target "${target}"` };
            try {
                const result = await exec(container, argv, options.timeoutMs, WORKDIR);
                if (!result.timedOut) return { code: result.code, stdout: result.stdout, stderr: result.stderr };
                const limit = `${options.timeoutMs / 1000} s`;
                return { code: 124, stdout: result.stdout, stderr: `${argv[0]} stopped after ${limit} (time limit)` };
            } catch (error) {
                const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
                return {
                    code: missing ? 127 : 1,
                    stdout: "",
                    stderr: missing ? "podman was not found on PATH" : `podman failed: ${(error as Error).message}`,
                };
            }
        },
    };
}
