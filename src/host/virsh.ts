/** `virsh` with a connection URI when one is given (undefined: virsh's own default, LIBVIRT_DEFAULT_URI). */
export function virshArgv(uri: string | undefined, args: string[]): string[] {
  return ['virsh', '-q', ...(uri ? ['-c', uri] : []), ...args];
}
