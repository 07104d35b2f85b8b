/**
 * Every process or state change hopdump starts registers its undo here at the
 * moment it starts. The CLI runs what is still pending when a command returns
 * or throws (src/cli/main.ts), and the signal handlers below on SIGINT (exit
 * 130), SIGTERM (143) and SIGHUP (129); what SIGKILL cannot run is bounded
 * elsewhere (each child has its own lifetime limit and its own process group).
 */
type Undo = () => void | Promise<void>;

const pending = new Map<number, { what: string; undo: Undo }>();
let nextId = 1;
let installed = false;

export interface Registration {
  /** Runs the undo now (once) and forgets it. */
  run(): Promise<void>;
  /** Forgets the undo without running it (the thing ended by itself). */
  release(): void;
}

export function registerCleanup(what: string, undo: Undo): Registration {
  installHandlers();
  const id = nextId++;
  pending.set(id, { what, undo });
  return {
    async run() {
      const entry = pending.get(id);
      if (!entry) return;
      pending.delete(id);
      await entry.undo();
    },
    release() {
      pending.delete(id);
    },
  };
}

/** Runs every pending undo, newest first; errors are collected, not thrown. */
export async function runAllCleanups(): Promise<string[]> {
  const failures: string[] = [];
  const entries = [...pending.entries()].reverse();
  pending.clear();
  for (const [, { what, undo }] of entries) {
    try {
      await undo();
    } catch (err) {
      failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failures;
}

export function pendingCleanups(): string[] {
  return [...pending.values()].map((p) => p.what);
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals) => {
    void runAllCleanups().finally(() => {
      process.exitCode = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15);
      process.exit();
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
}
