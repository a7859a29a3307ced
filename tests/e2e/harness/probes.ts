/** A pod's probes run as kubelet runs them, for the podman lab (which has no kubelet). */
import { podman, CommandResult } from "./podman";

/**
 * Runs `probe` of the container `containerName` (whose pod has `address`): an exec probe inside it, a TCP probe
 * from the lab's `anchor` container. Undefined for a probe of another kind. kubelet bounds the probe command by
 * timeoutSeconds, not its own overhead: so does `timeout` in the container, while the podman call gets a bound of
 * its own for a loaded machine.
 */
export async function runProbe(
    probe: Record<string, any>,
    containerName: string,
    address: string,
    anchor: string,
): Promise<CommandResult | undefined> {
    const seconds = String(probe.timeoutSeconds ?? 1);
    if (probe.exec) return podman(["exec", containerName, "timeout", seconds, ...probe.exec.command]);
    if (probe.tcpSocket) {
        const script = `timeout ${seconds} bash -c '</dev/tcp/${address}/${probe.tcpSocket.port}'`;
        return podman(["exec", anchor, "bash", "-c", script]);
    }
    return undefined;
}
