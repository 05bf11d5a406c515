/**
 * The bytes a manifest signature covers: RFC 8785 JSON Canonicalization Scheme (JCS), so any
 * verifier in any language re-derives the same bytes from the parsed manifest.
 */
import canonicalize from 'canonicalize';

/**
 * `value` as RFC 8785 canonical JSON: keys sorted by UTF-16 code units, no whitespace, numbers in
 * ECMAScript shortest form, strings with minimal escaping.
 *
 * Unlike `JSON.stringify` (and the `canonicalize` package, which follows it), this throws on
 * `undefined`, functions, symbols, bigints and non-finite numbers anywhere in `value` instead of
 * dropping them or writing `null`: a signed manifest must say exactly what the caller built, so a
 * field that would silently vanish is a bug to report, not to sign. Also throws on cycles and lone
 * surrogates (which have no canonical form).
 */
export function canonicalJson(value: unknown): string {
  assertJsonValue(value, '$', new Set());
  const json = canonicalize(value);
  if (json === undefined) throw new TypeError('canonicalJson: the value has no JSON form');
  return json;
}

/**
 * Throws naming the path of the first part of `value` JSON cannot hold. `toJSON` is followed the
 * way `JSON.stringify` and `canonicalize` follow it (a Date checks as its ISO string).
 */
function assertJsonValue(value: unknown, path: string, ancestors: Set<object>): void {
  const resolved = resolveToJson(value, path);
  switch (typeof resolved) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(resolved)) {
        throw new TypeError(`canonicalJson: ${path} is ${resolved}, which JSON cannot hold`);
      }
      return;
    case 'object':
      if (resolved === null) return;
      assertJsonContainer(resolved, path, ancestors);
      return;
    default:
      throw new TypeError(`canonicalJson: ${path} is ${typeof resolved}, which JSON cannot hold`);
  }
}

/** Checks each member of an array or object, refusing cycles (they have no JSON form). */
function assertJsonContainer(container: object, path: string, ancestors: Set<object>): void {
  if (ancestors.has(container)) throw new TypeError(`canonicalJson: ${path} is a circular reference`);
  ancestors.add(container);
  if (Array.isArray(container)) {
    container.forEach((item: unknown, i) => assertJsonValue(item, `${path}[${i}]`, ancestors));
  } else {
    for (const [key, item] of Object.entries(container)) {
      assertJsonValue(item, `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(container);
}

/** `value` after its `toJSON` chain, and its boxed primitives unboxed, as `JSON.stringify` sees it. */
function resolveToJson(value: unknown, path: string): unknown {
  let current = value;
  for (let depth = 0; hasToJson(current); depth++) {
    if (depth > 100) throw new TypeError(`canonicalJson: ${path} has an endless toJSON chain`);
    current = current.toJSON();
  }
  if (current instanceof Number || current instanceof String || current instanceof Boolean) {
    return current.valueOf();
  }
  return current;
}

/** Whether `value` is an object with a `toJSON` method (a Date, a Buffer, a class instance). */
function hasToJson(value: unknown): value is { toJSON(): unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  );
}
