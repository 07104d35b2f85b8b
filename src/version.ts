import { readFileSync } from 'node:fs';
import { executableAssets } from './embedded.js';

let cached: string | undefined;

/**
 * hopdump's version, from package.json (dist/src/version.js sits two levels below it), or the one
 * the single executable was built with.
 */
export function version(): string {
  if (cached === undefined) {
    try {
      const exe = executableAssets();
      cached = exe
        ? exe.asset('version').trim()
        : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
            .version;
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
