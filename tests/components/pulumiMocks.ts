/**
 * Pulumi mocks for the component tests: every registered or read resource is recorded, and the options each
 * child was given (dependsOn) are captured through a transformation on the component under test.
 */
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, recordingMocks } from "../../offline/evaluate";

/** One resource as the mock engine saw it. */
export type Recorded = RecordedResource;

/** Mock engine state: what was registered, and canned state for resources that are read. */
export interface MockEngine {
    readonly resources: Recorded[];
    /** State returned for a read of `type` with `id` (e.g. a Secret's `data`), keyed `<type> <id>`. */
    readonly reads: Map<string, Record<string, any>>;
    /** Forget everything recorded so far. */
    reset(): void;
    /** The one resource of `type` named `name`; fails listing what was registered when it is missing. */
    named(type: string, name: string): Recorded;
    /** Every resource of `type`. */
    ofType(type: string): Recorded[];
}

/**
 * Installs the program's own recording mocks (`recordingMocks`) once, for tests that build components one by
 * one (call in a `before`, and `reset()` between tests).
 */
export async function installMocks(): Promise<MockEngine> {
    const resources: Recorded[] = [];
    const reads = new Map<string, Record<string, any>>();
    await pulumi.runtime.setMocks(recordingMocks(resources, reads), "ai-hyperscaler", "test", false);
    return {
        resources,
        reads,
        reset() {
            resources.length = 0;
            reads.clear();
        },
        named(type, name) {
            const found = resources.find((r) => r.type === type && r.name === name);
            if (!found) {
                throw new Error(`${type} ${name} was not registered; got: ${resources.map((r) => `${r.type} ${r.name}`).join(", ")}`);
            }
            return found;
        },
        ofType(type) {
            return resources.filter((r) => r.type === type);
        },
    };
}

/** Waits until every registration started so far has reached the mock engine. */
export async function settle(): Promise<void> {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** The value of an output under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Records each child's options through a `transformations` option on the component under test. */
export function dependencyRecorder(): {
    transformation: pulumi.ResourceTransformation;
    /** Names of the resources the child `name` was told to depend on, sorted. */
    dependsOn(name: string): string[];
    /** The options the child `name` was created with. */
    options(name: string): pulumi.ResourceOptions;
} {
    const names = new Map<pulumi.Resource, string>();
    const opts = new Map<string, pulumi.ResourceOptions>();
    const transformation: pulumi.ResourceTransformation = (args) => {
        names.set(args.resource, args.name);
        opts.set(args.name, args.opts);
        return undefined;
    };
    const options = (name: string): pulumi.ResourceOptions => {
        const found = opts.get(name);
        if (!found) throw new Error(`no resource named ${name} was created; got: ${[...opts.keys()].join(", ")}`);
        return found;
    };
    return {
        transformation,
        options,
        dependsOn(name) {
            const raw = options(name).dependsOn;
            const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
            return list.map((r) => names.get(r as pulumi.Resource) ?? "(unknown resource)").sort();
        },
    };
}

/** The kinds of resources recorded, each once, sorted. */
export function kinds(resources: readonly Recorded[]): string[] {
    return [...new Set(resources.map((r) => r.type))].sort();
}
