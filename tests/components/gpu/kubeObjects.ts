/** NodeList and PodList JSON as the API server returns them, for the fake kubectl to print. */

/** A NodeList whose nodes have the given allocatable `nvidia.com/gpu` (none when undefined). */
export function nodeList(gpus: Record<string, string | undefined>): unknown {
    return {
        kind: "NodeList",
        items: Object.entries(gpus).map(([name, count]) => ({
            metadata: { name },
            status: {
                allocatable: { cpu: "8", memory: "32Gi", ...(count === undefined ? {} : { "nvidia.com/gpu": count }) },
            },
        })),
    };
}

/** A PodList of device plugin pods in the given states. */
export function podList(
    pods: { name: string; node?: string; phase: string; ready: boolean; waiting?: string }[],
): unknown {
    return {
        kind: "PodList",
        items: pods.map((p) => ({
            metadata: { name: p.name },
            spec: p.node ? { nodeName: p.node } : {},
            status: {
                phase: p.phase,
                containerStatuses: [
                    { ready: p.ready, state: p.waiting ? { waiting: { reason: p.waiting } } : { running: {} } },
                ],
            },
        })),
    };
}
