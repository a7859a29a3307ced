/**
 * The fake `kind`, `docker` and `podman` of tests/fakes first on PATH for the kind provider's tests, with the state
 * directory they share; see the fakes' headers for what they answer and record.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderKindConfig } from "../../../components/cluster/kindConfig";
import { KindProviderInputs, KindProviderOutputs } from "../../../components/cluster/kindProvider";
import { DEFAULT_KIND_NODE_IMAGE } from "../../../config/schema";

/** The settings of the cluster "lab" the provider tests create. */
export const CONFIG = {
    clusterName: "lab",
    workers: 2,
    gpuWorkers: 1,
    nodeImage: DEFAULT_KIND_NODE_IMAGE,
    portMappings: [],
};
/** The provider inputs of {@link CONFIG}. */
export const INPUTS: KindProviderInputs = {
    clusterName: "lab",
    configYaml: renderKindConfig(CONFIG),
    nodeImage: DEFAULT_KIND_NODE_IMAGE,
    kindPath: "kind",
};
/** Where the fake CLIs are. */
export const FAKES = path.resolve(__dirname, "../../fakes");
/** What the fake kind writes as the kubeconfig of "lab". */
export const KUBECONFIG_OF_LAB = "apiVersion: v1\nkind: Config\ncurrent-context: kind-lab\n# fake kubeconfig of lab\n";
/** The provider's outputs for {@link INPUTS}. */
export const STATE: KindProviderOutputs = { ...INPUTS, engine: "docker", images: [], kubeconfig: KUBECONFIG_OF_LAB };

/** Puts the fakes on PATH around each test (mocha hooks); returns accessors to their state. */
export function useFakeKind() {
    const savedEnv = { ...process.env };
    const box = { dir: "" };
    beforeEach(() => {
        box.dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kind-"));
        const bin = path.join(box.dir, "bin");
        fs.mkdirSync(bin);
        fs.symlinkSync(path.join(FAKES, "kind"), path.join(bin, "kind"));
        fs.symlinkSync(path.join(FAKES, "docker"), path.join(bin, "docker"));
        fs.symlinkSync(path.join(FAKES, "podman"), path.join(bin, "podman"));
        process.env.PATH = `${bin}${path.delimiter}${savedEnv.PATH}`;
        process.env.FAKE_CLI_STATE = box.dir;
        fake({});
    });
    afterEach(() => {
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        fs.rmSync(box.dir, { recursive: true, force: true });
    });
    /** Every invocation of `tool` so far, each as its argument list. */
    const calls = (tool = "kind"): string[][] => {
        const log = path.join(box.dir, `${tool}.calls`);
        if (!fs.existsSync(log)) return [];
        return fs
            .readFileSync(log, "utf8")
            .trimEnd()
            .split("\n")
            .map((line) => line.split("\t"));
    };
    /** The KIND_EXPERIMENTAL_PROVIDER of every kind call so far, in order (`(unset)` when it had none). */
    const engines = (): string[] => {
        const log = path.join(box.dir, "kind.env");
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trimEnd().split("\n") : [];
    };
    return { box, calls, engines, fake };
}

/** How the fake kind behaves: FAKE_KIND_MODE and the extra clusters it lists. */
export function fake(env: { mode?: string; clusters?: string }): void {
    process.env.FAKE_KIND_MODE = env.mode ?? "ok";
    process.env.FAKE_KIND_CLUSTERS = env.clusters ?? "";
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (e) {
        return e as Error;
    }
    assert.fail("expected the call to fail");
}
