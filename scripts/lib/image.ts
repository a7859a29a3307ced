/**
 * Makes sure the Slurm image of an `up` is in the Kind cluster's engine (Docker's or Podman's local images), so the
 * Kind provider can load it into the nodes.
 */
import { ENGINE_NAMES } from "../../config/rules";
import { Stop } from "./failure";
import type { ImagePlan } from "./plan";
import { firstLine, Runner } from "./run";

/** What {@link ensureImage} did. */
export type ImageOutcome = "present" | "built";

/**
 * Looks the image up with the plan's engine (`docker image inspect` or `podman image inspect`); when missing,
 * builds it (`<engine> build -t <image> <context>`, output streamed) if the plan says so, else stops with what to
 * run. A failed build stops the run.
 */
export function ensureImage(
    plan: ImagePlan,
    run: Runner,
    root: string,
    say: (line: string) => void = console.log,
): ImageOutcome {
    const engine = plan.engine;
    const inspect = run(engine, ["image", "inspect", "--format", "{{.Id}}", plan.image]);
    if (inspect.status === 0) return "present";
    const build = [engine, "build", "-t", plan.image, plan.context];
    if (!plan.build) {
        const missing = firstLine(inspect.stderr) || `${engine} image inspect failed`;
        const fix = `\`${engine} pull ${plan.image}\` or \`${build.join(" ")}\``;
        throw new Stop([
            `slurm.image = ${JSON.stringify(plan.image)} is not in the local ${ENGINE_NAMES[engine]} (${missing}); ` +
                `kind can only load local images: ${fix}, then run again`,
        ]);
    }
    say(`building ${plan.image} from ${plan.context} (the tag follows the files there)`);
    const result = run(build[0], build.slice(1), { inherit: true, cwd: root });
    if (result.status !== 0) {
        throw new Stop([`\`${build.join(" ")}\` failed (exit ${result.status ?? "signal"}); its output is above`]);
    }
    return "built";
}
