/**
 * What the single executable (`make exe`, src/cli/exe.ts) carries inside itself instead of files
 * beside the code: the version, the worker threads' code, the serve page's scripts. From a
 * checkout nothing is set and every caller reads its file as before; in the executable its entry
 * point sets the assets before any command runs. Nothing here imports `node:sea` (Node 20.12+):
 * a checkout runs on any Node 20.
 */
export interface Embedded {
  /** An embedded text file by name (scripts/build-exe.mjs lists them); throws for an unknown one. */
  asset(name: string): string;
}

let embedded: Embedded | undefined;

/** Called once by the executable's entry point. */
export function setEmbedded(e: Embedded): void {
  embedded = e;
}

/** The executable's assets, or undefined when hopdump runs from a checkout or an npm install. */
export function executableAssets(): Embedded | undefined {
  return embedded;
}

/** The argument that makes the executable run the watch TCP agent instead of the CLI. */
export const TCP_AGENT_ARG = '__tcp-agent';

/**
 * How to start a worker thread whose code is `file` in a checkout and the asset of the same base
 * name in the executable (a bundled script, run with `eval`).
 */
export function workerSource(file: URL): { source: string | URL; eval: boolean } {
  if (!embedded) return { source: file, eval: false };
  const name = file.pathname.slice(file.pathname.lastIndexOf('/') + 1);
  return { source: embedded.asset(name), eval: true };
}
