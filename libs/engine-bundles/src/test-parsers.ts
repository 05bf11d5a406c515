/**
 * Small, independent readers of the formats this library writes, for the tests: they parse the
 * output the way the engines' readers do (sections and VariantParser literals for Godot, block
 * YAML for Unity, RFC 4180 CSV and the C++/C# declarations), so a test can fail on structure
 * rather than on a string match. They accept only what the formats allow, and throw otherwise.
 */

// ------------------------------------------------------------------------------------------------
// Godot: `.tscn`, `.tres`, `project.godot`
// ------------------------------------------------------------------------------------------------

/** A constructor literal such as `Vector2( 1, 2 )`. */
export class GodotCall {
  constructor(
    readonly name: string,
    readonly args: GodotParsed[],
  ) {}
}

export type GodotParsed =
  string | number | boolean | null | GodotCall | GodotParsed[] | { [key: string]: GodotParsed };

export interface GodotSection {
  /** `gd_scene`, `node`, `resource`, `application`, … (`''` for keys before the first section). */
  tag: string;
  attrs: Record<string, GodotParsed>;
  props: Map<string, GodotParsed>;
}

/** Parses a Godot text file into sections; throws on anything VariantParser would refuse. */
export function parseGodotText(text: string): GodotSection[] {
  const p = new GodotReader(text);
  const sections: GodotSection[] = [{ tag: '', attrs: {}, props: new Map() }];
  for (;;) {
    p.skipSpaceAndComments();
    if (p.done()) break;
    if (p.peek() === '[') {
      p.expect('[');
      const tag = p.identifier();
      const attrs: Record<string, GodotParsed> = {};
      for (;;) {
        p.skipSpace();
        if (p.peek() === ']') break;
        const key = p.identifier();
        p.expect('=');
        attrs[key] = p.value();
      }
      p.expect(']');
      sections.push({ tag, attrs, props: new Map() });
    } else {
      const key = p.propertyKey();
      p.skipSpace();
      p.expect('=');
      const props = sections[sections.length - 1]!.props;
      if (props.has(key)) throw new Error(`duplicate property ${key}`);
      props.set(key, p.value());
    }
  }
  return sections.filter((s) => s.tag !== '' || s.props.size > 0);
}

