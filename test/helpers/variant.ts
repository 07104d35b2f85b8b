import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSeed } from '../../src/lab/variant.js';

/**
 * The variant seed of this test run: HOPDUMP_VARIANT when set (to replay a
 * failing seed), else derived from the commit under test, so that a run is
 * reproducible and every commit sees other hosts.
 */
export function runSeed(): number {
  const env = process.env.HOPDUMP_VARIANT;
  if (env) return parseSeed(env);
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return parseInt(head.slice(0, 8), 16);
  } catch {
    // Not a git checkout (an unpacked release): a fixed seed, still not the canonical lab.
    return 1;
  }
}
