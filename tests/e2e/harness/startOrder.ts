/** The order in which a lab hands pods to podman: what others wait for first. */

type Obj = Record<string, any>;

/** The part of a planned pod the order needs. */
export interface OrderedPod {
    readonly podName: string;
    readonly spec: Obj;
}

/**
 * `pods` sorted by how deep each sits in the SLURM_WAIT_FOR chain (a pod that waits for nothing first; one that
 * waits for it next; ...), then by name. `byHostName` maps every Service name to a pod it reaches; a target it does
 * not know (outside the render) adds no depth. A cycle is an error, naming it.
 */
export function startOrder<P extends OrderedPod>(pods: readonly P[], byHostName: ReadonlyMap<string, OrderedPod>): P[] {
    const depth = new Map<string, number>();
    const depthOf = (pod: OrderedPod, seen: string[]): number => {
        const known = depth.get(pod.podName);
        if (known !== undefined) return known;
        if (seen.includes(pod.podName)) {
            throw new Error(`SLURM_WAIT_FOR forms a cycle: ${[...seen, pod.podName].join(" -> ")}`);
        }
        const env: Obj[] = pod.spec.containers?.[0]?.env ?? [];
        const targets = String(env.find((e) => e.name === "SLURM_WAIT_FOR")?.value ?? "")
            .split(/\s+/)
            .filter(Boolean);
        const needs = targets
            .map((target) => byHostName.get(target.replace(/:\d+$/, "")))
            .filter((p): p is OrderedPod => p !== undefined);
        const d = needs.length ? 1 + Math.max(...needs.map((p) => depthOf(p, [...seen, pod.podName]))) : 0;
        depth.set(pod.podName, d);
        return d;
    };
    return [...pods].sort((a, b) => depthOf(a, []) - depthOf(b, []) || a.podName.localeCompare(b.podName));
}
