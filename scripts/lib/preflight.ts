/**
 * Checks of the host before anything is built or deployed: the Pulumi CLI's version, kind's version, the chosen
 * engine's CLI (Docker's with a running engine, or Podman's), and for a GPU stack the NVIDIA driver and Docker's GPU
 * set-up (the one nvkind documents). Each problem is one line that says what is wrong and what to do, and points at
 * the README.
 */
import * as fs from "fs";
import type { ContainerEngine } from "../../config/rules";
import { MINIMUM_PULUMI_CLI_VERSION } from "../../config/settings";
import { firstLine, Runner, RunResult, runCommand } from "./run";

/** The oldest Pulumi CLI that accepts `type: object` settings in Pulumi.yaml (the settings' own constant). */
export const MIN_PULUMI_VERSION = MINIMUM_PULUMI_CLI_VERSION;

/** The oldest kind that publishes the default node image, kindest/node:v1.33.1 (kind v0.29.0). */
export const MIN_KIND_VERSION = "0.29.0";

/** Where the NVIDIA container runtime reads its settings on a GPU host. */
export const NVIDIA_RUNTIME_CONFIG = "/etc/nvidia-container-runtime/config.toml";

const SEE = '(README, "Prerequisites")';

/** What a run needs from the host. */
export interface HostNeeds {
    /** kind (a Kind stack that is brought up or destroyed). */
    readonly kind: boolean;
    /**
     * The engine whose CLI (and, for Docker, running service) the run needs: kind's nodes, or an image to build or
     * check. Undefined when none is needed.
     */
    readonly engine?: ContainerEngine;
    /**
     * An NVIDIA GPU usable by Kind nodes (a Kind stack with cluster.gpuWorkers > 0 brought up); checks Docker too,
     * the only engine nvkind's set-up works with (the settings refuse a GPU stack on Podman).
     */
    readonly gpu: boolean;
    /** kubectl (an `up` that waits, with kubectl, for tenants' kubeconfig Secrets or for GPUs on the nodes). */
    readonly kubectl: boolean;
}

/** Host paths the checks read; replaced in tests. */
export interface HostPaths {
    /** The NVIDIA container runtime's config. Default {@link NVIDIA_RUNTIME_CONFIG}. */
    readonly nvidiaRuntimeConfig: string;
}

