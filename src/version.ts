import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** hopdump's version, from package.json (dist/src/version.js sits two levels below it). */
export function version(): string {
  if (cached === undefined) {
    try {
      cached = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
        .version;
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
