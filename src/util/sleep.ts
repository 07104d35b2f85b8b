/** The one sleep: a promise that resolves after ms milliseconds. Wait for readiness instead where a program can say it is ready. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
