/**
 * Builds a value that satisfies a JSON Schema, deterministically: the same schema and seed always
 * give the same value, and different seeds (prompts) give different values within the bounds. It
 * covers what `z.toJSONSchema` emits for plain structured-output schemas: objects, strings (length
 * bounds; formats email, uri, uuid, date-time, date), numbers and integers (inclusive/exclusive
 * bounds, multipleOf), booleans, null, arrays (item bounds, unique enum items), enums, const,
 * anyOf/oneOf (first non-null branch) and local `$ref`s. A `pattern` outside these formats is not
 * honoured: give the fake a responder for such schemas.
 */
export function sampleFromJsonSchema(schema: unknown, seed = 0): unknown {
  return new Sampler(schema, seed).sample(schema, '$', 0);
}

/** FNV-1a over a string, as an unsigned 32-bit number. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

type Node = Record<string, unknown>;

/** Past this depth arrays get their minimum length, so recursive schemas end. */
const MAX_DEPTH = 12;
/** A hard stop for schemas that cannot end (a required recursive property). */
const MAX_REF_DEPTH = 40;
const WORDS = [
  'amber',
  'brisk',
  'cobalt',
  'delta',
  'ember',
  'fjord',
  'glade',
  'harbor',
  'iris',
  'juniper',
  'kelp',
  'lumen',
];

class Sampler {
  constructor(
    private readonly root: unknown,
    private readonly seed: number,
  ) {}

  sample(input: unknown, path: string, depth: number): unknown {
    if (typeof input !== 'object' || input === null) return null;
    const node = input as Node;
    const h = fnv1a(path, this.seed ^ 0x811c9dc5);

    if (typeof node.$ref === 'string') {
      if (depth > MAX_REF_DEPTH) return null;
      return this.sample(this.resolve(node.$ref), path, depth + 1);
    }
    if ('const' in node) return node.const;
    if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[h % node.enum.length];
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = node[key];
      if (Array.isArray(branches) && branches.length > 0) {
        const chosen = branches.find((b) => (b as Node | null)?.type !== 'null') ?? branches[0];
        return this.sample(chosen, path, depth + 1);
      }
    }
    if (Array.isArray(node.allOf) && node.allOf.length > 0) {
      return this.sample(Object.assign({}, ...(node.allOf as Node[])), path, depth + 1);
    }

