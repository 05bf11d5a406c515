/**
 * verify: checks an export bundle's signed manifest and every file in it.
 *
 *   node dist/apps/exporter/verify.js <bundle.zip> [--keys <file|url>]
 *
 * Keys: a JSON file or URL answering like `GET /v1/exports/keys` (`{ keys: [...] }`, or the array);
 * default `$FLEET_API_URL/v1/exports/keys`, `FLEET_API_URL` defaulting to http://127.0.0.1:8080.
 * Exit 0: the bundle verifies; 1: it does not (the first mismatch is named); 2: usage or I/O error.
 */
import { readFile } from 'node:fs/promises';
import { type PublicKeyEntry } from '@fleet/signing';
import { z } from 'zod';
import { verifyBundle } from './verify/verify-bundle';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

const USAGE = 'usage: verify.js <bundle.zip> [--keys <file|url>]';

const keySchema = z.object({
  keyId: z.string(),
  algorithm: z.enum(['Ed25519', 'ES256']),
  jwk: z.record(z.string(), z.unknown()),
  spkiPem: z.string(),
});
const keysSchema = z.union([
  z.object({ keys: z.array(keySchema) }).transform((k) => k.keys),
  z.array(keySchema),
]);

async function loadKeys(source: string): Promise<PublicKeyEntry[]> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`${source} answered ${response.status}`);
    text = await response.text();
  } else {
    text = await readFile(source, 'utf8');
  }
  const parsed = keysSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${source} is not a key list like GET /v1/exports/keys`);
  return parsed.data as PublicKeyEntry[];
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  let keysSource = `${process.env.FLEET_API_URL ?? 'http://127.0.0.1:8080'}/v1/exports/keys`;
  const keysAt = args.indexOf('--keys');
  if (keysAt >= 0) {
    const value = args[keysAt + 1];
    if (!value) {
      err(USAGE);
      return 2;
    }
    keysSource = value;
    args.splice(keysAt, 2);
  }
  if (args.length !== 1 || args[0]!.startsWith('-')) {
    err(USAGE);
    return 2;
  }
  const [bundle] = args as [string];
  let keys: PublicKeyEntry[];
  try {
    keys = await loadKeys(keysSource);
  } catch (error) {
    err(`verify: cannot read the public keys from ${keysSource}: ${(error as Error).message}`);
    return 2;
  }
  let verdict;
  try {
    verdict = await verifyBundle(bundle, keys);
  } catch (error) {
    err(`verify: cannot read ${bundle}: ${(error as Error).message}`);
    return 2;
  }
  if (!verdict.ok) {
    out(`FAIL ${bundle}: ${verdict.mismatch.path} ${verdict.mismatch.reason}`);
    return 1;
  }
  const { request } = verdict.manifest;
  out(
    `OK ${bundle}: ${verdict.files} files and the manifest verify (signed by ${verdict.keyId}; ${request.engine}, project ${request.projectId}, seed ${request.seed})`,
  );
  return 0;
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
