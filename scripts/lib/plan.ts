/** What `npm run up|preview|destroy` needs for a stack, decided from its settings alone (no tool runs here). */
import * as path from "path";
import type { ContainerEngine } from "../../config/rules";
import type { StackConfig } from "../../config/schema";
import { defaultSlurmImage, SLURM_IMAGE_CONTEXT } from "../../config/slurmImage";
import type { HostNeeds } from "./preflight";

/** The three actions. */
export const ACTIONS = ["up", "preview", "destroy"] as const;

/** One of {@link ACTIONS}. */
export type Action = (typeof ACTIONS)[number];

/** The Slurm image an `up` of a Kind stack must have in the engine's local store before Pulumi runs. */
export interface ImagePlan {
    /** The engine that must have it (the Kind cluster's), and that builds it. */
    readonly engine: ContainerEngine;
    /** The image reference the program loads into the Kind nodes. */
    readonly image: string;
    /**
     * True for the project's own image (`defaultSlurmImage()`, a tag that follows the build context): built when
     * the engine does not have it. False for `slurm.image` set by the user: it must be there already (pulled or built
     * by the user), because building the project's Dockerfile under someone else's name would hide their image.
     */
    readonly build: boolean;
    /** Build context, relative to the repository root. */
    readonly context: string;
}

/** Host needs and image of a run. */
export interface Plan {
    /** What the host must provide (the Pulumi CLI always). */
    readonly needs: HostNeeds;
    /** The image to check or build first; undefined when none. */
    readonly image?: ImagePlan;
}

/**
 * The plan for `action` on a stack whose validated settings are `config` and whose raw settings are `settings`
 * (to tell an explicit `slurm.image` from the default). `root` is the repository the image is built from.
 */
export function planFor(action: Action, config: StackConfig, settings: Record<string, unknown>, root: string): Plan {
    const kind = config.cluster.type === "kind" ? config.cluster : undefined;
    const engine = kind?.engine;
    // preview never runs kind or an engine: the kind provider's and the GPU node setup's diffs compare settings only.
    const touchesCluster = kind !== undefined && action !== "preview";
    const explicit = explicitSlurmImage(settings);
    const image: ImagePlan | undefined =
        action === "up" && engine && config.slurm.mode === "static"
            ? {
                  engine,
                  image: explicit ?? defaultSlurmImage(path.join(root, SLURM_IMAGE_CONTEXT), engine),
                  build: explicit === undefined,
                  context: SLURM_IMAGE_CONTEXT,
              }
            : undefined;
    return {
        needs: {
            kind: touchesCluster,
            ...(touchesCluster && engine ? { engine } : {}),
            gpu: action === "up" && (kind?.gpuWorkers ?? 0) > 0,
            kubectl: action === "up" && (config.vcluster.tenants.length > 0 || waitsForGpus(config)),
        },
        image,
    };
}

/** The program waits for allocatable GPUs (with kubectl) before it creates GPU compute pods. */
function waitsForGpus(config: StackConfig): boolean {
    return config.gpuOperator.enabled && config.slurm.compute.gpus > 0;
}

function explicitSlurmImage(settings: Record<string, unknown>): string | undefined {
    const slurm = settings.slurm;
    const image = typeof slurm === "object" && slurm !== null ? (slurm as Record<string, unknown>).image : undefined;
    return typeof image === "string" ? image : undefined;
}
