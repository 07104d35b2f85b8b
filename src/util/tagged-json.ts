/**
 * JSON for the values plain JSON cannot hold: each becomes a one-key object whose key starts with `$`.
 *
 *   bigint            {"$bigint": "1700000000000000000"}
 *   Map               {"$map": [[key, value], ...]}        (keys and values encoded in turn)
 *   Set               {"$set": [value, ...]}
 *   Uint8Array        {"$bytes": "base64"}
 *   undefined         {"$undefined": true}                 (only in arrays; an object's undefined property is left out)
 *   {"$x": ...}       {"$object": {"$x": ...}}             (a plain object with a `$` key, so decoding is never ambiguous)
 *
 * Anything else that is not a plain object, an array, a string, a finite number, a boolean or null
 * (a function, a class instance, NaN) is refused: a recorded file says exactly what was recorded.
 */
export function toTaggedJson(value: unknown, where = '$'): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${where}: ${value} has no JSON form`);
    return value;
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value === undefined) return { $undefined: true };
  if (Array.isArray(value)) return value.map((v, i) => toTaggedJson(v, `${where}[${i}]`));
  if (value instanceof Map)
    return {
      $map: [...value].map(([k, v], i) => [toTaggedJson(k, `${where}<key ${i}>`), toTaggedJson(v, `${where}<${i}>`)]),
    };
  if (value instanceof Set) return { $set: [...value].map((v, i) => toTaggedJson(v, `${where}{${i}}`)) };
  if (value instanceof Uint8Array)
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (
    typeof value === 'object' &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)
  ) {
    const out: Record<string, unknown> = {};
    let tagged = false;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      if (k.startsWith('$')) tagged = true;
      out[k] = toTaggedJson(v, `${where}.${k}`);
    }
    return tagged ? { $object: out } : out;
  }
  throw new Error(
    `${where}: a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value} has no JSON form`,
  );
}

/** The inverse of toTaggedJson. */
export function fromTaggedJson(value: unknown, where = '$'): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => fromTaggedJson(v, `${where}[${i}]`));
  const entries = Object.entries(value);
  const [tag, inner] = entries.length === 1 ? entries[0]! : [undefined, undefined];
  if (tag !== undefined && tag.startsWith('$')) {
    switch (tag) {
      case '$bigint':
        if (typeof inner !== 'string' || !/^-?\d+$/.test(inner))
          throw new Error(`${where}: $bigint ${JSON.stringify(inner)} is not an integer`);
        return BigInt(inner);
      case '$undefined':
        return undefined;
      case '$map':
        if (!Array.isArray(inner)) throw new Error(`${where}: $map is not a list of pairs`);
        return new Map(
          inner.map((pair: unknown, i) => {
            if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`${where}: $map entry ${i} is not a pair`);
            return [fromTaggedJson(pair[0], `${where}<key ${i}>`), fromTaggedJson(pair[1], `${where}<${i}>`)];
          }),
        );
      case '$set':
        if (!Array.isArray(inner)) throw new Error(`${where}: $set is not a list`);
        return new Set(inner.map((v, i) => fromTaggedJson(v, `${where}{${i}}`)));
      case '$bytes':
        if (typeof inner !== 'string') throw new Error(`${where}: $bytes is not base64 text`);
        return new Uint8Array(Buffer.from(inner, 'base64'));
      case '$object':
        if (inner === null || typeof inner !== 'object' || Array.isArray(inner))
          throw new Error(`${where}: $object is not an object`);
        return decodeObject(inner as object, where);
      default:
        throw new Error(`${where}: unknown tag ${tag}`);
    }
  }
  return decodeObject(value, where);
}

function decodeObject(value: object, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromTaggedJson(v, `${where}.${k}`);
  return out;
}

/**
 * JSON text of toTaggedJson(value). With `lines`, objects and arrays down to that depth are
 * written one member a line (indented by one space a level), anything deeper on its member's
 * line: a file that diffs line by line without one line per number.
 */
export function stringifyTagged(value: unknown, lines = 0): string {
  return writeJson(toTaggedJson(value), lines, '');
}

/** JSON text of an already JSON-safe value, members on their own lines down to `lines` levels. */
export function writeJson(value: unknown, lines: number, indent: string): string {
  if (lines <= 0 || value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent} `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => `${inner}${writeJson(v, lines - 1, inner)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${writeJson(v, lines - 1, inner)}`).join(',\n')}\n${indent}}`;
}

/** One difference between two JSON values: [path, new value] sets it, [path] removes it. */
export type JsonChange = [path: Array<string | number>] | [path: Array<string | number>, value: unknown];

/**
 * What changed from `a` to `b`, two JSON values (plain data, as toTaggedJson makes them): the
 * leaves (or whole arrays, when their lengths differ) whose values differ, in document order.
 */
export function jsonChanges(a: unknown, b: unknown, path: Array<string | number> = []): JsonChange[] {
  if (a === b) return [];
  const bothObjects =
    a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects || (Array.isArray(a) && a.length !== (b as unknown[]).length)) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [[path, b]];
  }
  if (Array.isArray(a)) return a.flatMap((v, i) => jsonChanges(v, (b as unknown[])[i], [...path, i]));
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const out: JsonChange[] = [];
  for (const k of Object.keys(ao))
    out.push(...(k in bo ? jsonChanges(ao[k], bo[k], [...path, k]) : [[[...path, k]] as JsonChange]));
  for (const k of Object.keys(bo)) if (!(k in ao)) out.push([[...path, k], bo[k]]);
  return out;
}

/** `a` (a JSON value, not changed) with jsonChanges(a, b) applied: b again. */
export function applyJsonChanges(a: unknown, changes: JsonChange[]): unknown {
  let root = structuredClone(a);
  for (const change of changes) {
    const [path] = change;
    if (path.length === 0) {
      root = change.length === 2 ? structuredClone(change[1]) : undefined;
      continue;
    }
    let at: unknown = root;
    for (const key of path.slice(0, -1)) {
      if (at === null || typeof at !== 'object')
        throw new Error(`change at ${path.join('.')}: ${key} is not in the value`);
      at = (at as Record<string | number, unknown>)[key];
    }
    if (at === null || typeof at !== 'object')
      throw new Error(`change at ${path.join('.')}: its parent is not an object or array`);
    const last = path[path.length - 1]!;
    if (change.length === 2) (at as Record<string | number, unknown>)[last] = structuredClone(change[1]);
    else delete (at as Record<string | number, unknown>)[last];
  }
  return root;
}

/** fromTaggedJson of JSON text. */
export function parseTagged(text: string): unknown {
  return fromTaggedJson(JSON.parse(text) as unknown);
}
