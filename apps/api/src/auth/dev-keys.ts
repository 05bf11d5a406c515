import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';

/** The local dev key pair: the private JWK signs tokens (admin mint-token), the JWKS verifies them. */
export interface DevKeys {
  privateJwk: JWK;
  jwks: JSONWebKeySet;
}

const PRIVATE_FILE = 'private.jwk.json';

/**
 * Reads the dev ES256 key pair from `dir`, generating it on first use. Local development only:
 * the folder lives under `.local/` (git-ignored), and production configures a real key instead.
 * The api and the mint-token command may start together, so the file is created with a hard link
 * (fails when it exists): one writer wins, everyone reads the winner's key.
 */
export async function loadOrCreateDevKeys(dir: string): Promise<DevKeys> {
  const file = join(dir, PRIVATE_FILE);
  let privateJwk = readJwk(file);
  if (!privateJwk) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const created: JWK = { ...jwk, alg: 'ES256', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(created, null, 2), { mode: 0o600 });
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temp, { force: true });
    }
    privateJwk = readJwk(file);
    if (!privateJwk) throw new Error(`dev key ${file} could not be read back`);
  }
  const { d: _private, ...publicJwk } = privateJwk;
  return { privateJwk, jwks: { keys: [publicJwk] } };
}

function readJwk(file: string): JWK | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