class GodotReader {
  private i = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  skipSpace(): void {
    while (/\s/.test(this.peek()) && !this.done()) this.i++;
  }
  skipSpaceAndComments(): void {
    for (;;) {
      this.skipSpace();
      if (this.peek() !== ';') return;
      while (!this.done() && this.peek() !== '\n') this.i++;
    }
  }
  expect(c: string): void {
    this.skipSpace();
    if (this.peek() !== c)
      throw new Error(`expected ${c} at ${this.i}, got ${JSON.stringify(this.s.slice(this.i, this.i + 20))}`);
    this.i++;
  }
  identifier(): string {
    this.skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (!m) throw new Error(`expected identifier at ${this.i}`);
    this.i += m[0].length;
    return m[0];
  }
  propertyKey(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_/]*/.exec(this.s.slice(this.i));
    if (!m)
      throw new Error(`expected property at ${this.i}: ${JSON.stringify(this.s.slice(this.i, this.i + 30))}`);
    this.i += m[0].length;
    return m[0];
  }
  value(): GodotParsed {
    this.skipSpace();
    const c = this.peek();
    if (c === '"') return this.string();
    if (c === '[') return this.list('[', ']');
    if (c === '{') return this.dict();
    if (/[-0-9]/.test(c)) return this.number();
    const name = this.identifier();
    if (name === 'true' || name === 'false') return name === 'true';
    if (name === 'null') return null;
    this.skipSpace();
    if (this.peek() !== '(') throw new Error(`bare identifier ${name}`);
    return new GodotCall(name, this.list('(', ')'));
  }
  private number(): number {
    const m = /^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?/.exec(this.s.slice(this.i));
    if (!m) throw new Error(`bad number at ${this.i}`);
    this.i += m[0].length;
    return Number(m[0]);
  }
  private string(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      if (this.done()) throw new Error('unterminated string');
      const c = this.s[this.i++]!;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++]!;
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        b: '\b',
        f: '\f',
        '"': '"',
        '\\': '\\',
      };
      if (e in simple) out += simple[e];
      else if (e === 'u') {
        const hex = this.s.slice(this.i, this.i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 4;
      } else throw new Error(`invalid escape \\${e}`);
    }
  }
  private list(open: string, close: string): GodotParsed[] {
    this.expect(open);
    const items: GodotParsed[] = [];
    this.skipSpace();
    if (this.peek() === close) {
      this.i++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      if (this.peek() === close) {
        this.i++;
        return items;
      }
      this.expect(',');
    }
  }
  private dict(): { [key: string]: GodotParsed } {
    this.expect('{');
    const out: { [key: string]: GodotParsed } = {};
    this.skipSpace();
    if (this.peek() === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      const key = this.value();
      if (typeof key !== 'string') throw new Error('non-string dictionary key');
      this.expect(':');
      out[key] = this.value();
      this.skipSpace();
      if (this.peek() === '}') {
        this.i++;
        return out;
      }
      this.expect(',');
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Unity: UnityYAML documents
// ------------------------------------------------------------------------------------------------

export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

export interface UnityDocument {
  classId: number;
  fileId: string;
  /** The document's single top-level key (`GameObject`, `Transform`, `MonoBehaviour`). */
  type: string;
  body: { [key: string]: YamlValue };
}

/** Splits a UnityYAML file into its `--- !u!<classID> &<fileID>` documents and parses each. */
export function parseUnityYaml(text: string): UnityDocument[] {
  const lines = text.split('\n');
  if (lines[0] !== '%YAML 1.1' || lines[1] !== '%TAG !u! tag:unity3d.com,2011:')
    throw new Error('bad header');
  const docs: UnityDocument[] = [];
  let current: { classId: number; fileId: string; lines: string[] } | undefined;
  for (const line of lines.slice(2)) {
    const header = /^--- !u!(\d+) &(\d+)$/.exec(line);
    if (header) {
      if (current) docs.push(finishDoc(current));
      current = { classId: Number(header[1]), fileId: header[2]!, lines: [] };
    } else if (line.startsWith('---')) throw new Error(`bad document header: ${line}`);
    else if (line !== '') {
      if (!current) throw new Error('content before the first document');
      current.lines.push(line);
    }
  }
  if (current) docs.push(finishDoc(current));
  return docs;
}

function finishDoc(doc: { classId: number; fileId: string; lines: string[] }): UnityDocument {
  const value = parseYamlBlock(doc.lines);
  if (Array.isArray(value) || typeof value === 'string') throw new Error('document is not a mapping');
  const keys = Object.keys(value);
  if (keys.length !== 1) throw new Error(`document has ${keys.length} top-level keys`);
  const body = value[keys[0]!]!;
  if (Array.isArray(body) || typeof body === 'string') throw new Error('document body is not a mapping');
  return { classId: doc.classId, fileId: doc.fileId, type: keys[0]!, body };
}

/** A block-style YAML subset: mappings, `- ` sequences, flow `{k: v}` / `[]`, plain and "quoted" scalars. */
export function parseYamlBlock(rawLines: readonly string[]): YamlValue {
  const lines = rawLines.map((l) => {
    const indent = l.length - l.trimStart().length;
    return { indent, text: l.slice(indent) };
  });
  let i = 0;
  const block = (indent: number): YamlValue =>
    lines[i]!.text.startsWith('- ') ? sequence(indent) : mapping(indent);
  const mapping = (indent: number): { [key: string]: YamlValue } => {
    const out: { [key: string]: YamlValue } = {};
    while (i < lines.length && lines[i]!.indent === indent && !lines[i]!.text.startsWith('- ')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?$/.exec(lines[i]!.text);
      if (!m) throw new Error(`bad mapping line: ${lines[i]!.text}`);
      const key = m[1]!;
      if (key in out) throw new Error(`duplicate key ${key}`);
      i++;
      if (m[2] !== undefined && m[2] !== '') out[key] = scalar(m[2]);
      else if (i < lines.length && lines[i]!.indent > indent) out[key] = block(lines[i]!.indent);
      else if (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('- ')) {
        out[key] = sequence(indent);
      } else out[key] = '';
    }
    if (i < lines.length && lines[i]!.indent > indent) throw new Error(`bad indentation: ${lines[i]!.text}`);
    return out;
  };
  const sequence = (indent: number): YamlValue[] => {
    const out: YamlValue[] = [];
    while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('- ')) {
      const item = lines[i]!.text.slice(2);
      if (/^[A-Za-z_][A-Za-z0-9_]*:( |$)/.test(item)) {
        lines[i] = { indent: indent + 2, text: item };
        out.push(mapping(indent + 2));
      } else {
        i++;
        out.push(scalar(item));
      }
    }
    return out;
  };
  const result = block(lines[0]?.indent ?? 0);
  if (i !== lines.length) throw new Error(`trailing lines from: ${lines[i]!.text}`);
  return result;
}

/** A scalar or flow value: `"…"` with YAML escapes, `{a: 1, b: x}`, `[]`, or plain text. */
function scalar(text: string): YamlValue {
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new Error(`unterminated: ${text}`);
    return text.slice(1, -1).replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
      if (e.startsWith('u') && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '0': '\0' };
      if (!(e in map)) throw new Error(`bad escape \\${e}`);
      return map[e]!;
    });
  }
  if (text === '[]') return [];
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw new Error(`bad flow mapping: ${text}`);
    const out: { [key: string]: YamlValue } = {};
    const inner = text.slice(1, -1).trim();
    if (inner === '') return out;
    for (const part of inner.split(', ')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*): (.*)$/.exec(part);
      if (!m) throw new Error(`bad flow entry: ${part}`);
      out[m[1]!] = m[2]!;
    }
    return out;
  }
  if (/^["'&*!|>%@`]/.test(text) || /: |\s#/.test(text)) throw new Error(`ambiguous plain scalar: ${text}`);
  return text.trim();
}

/** Reads `fileFormatVersion`, `guid` and the importer of a `.meta` file. */
export function parseUnityMeta(text: string): { guid: string; importer: string; folder: boolean } {
  const value = parseYamlBlock(text.trimEnd().split('\n'));
  if (Array.isArray(value) || typeof value === 'string') throw new Error('meta is not a mapping');
  if (value['fileFormatVersion'] !== '2') throw new Error('fileFormatVersion must be 2');
  const guid = value['guid'];
  if (typeof guid !== 'string' || !/^[0-9a-f]{32}$/.test(guid)) throw new Error(`bad guid ${String(guid)}`);
  const importers = Object.keys(value).filter((k) => k.endsWith('Importer'));
  if (importers.length !== 1) throw new Error(`expected one importer, got ${importers.join(',')}`);
  return { guid, importer: importers[0]!, folder: value['folderAsset'] === 'yes' };
}

// ------------------------------------------------------------------------------------------------
// CSV, C++ and C# declarations
// ------------------------------------------------------------------------------------------------

/** RFC 4180: fields separated by `,`, records by CRLF, `"…"` quoting with `""` for a quote. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
        if (i < text.length && text[i] !== ',' && text[i] !== '\r')
          throw new Error(`text after a closing quote at ${i}`);
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === '"') throw new Error(`quote inside an unquoted field at ${i}`);
    else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (c === '\n' || c === '\r') throw new Error(`bare line break at ${i}`);
    else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length) throw new Error('last record lacks CRLF');
  return records;
}

/** Unreal's text form of a string array, `("a","b")`, back to its elements. */
export function parseUeStringArray(text: string): string[] {
  if (!text.startsWith('(') || !text.endsWith(')')) throw new Error(`not an array: ${text}`);
  const inner = text.slice(1, -1);
  const items: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"(,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(inner))) {
    items.push(m[1]!.replace(/\\(.)/g, '$1'));
    if (m[2] === '') break;
  }
  if (re.lastIndex !== inner.length && inner !== '') throw new Error(`bad array: ${text}`);
  return items;
}

