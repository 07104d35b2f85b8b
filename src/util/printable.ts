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