    const type = Array.isArray(node.type)
      ? ((node.type as string[]).find((t) => t !== 'null') ?? 'null')
      : ((node.type as string | undefined) ??
        (node.properties ? 'object' : node.items ? 'array' : undefined));
    switch (type) {
      case 'object':
        return this.object(node, path, depth);
      case 'array':
        return this.array(node, path, depth);
      case 'string':
        return this.string(node, path, h);
      case 'integer':
        return this.integer(node, h);
      case 'number':
        return this.number(node, h);
      case 'boolean':
        return h % 2 === 0;
      case 'null':
        return null;
      default:
        // `{}` accepts anything: a string is the most harmless answer.
        return `fake ${WORDS[h % WORDS.length]}`;
    }
  }

  private object(node: Node, path: string, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (depth > MAX_REF_DEPTH) return out;
    const properties = (node.properties as Record<string, unknown> | undefined) ?? {};
    for (const [key, sub] of Object.entries(properties))
      out[key] = this.sample(sub, `${path}.${key}`, depth + 1);
    return out;
  }

  private array(node: Node, path: string, depth: number): unknown[] {
    const min = typeof node.minItems === 'number' ? node.minItems : 0;
    const max = typeof node.maxItems === 'number' ? node.maxItems : Math.max(min, 3);
    const count = depth > MAX_DEPTH ? min : Math.min(max, Math.max(min, 2));
    const items = (node.items ?? {}) as Node;
    const enumItems = Array.isArray(items.enum) ? items.enum : undefined;
    const out: unknown[] = [];
    for (let i = 0; i < count; i++) {
      if (enumItems && node.uniqueItems === true) {
        // Consecutive enum members are distinct for as many items as the enum has.
        out.push(enumItems[(fnv1a(path, this.seed) + i) % enumItems.length]);
      } else {
        out.push(this.sample(items, `${path}[${i}]`, depth + 1));
      }
    }
    return out;
  }

  private string(node: Node, path: string, h: number): string {
    const min = typeof node.minLength === 'number' ? node.minLength : 0;
    const max = typeof node.maxLength === 'number' ? node.maxLength : Math.max(min, 120);
    const hex = h.toString(16).padStart(8, '0');
    switch (node.format) {
      case 'email':
        return `fake.${hex}@example.com`;
      case 'uri':
      case 'url':
        return `https://example.com/fake/${hex}`;
      case 'uuid':
        return `${hex}-${hex.slice(0, 4)}-4${hex.slice(1, 4)}-8${hex.slice(4, 7)}-${hex}${hex.slice(0, 4)}`;
      case 'date-time':
        return new Date(Date.UTC(2025, 0, 1 + (h % 365), h % 24, h % 60)).toISOString();
      case 'date':
        return new Date(Date.UTC(2025, 0, 1 + (h % 365))).toISOString().slice(0, 10);
      default:
        break;
    }
    const field =
      path
        .replace(/\[\d+\]/g, '')
        .split('.')
        .pop() ?? 'text';
    let text = `fake ${field} ${WORDS[h % WORDS.length]} ${WORDS[(h >>> 8) % WORDS.length]}`;
    while (text.length < min) text += ` ${WORDS[(h + text.length) % WORDS.length]}`;
    if (text.length > max) text = text.slice(0, max);
    return text;
  }

  private integer(node: Node, h: number): number {
    let lo = typeof node.minimum === 'number' ? Math.ceil(node.minimum) : -Infinity;
    let hi = typeof node.maximum === 'number' ? Math.floor(node.maximum) : Infinity;
    if (typeof node.exclusiveMinimum === 'number') lo = Math.max(lo, Math.floor(node.exclusiveMinimum) + 1);
    if (typeof node.exclusiveMaximum === 'number') hi = Math.min(hi, Math.ceil(node.exclusiveMaximum) - 1);
    [lo, hi] = readableRange(lo, hi);
    const step = typeof node.multipleOf === 'number' && node.multipleOf > 0 ? node.multipleOf : 1;
    const first = Math.ceil(lo / step) * step;
    const count = Math.floor((hi - first) / step) + 1;
    return count > 0 ? first + (h % count) * step : lo;
  }

  private number(node: Node, h: number): number {
    let lo = typeof node.minimum === 'number' ? node.minimum : -Infinity;
    let hi = typeof node.maximum === 'number' ? node.maximum : Infinity;
    const exclusiveLo = typeof node.exclusiveMinimum === 'number';
    const exclusiveHi = typeof node.exclusiveMaximum === 'number';
    if (exclusiveLo) lo = Math.max(lo, node.exclusiveMinimum as number);
    if (exclusiveHi) hi = Math.min(hi, node.exclusiveMaximum as number);
    [lo, hi] = readableRange(lo, hi);
    if (typeof node.multipleOf === 'number' && node.multipleOf > 0) {
      const step = node.multipleOf;
      const first = Math.ceil(lo / step) * step + (exclusiveLo && lo % step === 0 ? step : 0);
      const last = Math.floor(hi / step) * step - (exclusiveHi && hi % step === 0 ? step : 0);
      const count = Math.floor((last - first) / step + 1e-9) + 1;
      return count > 0 ? Number((first + (h % count) * step).toFixed(10)) : first;
    }
    // One decimal, strictly inside exclusive bounds: readable and valid.
    const span = hi - lo;
    for (const fraction of [(h % 1001) / 1000, 0.5]) {
      const value = Math.round((lo + fraction * span) * 10) / 10;
      if ((exclusiveLo ? value > lo : value >= lo) && (exclusiveHi ? value < hi : value <= hi)) return value;
    }
    return (lo + hi) / 2;
  }

  private resolve(ref: string): unknown {
    if (ref === '#') return this.root;
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
    const defs = match ? ((this.root as Node)[match[1]] as Record<string, unknown> | undefined) : undefined;
    return match && defs ? defs[decodeURIComponent(match[2])] : {};
  }
}

/** Unbounded or huge ranges (zod's `int()` spans ±2^53) become a window of about 100 inside them. */
function readableRange(lo: number, hi: number): [number, number] {
  const LIMIT = 1e6;
  const start = lo >= -LIMIT ? lo : hi <= LIMIT ? Math.max(lo, hi - 100) : Math.max(lo, 0);
  return [start, Math.min(hi, start + 100)];
}