/** `USTRUCT` row structs: name → UPROPERTY fields (name and C++ type), in declaration order. */
export function parseUeStructs(header: string): Map<string, { name: string; type: string }[]> {
  const out = new Map<string, { name: string; type: string }[]>();
  const structRe =
    /USTRUCT\(BlueprintType\)\nstruct [A-Z_]+_API (F\w+) : public FTableRowBase\n\{\n\tGENERATED_BODY\(\)\n([\s\S]*?)\n\};/g;
  for (const m of header.matchAll(structRe)) {
    const fields = [
      ...m[2]!.matchAll(/UPROPERTY\(EditAnywhere, BlueprintReadWrite\)\n\t([\w<>]+) (\w+)( = [\w.]+)?;/g),
    ].map((f) => ({ type: f[1]!, name: f[2]! }));
    out.set(m[1]!, fields);
  }
  return out;
}

/** C# classes of a script: class name → public field names, in declaration order. */
export function parseCsClasses(source: string): Map<string, { base: string | undefined; fields: string[] }> {
  const out = new Map<string, { base: string | undefined; fields: string[] }>();
  const classRe = /public class (\w+)(?: : (\w+))?\n {4}\{\n([\s\S]*?)\n {4}\}/g;
  for (const m of source.matchAll(classRe)) {
    const fields = [...m[3]!.matchAll(/^ {8}public [\w<>]+ (\w+)( = [^;]+)?;$/gm)].map((f) => f[1]!);
    out.set(m[1]!, { base: m[2], fields });
  }
  return out;
}
