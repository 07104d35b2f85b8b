import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeFixture, type DiagnoseFixture } from '../../src/checks/fixture.js';

/** Where `make fixtures` writes the diagnose fixtures recorded from the lab (scripts/record-fixtures.ts). */
export const FIXTURE_DIR = fileURLToPath(new URL('../../../test/fixtures/diagnose/', import.meta.url));

/** The fixtures' names: their files' names without .json, sorted. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** One fixture, decoded afresh (a check that changed its context cannot change another test's). */
export function loadFixture(name: string): DiagnoseFixture {
  return decodeFixture(readFileSync(`${FIXTURE_DIR}${name}.json`, 'utf8'), `${name}.json`);
}
