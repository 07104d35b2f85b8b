import type { Command } from './command.js';
import { analyzeCommand } from './analyze.js';
import { diagnoseCommand } from './diagnose.js';
import { discoverCommand } from './discover.js';
import { labCommand } from './lab.js';
import { pathCommand } from './path.js';
import { readCommand } from './read.js';

/** Every command, in the order `hopdump --help` lists them. */
export function commands(): Command[] {
  return [diagnoseCommand, analyzeCommand, labCommand, discoverCommand, pathCommand, readCommand];
}
