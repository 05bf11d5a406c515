import { importJWK, SignJWT } from 'jose';
import { loadOrCreateDevKeys } from './dev-keys';

/** Options of {@link mintDevToken}. */
export interface MintTokenOptions {
  /** The user id (`sub`). */
  userId: string;
  /** Folder of the dev key pair (`AUTH_DEV_KEY_DIR`). */
  keyDir: string;
  issuer: string;
  audience: string;
  /** @defaultValue 3600 */
  ttlS?: number;
  /** The `scope` claim, space-separated (`fleet:operator` for operator routes); none when absent. */
  scope?: string;
}

/** Signs an ES256 token with the local dev key (generated on first use), as the api's dev config trusts. */
export async function mintDevToken(options: MintTokenOptions): Promise<string> {
  const { privateJwk } = await loadOrCreateDevKeys(options.keyDir);
  const key = await importJWK(privateJwk, 'ES256');
  return new SignJWT(options.scope ? { scope: options.scope } : {})
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: privateJwk.kid })
    .setSubject(options.userId)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlS ?? 3600))
    .sign(key);
}
