import { type IHeaders } from 'kafkajs';

/** A record's headers as UTF-8 strings, the first value of a repeated header. */
export function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const first = Array.isArray(raw) ? raw[0] : raw;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}
