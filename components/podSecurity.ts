/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * Namespace labels that make Pod Security admission enforce `enforce`, and warn and audit against `audit`
 * (default: the same level), so a stricter target shows up in warnings without rejecting pods.
 */
export function podSecurityLabels(
    enforce: PodSecurityLevel,
    audit: PodSecurityLevel = enforce,
): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/warn": enforce,
        "pod-security.kubernetes.io/audit": audit,
    };
}
