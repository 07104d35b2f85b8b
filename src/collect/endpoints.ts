/**
 * Where the Docker Engine and libvirt listen by default, and which libvirt URIs are per-user
 * sessions: the few constants that discovery (docker.ts, domains.ts) and the shells' completion
 * (src/cli/complete.ts, which must stay light: it runs at every TAB) both need. No imports.
 */

/** The Docker Engine's default socket (the docker CLI's default host; systemd's docker.socket listens there). */
export const DOCKER_DEFAULT_SOCKET = '/var/run/docker.sock';
/** Podman's Docker-compatible API socket when it runs as the system service (podman.socket). */
export const PODMAN_SOCKET = '/run/podman/podman.sock';

/** The system daemons' sockets (monolithic libvirtd, modular virtqemud), where qemu:///system finds them. */
export const LIBVIRT_SYSTEM_SOCKETS = ['/run/libvirt/libvirt-sock', '/run/libvirt/virtqemud-sock'];

/** Whether a libvirt URI is a per-user session one (qemu:///session), which virsh starts a daemon for. */
export function isSessionUri(uri: string): boolean {
  return /^[a-z]+(\+[a-z]+)?:\/\/[^/?]*\/session\b/i.test(uri);
}
