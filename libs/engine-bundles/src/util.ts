import { createHash } from 'node:crypto';

/** One file of an engine project, relative to the archive's root. */
export interface EngineFile {
  path: string;
  content: Buffer;
}

/**
 * SHA-256 of the parts, each prefixed with its byte length, so no two different part lists hash
 * the same input (`('ab','c')` vs `('a','bc')`, or a seed that itself contains a separator).
 */
export function sha256(...parts: string[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part, 'utf8')}:`).update(part, 'utf8');
  return hash.digest();
}

/**
 * A Unity-style GUID (32 lowercase hex) for a path: stable across runs for the same seed, so
 * re-exporting a campaign updates the same assets in a Unity project instead of duplicating them.
 */
export function stableGuid(seed: string, path: string): string {
  return sha256('guid', seed, path).toString('hex').slice(0, 32);
}

/** A positive, non-zero 63-bit integer derived from the parts (Unity fileIDs, Godot UIDs). */
export function stableInt63(...parts: string[]): bigint {
  const value = sha256(...parts).readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
  return value === 0n ? 1n : value;
}

/** Godot 4's text form of a resource UID: base 34, `a`–`z` then `0`–`7` (ResourceUID::id_to_text). */
export function godotUid(...parts: string[]): string {
  let id = stableInt63(...parts);
  let text = '';
  while (id > 0n) {
    const digit = Number(id % 34n);
    text = (digit < 26 ? String.fromCharCode(97 + digit) : String.fromCharCode(48 + digit - 26)) + text;
    id /= 34n;
  }
  return `uid://${text}`;
}

/**
 * A number as every target format reads it: at most 3 decimals, never `-0`, never an exponent
 * (inputs are bounded to ±1e6, so `String` never switches to exponent notation).
 */
export function formatNumber(value: number): string {
  const rounded = Math.round(value * 1000) / 1000;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** Files sorted by path with a byte-wise comparison (locale-independent, hence deterministic). */
export function sortFiles(files: EngineFile[]): EngineFile[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A text file: UTF-8, with exactly one trailing newline. */
export function textFile(path: string, lines: readonly string[]): EngineFile {
  return { path, content: Buffer.from(`${lines.join('\n').replace(/\n+$/, '')}\n`, 'utf8') };
}

/**
 * Hands out names unique within one scope, suffixing `_2`, `_3`, … on a clash. `foldCase` makes
 * `Keep` and `keep` clash too, for targets whose names are case-insensitive (Unreal FNames).
 */
export class UniqueNames {
  private readonly used = new Set<string>();

  constructor(private readonly foldCase = false) {}

  /** Reserves `name` (or the first free suffixed form) and returns what was reserved. */
  take(name: string): string {
    let candidate = name;
    for (let n = 2; this.used.has(this.key(candidate)); n++) candidate = `${name}_${n}`;
    this.used.add(this.key(candidate));
    return candidate;
  }

  private key(name: string): string {
    return this.foldCase ? name.toLowerCase() : name;
  }
}

/** The folders that contain `path`, outermost first (`a/b/c.txt` → `a`, `a/b`). */
export function parentFolders(path: string): string[] {
  const segments = path.split('/');
  return segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
}

/** The project's display name: the caller's title, else the source file's name without extension. */
export function projectTitle(input: {
  title?: string | undefined;
  map: { source: { filename: string } };
}): string {
  if (input.title) return input.title;
  const base = input.map.source.filename.split(/[\\/]/).pop() ?? '';
  return base.replace(/\.[^.]*$/, '').trim() || 'Map Export';
}
