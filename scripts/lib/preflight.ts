/**
 * Checks of the host before anything is built or deployed: the Pulumi CLI's version, kind's version, the Docker
 * CLI and a running engine, and for a GPU stack the NVIDIA driver and Docker's GPU set-up (the one nvkind
 * documents). Each problem is one line that says what is wrong and what to do, and points at the README.
 */
import * as fs from "fs";
import { firstLine, Runner, runCommand } from "./run";

/** The oldest Pulumi CLI that accepts `type: object` settings in Pulumi.yaml (3.187.0). */
export const MIN_PULUMI_VERSION = "3.187.0";

/** The oldest kind that publishes the default node image, kindest/node:v1.33.1 (kind v0.29.0). */
export const MIN_KIND_VERSION = "0.29.0";

/** Where the NVIDIA container runtime reads its settings on a GPU host. */
export const NVIDIA_RUNTIME_CONFIG = "/etc/nvidia-container-runtime/config.toml";

const SEE = '(README, "Prerequisites")';

/** What a run needs from the host. */
export interface HostNeeds {
    /** kind (a Kind stack that is brought up or destroyed). */
    readonly kind: boolean;
    /** The Docker CLI and a running engine (kind's nodes, or an image to build or check). */
    readonly docker: boolean;
    /** An NVIDIA GPU usable by Kind nodes (a Kind stack with cluster.gpuWorkers > 0 brought up). */
    readonly gpu: boolean;
}

/** Host paths the checks read; replaced in tests. */
export interface HostPaths {
    /** The NVIDIA container runtime's config. Default {@link NVIDIA_RUNTIME_CONFIG}. */
    readonly nvidiaRuntimeConfig: string;
}

/** Every problem of the host for `needs`, one line each; empty when all is ready. The Pulumi CLI is always needed. */
export function hostProblems(needs: HostNeeds, run: Runner = runCommand, paths: HostPaths = { nvidiaRuntimeConfig: NVIDIA_RUNTIME_CONFIG }): string[] {
    const problems = [pulumiProblem(run), needs.kind ? kindProblem(run) : undefined];
    if (needs.docker || needs.gpu) {
        const docker = dockerEngine(run);
        problems.push(docker.problem);
        if (needs.gpu) problems.push(...gpuProblems(run, paths, docker.defaultRuntime));
    }
    return problems.filter((problem): problem is string => problem !== undefined);
}

/** -1, 0 or 1 as `a` is older than, the same as, or newer than `b` (major.minor.patch; any suffix ignored). */
export function compareVersions(a: string, b: string): number {
    const parts = (v: string) => (/(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 4).map(Number);
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < 3; i++) {
        if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

function pulumiProblem(run: Runner): string | undefined {
    const install = `install the Pulumi CLI ${MIN_PULUMI_VERSION} or newer (https://www.pulumi.com/docs/iac/download-install/)`;
    const result = run("pulumi", ["version"]);
    if (result.notFound) return `pulumi: the Pulumi CLI is not on PATH; ${install} ${SEE}`;
    const version = /\d+\.\d+\.\d+\S*/.exec(result.stdout)?.[0];
    if (result.status !== 0 || version === undefined) {
        return `pulumi: \`pulumi version\` failed (${firstLine(result.stderr) || `exit ${result.status}`}); ${install} ${SEE}`;
    }
    if (compareVersions(version, MIN_PULUMI_VERSION) < 0) {
        return `pulumi: version ${version} is older than ${MIN_PULUMI_VERSION}, the first that reads this project's typed settings; upgrade it (${install}) ${SEE}`;
    }
    return undefined;
}

function kindProblem(run: Runner): string | undefined {
    const install = `install kind v${MIN_KIND_VERSION} or newer (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)`;
    const result = run("kind", ["version"]);
    if (result.notFound) return `kind: kind is not on PATH; ${install} ${SEE}`;
    const version = /v?(\d+\.\d+\.\d+\S*)/.exec(result.stdout)?.[1];
    if (result.status !== 0 || version === undefined) {
        return `kind: \`kind version\` failed (${firstLine(result.stderr) || `exit ${result.status}`}); ${install} ${SEE}`;
    }
    if (compareVersions(version, MIN_KIND_VERSION) < 0) {
        return `kind: version ${version} is older than ${MIN_KIND_VERSION}, the first with the pinned node image kindest/node:v1.33.1; ${install} ${SEE}`;
    }
    return undefined;
}

function dockerEngine(run: Runner): { problem?: string; defaultRuntime?: string } {
    const result = run("docker", ["info", "--format", "{{.ServerVersion}}|{{.DefaultRuntime}}"]);
    if (result.notFound) {
        return { problem: `docker: the Docker CLI is not on PATH; install Docker Engine (https://docs.docker.com/engine/install/) ${SEE}` };
    }
    const [serverVersion, defaultRuntime] = result.stdout.trim().split("|");
    if (result.status !== 0 || !serverVersion) {
        const said = firstLine(result.stderr) || `exit ${result.status}`;
        return {
            problem: `docker: the Docker engine is not running or this user cannot reach it (docker info: ${said}); start it (\`sudo systemctl start docker\`) and make sure \`docker info\` works without sudo ${SEE}`,
        };
    }
    return { defaultRuntime };
}

function gpuProblems(run: Runner, paths: HostPaths, defaultRuntime: string | undefined): string[] {
    const problems: string[] = [];
    const smi = run("nvidia-smi", ["-L"]);
    if (smi.notFound || smi.status !== 0 || !/^GPU \d+/m.test(smi.stdout)) {
        const said = smi.notFound ? "nvidia-smi is not on PATH" : firstLine(smi.stderr) || firstLine(smi.stdout) || `exit ${smi.status}`;
        problems.push(`gpu: \`nvidia-smi -L\` lists no GPU (${said}); the gpu stack needs an NVIDIA GPU with its driver on this host ${SEE}`);
    }
    const configure = "`sudo nvidia-ctk runtime configure --runtime=docker --set-as-default --cdi.enabled && sudo systemctl restart docker`";
    if (defaultRuntime !== undefined && defaultRuntime !== "nvidia") {
        problems.push(`gpu: Docker's default runtime is ${defaultRuntime || "unknown"}, not nvidia; install the NVIDIA Container Toolkit and run ${configure} ${SEE}`);
    }
    const file = paths.nvidiaRuntimeConfig;
    let config: string | undefined;
    try {
        config = fs.readFileSync(file, "utf8");
    } catch {
        config = undefined;
    }
    if (config === undefined || !/^\s*accept-nvidia-visible-devices-as-volume-mounts\s*=\s*true\s*(#.*)?$/m.test(config)) {
        const state = config === undefined ? `${file} cannot be read` : `${file} does not set accept-nvidia-visible-devices-as-volume-mounts = true`;
        problems.push(
            `gpu: ${state}; Kind nodes get GPUs through volume mounts: run \`sudo nvidia-ctk config --set accept-nvidia-visible-devices-as-volume-mounts=true --in-place && sudo systemctl restart docker\` ${SEE}`,
        );
    }
    return problems;
}
