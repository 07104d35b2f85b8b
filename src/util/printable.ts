/**
 * Text from outside (capture files, guests, containers, interface and chain names) made safe to
 * print on a terminal: C0 and C1 control characters and DEL become \xNN,
 * so that nothing read from a host can move the cursor, retitle the terminal or end a line.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The same for every string inside a value (a report, a topology) before it is rendered as text. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((v) => printableDeep(v)) as T;
  if (value instanceof Map)
    return new Map([...(value as Map<unknown, unknown>)].map(([k, v]) => [printableDeep(k), printableDeep(v)])) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printableDeep(v)])) as T;
  }
  return value;
}
