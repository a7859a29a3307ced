import { parseStackConfig } from "../../../config/schema";
import type { SlurmSettings } from "../../../config/schema";

/** Validated `slurm` settings in slinky mode, with the project's defaults for what `raw` leaves out. */
export function slinkySettings(raw: Record<string, unknown> = {}, gpus = false): SlurmSettings {
    return parseStackConfig({
        cluster: { type: "existing" },
        slurm: { mode: "slinky", ...raw },
        ...(gpus ? { gpuOperator: { enabled: true } } : {}),
    }).slurm;
}
