import type { Command } from './command.js';

/** Every command, in the order `hopdump --help` lists them. */
export function commands(): Command[] {
  return [];
}