/** Every problem of the host for `needs`, one line each; empty when all is ready. The Pulumi CLI is always needed. */
export function hostProblems(
    needs: HostNeeds,
    run: Runner = runCommand,
    paths: HostPaths = { nvidiaRuntimeConfig: NVIDIA_RUNTIME_CONFIG },
): string[] {
    const problems = [
        pulumiProblem(run),
        needs.kind ? kindProblem(run) : undefined,
        needs.kubectl ? kubectlProblem(run) : undefined,
    ];
    if (needs.engine === "podman") problems.push(podmanProblem(run));
    if (needs.engine === "docker" || needs.gpu) {
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

const KUBECTL_INSTALL = "https://kubernetes.io/docs/tasks/tools/#kubectl";

function kubectlProblem(run: Runner): string | undefined {
    const result = run("kubectl", ["version", "--client"]);
    if (!result.notFound && result.status === 0) return undefined;
    const why = "the stack waits with it for the tenants' kubeconfig Secrets and for GPUs";
    const found = result.notFound ? "is not on PATH" : `does not run (${said(result)})`;
    return `kubectl: kubectl ${found}; ${why}; install it (${KUBECTL_INSTALL}) ${SEE}`;
}

const PULUMI_INSTALL = "https://www.pulumi.com/docs/iac/download-install/";
const KIND_INSTALL = "https://kind.sigs.k8s.io/docs/user/quick-start/#installation";
const DOCKER_INSTALL = "https://docs.docker.com/engine/install/";
const PODMAN_INSTALL = "https://podman.io/docs/installation";
const KIND_ROOTLESS = "https://kind.sigs.k8s.io/docs/user/rootless/";
const VOLUME_MOUNTS = "accept-nvidia-visible-devices-as-volume-mounts";
const RESTART_DOCKER = "sudo systemctl restart docker";

function pulumiProblem(run: Runner): string | undefined {
    const install = `install the Pulumi CLI ${MIN_PULUMI_VERSION} or newer (${PULUMI_INSTALL})`;
    const result = run("pulumi", ["version"]);
    if (result.notFound) return `pulumi: the Pulumi CLI is not on PATH; ${install} ${SEE}`;
    const version = /\d+\.\d+\.\d+\S*/.exec(result.stdout)?.[0];
    if (result.status !== 0 || version === undefined) {
        return `pulumi: \`pulumi version\` failed (${said(result)}); ${install} ${SEE}`;
    }
    if (compareVersions(version, MIN_PULUMI_VERSION) < 0) {
        const why = "the first that reads this project's typed settings";
        return `pulumi: version ${version} is older than ${MIN_PULUMI_VERSION}, ${why}; upgrade it (${install}) ${SEE}`;
    }
    return undefined;
}

function kindProblem(run: Runner): string | undefined {
    const install = `install kind v${MIN_KIND_VERSION} or newer (${KIND_INSTALL})`;
    const result = run("kind", ["version"]);
    if (result.notFound) return `kind: kind is not on PATH; ${install} ${SEE}`;
    const version = /v?(\d+\.\d+\.\d+\S*)/.exec(result.stdout)?.[1];
    if (result.status !== 0 || version === undefined) {
        return `kind: \`kind version\` failed (${said(result)}); ${install} ${SEE}`;
    }
    if (compareVersions(version, MIN_KIND_VERSION) < 0) {
        const why = "the first with the pinned node image kindest/node:v1.33.1";
        return `kind: version ${version} is older than ${MIN_KIND_VERSION}, ${why}; ${install} ${SEE}`;
    }
    return undefined;
}

function dockerEngine(run: Runner): { problem?: string; defaultRuntime?: string } {
    const result = run("docker", ["info", "--format", "{{.ServerVersion}}|{{.DefaultRuntime}}"]);
    if (result.notFound) {
        return { problem: `docker: the Docker CLI is not on PATH; install Docker Engine (${DOCKER_INSTALL}) ${SEE}` };
    }
    const [serverVersion, defaultRuntime] = result.stdout.trim().split("|");
    if (result.status !== 0 || !serverVersion) {
        const action = "start it (`sudo systemctl start docker`) and make sure `docker info` works without sudo";
        const problem = `docker: the Docker engine is not running or this user cannot reach it`;
        return { problem: `${problem} (docker info: ${said(result)}); ${action} ${SEE}` };
    }
    return { defaultRuntime };
}

function podmanProblem(run: Runner): string | undefined {
    const result = run("podman", ["info", "--format", "{{.Version.Version}}"]);
    const other = "or set cluster.engine to docker";
    if (result.notFound) {
        return `podman: the podman CLI is not on PATH (cluster.engine podman); install Podman (${PODMAN_INSTALL}), ${other} ${SEE}`;
    }
    if (result.status !== 0 || result.stdout.trim() === "") {
        const action = `make sure \`podman info\` works for this user (kind as non-root: ${KIND_ROOTLESS}), ${other}`;
        return `podman: podman does not work (podman info: ${said(result)}); ${action} ${SEE}`;
    }
    return undefined;
}

function gpuProblems(run: Runner, paths: HostPaths, defaultRuntime: string | undefined): string[] {
    const problems: string[] = [];
    const smi = run("nvidia-smi", ["-L"]);
    if (smi.notFound || smi.status !== 0 || !/^GPU \d+/m.test(smi.stdout)) {
        const why = smi.notFound ? "nvidia-smi is not on PATH" : said(smi);
        const need = "the gpu stack needs an NVIDIA GPU with its driver on this host";
        problems.push(`gpu: \`nvidia-smi -L\` lists no GPU (${why}); ${need} ${SEE}`);
    }
    if (defaultRuntime !== undefined && defaultRuntime !== "nvidia") {
        const configure = `sudo nvidia-ctk runtime configure --runtime=docker --set-as-default --cdi.enabled`;
        const is = `Docker's default runtime is ${defaultRuntime || "unknown"}, not nvidia`;
        problems.push(
            `gpu: ${is}; install the NVIDIA Container Toolkit and run \`${configure} && ${RESTART_DOCKER}\` ${SEE}`,
        );
    }
    const file = paths.nvidiaRuntimeConfig;
    let config: string | undefined;
    try {
        config = fs.readFileSync(file, "utf8");
    } catch {
        config = undefined;
    }
    const enabled = new RegExp(`^\\s*${VOLUME_MOUNTS}\\s*=\\s*true\\s*(#.*)?$`, "m");
    if (config === undefined || !enabled.test(config)) {
        const state = config === undefined ? `${file} cannot be read` : `${file} does not set ${VOLUME_MOUNTS} = true`;
        const set = `sudo nvidia-ctk config --set ${VOLUME_MOUNTS}=true --in-place`;
        problems.push(
            `gpu: ${state}; Kind nodes get GPUs through volume mounts: run \`${set} && ${RESTART_DOCKER}\` ${SEE}`,
        );
    }
    return problems;
}

/** What a failed command said, in one line: its first line of stderr, else of stdout, else its exit status. */
function said(result: RunResult): string {
    return firstLine(result.stderr) || firstLine(result.stdout) || `exit ${result.status}`;
}
