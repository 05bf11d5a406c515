/**
 * Signing with a key that never leaves an HSM (or SoftHSM2), through PKCS#11 (`pkcs11js`).
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import {
  CKA_CLASS,
  CKA_EC_PARAMS,
  CKA_EXTRACTABLE,
  CKA_ID,
  CKA_KEY_TYPE,
  CKA_LABEL,
  CKA_PRIVATE,
  CKA_SENSITIVE,
  CKA_SIGN,
  CKA_TOKEN,
  CKA_VERIFY,
  CKM_EC_KEY_PAIR_GEN,
  CKM_ECDSA,
  CKO_PRIVATE_KEY,
  CKO_PUBLIC_KEY,
  type Handle,
} from 'pkcs11js';
import {
  algorithmOfKeyType,
  CKM_EC_EDWARDS_KEY_PAIR_GEN,
  CKM_EDDSA,
  ED25519_EC_PARAMS,
  P256_EC_PARAMS,
  TokenSession,
  type TokenAccess,
} from './pkcs11-token';
import {
  publicKeyEntryOf,
  type ManifestSigner,
  type PublicKeyEntry,
  type SignatureAlgorithm,
} from './signer';
import { verifySignature } from './verify';

/** A key on a token: the module, the token's label, the user PIN and the key pair's CKA_LABEL. */
export interface Pkcs11KeyOptions extends TokenAccess {
  keyLabel: string;
}

/** Both algorithms' signatures are 64 bytes (Ed25519 R || S; ECDSA P-256 r || s). */
const SIGNATURE_BYTES = 64;

/**
 * A {@link ManifestSigner} whose private key stays on a PKCS#11 token. Ed25519 keys sign with
 * CKM_EDDSA; EC P-256 keys with CKM_ECDSA over a SHA-256 digest computed here (ES256).
 *
 * Every operation goes through one session, one at a time: a PKCS#11 session holds a single
 * active operation (C_SignInit … C_Sign), so concurrent `sign` calls are queued, not interleaved.
 */
export class Pkcs11Signer implements ManifestSigner {
  readonly keyId: string;
  private readonly entry: PublicKeyEntry;
  /** The tail of the operations queued on the session; never rejects. */
  private queue: Promise<void> = Promise.resolve();
  private closing = false;

  private constructor(
    private readonly token: TokenSession,
    private readonly privateKey: Handle,
    readonly algorithm: SignatureAlgorithm,
    publicKey: KeyObject,
  ) {
    this.entry = publicKeyEntryOf(publicKey);
    this.keyId = this.entry.keyId;
  }

  /**
   * Opens a read-only session on the token labelled `tokenLabel`, logs in with `pin`, and finds the
   * key pair labelled `keyLabel`. Signs once to check the public key found by label is the private
   * key's: a mismatched pair would publish a key no bundle verifies with.
   */
  static async open(options: Pkcs11KeyOptions): Promise<Pkcs11Signer> {
    const token = TokenSession.open(options, { readWrite: false });
    try {
      const privateKey = findKey(token, CKO_PRIVATE_KEY, options.keyLabel);
      const keyType = token.ulongAttribute(privateKey, CKA_KEY_TYPE);
      const algorithm = algorithmOfKeyType(keyType, options.keyLabel);
      const publicKey = token.publicKeyOf(findKey(token, CKO_PUBLIC_KEY, options.keyLabel), keyType);
      const signer = new Pkcs11Signer(token, privateKey, algorithm, publicKey);
      await signer.checkPair(options.keyLabel);
      return signer;
    } catch (error) {
      token.close();
      throw error;
    }
  }

  /** Ed25519: 64-byte raw signature; ES256: IEEE P1363 `r || s` (what CKM_ECDSA returns). */
  sign(data: Buffer): Promise<Buffer> {
    if (this.closing) return Promise.reject(new Error(`Pkcs11Signer ${this.keyId}: closed`));
    return this.enqueue(() => this.signNow(data));
  }

  publicKey(): PublicKeyEntry {
    return this.entry;
  }

  /** Waits for queued signatures, then logs out, closes the session and finalizes the module. */
  async close(): Promise<void> {
    if (this.closing) return this.queue;
    this.closing = true;
    return this.enqueue(async () => this.token.close());
  }

  /** Runs `operation` after every operation queued before it, whatever their outcome. */
  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * One C_SignInit + C_Sign. C_Sign runs on the thread pool (C_SignAsync) so a slow HSM does not
   * block the event loop; the queue keeps the session to this one operation meanwhile.
   */
  private async signNow(data: Buffer): Promise<Buffer> {
    const { pkcs11, session } = this.token;
    const ed25519 = this.algorithm === 'Ed25519';
    const input = ed25519 ? data : createHash('sha256').update(data).digest();
    try {
      pkcs11.C_SignInit(session, { mechanism: ed25519 ? CKM_EDDSA : CKM_ECDSA }, this.privateKey);
      return await pkcs11.C_SignAsync(session, input, Buffer.alloc(SIGNATURE_BYTES));
    } catch (error) {
      throw new Error(
        `Pkcs11Signer ${this.keyId}: signing failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Signs a random probe and verifies it with node:crypto against the public key found by label. */
  private async checkPair(keyLabel: string): Promise<void> {
    const probe = randomBytes(32);
    if (!verifySignature(this.entry, probe, await this.sign(probe))) {
      throw new Error(
        `PKCS#11: the public key labelled "${keyLabel}" on token "${this.token.access.tokenLabel}" does not match its private key`,
      );
    }
  }
}

/** The one key of `keyClass` labelled `label`; none or several is an error naming the label. */
function findKey(token: TokenSession, keyClass: number, label: string): Handle {
  const found = token.findObjects([
    { type: CKA_CLASS, value: keyClass },
    { type: CKA_LABEL, value: label },
  ]);
  const kind = keyClass === CKO_PRIVATE_KEY ? 'private' : 'public';
  const where = `token "${token.access.tokenLabel}"`;
  const [key] = found;
  if (!key) throw new Error(`PKCS#11: no ${kind} key labelled "${label}" on ${where}`);
  if (found.length > 1) {
    throw new Error(
      `PKCS#11: ${found.length} ${kind} keys labelled "${label}" on ${where}; labels must be unique`,
    );
  }
  return key;
}

/** Key generation, then signing: the generation mechanism first. */
const EDDSA_MECHANISMS = [CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA] as const;
const ECDSA_MECHANISMS = [CKM_EC_KEY_PAIR_GEN, CKM_ECDSA] as const;

/**
 * Generates a key pair on the token, labelled `keyLabel`, and returns its public key. Ed25519
 * (CKM_EC_EDWARDS_KEY_PAIR_GEN, CKA_EC_PARAMS = the id-Ed25519 OID, which SoftHSM2 2.6 accepts)
 * unless the token lacks EdDSA: then EC P-256 (CKM_EC_KEY_PAIR_GEN), i.e. ES256. `algorithm`
 * forces one (and fails if the token lacks it).
 *
 * The private key is a token object, private, sensitive and not extractable: it can sign and
 * never leave. Both halves get the label and a random CKA_ID, as PKCS#11 tools pair keys by id.
 * Refuses a label already in use, as {@link Pkcs11Signer.open} needs it unique.
 */
export async function generatePkcs11Key(
  options: Pkcs11KeyOptions & { algorithm?: SignatureAlgorithm },
): Promise<PublicKeyEntry> {
  const token = TokenSession.open(options, { readWrite: true });
  try {
    const taken = token.findObjects([{ type: CKA_LABEL, value: options.keyLabel }]);
    if (taken.length > 0) {
      throw new Error(
        `PKCS#11: a key labelled "${options.keyLabel}" already exists on token "${options.tokenLabel}"`,
      );
    }
    const algorithm = options.algorithm ?? (hasMechanisms(token, EDDSA_MECHANISMS) ? 'Ed25519' : 'ES256');
    const mechanisms = algorithm === 'Ed25519' ? EDDSA_MECHANISMS : ECDSA_MECHANISMS;
    if (!hasMechanisms(token, mechanisms)) {
      throw new Error(
        `PKCS#11: token "${options.tokenLabel}" cannot generate and sign with ${algorithm} keys`,
      );
    }
    const id = randomBytes(16);
    const common = [
      { type: CKA_TOKEN, value: true },
      { type: CKA_LABEL, value: options.keyLabel },
      { type: CKA_ID, value: id },
    ];
    const keys = await token.pkcs11.C_GenerateKeyPairAsync(
      token.session,
      { mechanism: mechanisms[0] },
      [
        ...common,
        { type: CKA_CLASS, value: CKO_PUBLIC_KEY },
        { type: CKA_PRIVATE, value: false },
        { type: CKA_VERIFY, value: true },
        { type: CKA_EC_PARAMS, value: algorithm === 'Ed25519' ? ED25519_EC_PARAMS : P256_EC_PARAMS },
      ],
      [
        ...common,
        { type: CKA_CLASS, value: CKO_PRIVATE_KEY },
        { type: CKA_PRIVATE, value: true },
        { type: CKA_SENSITIVE, value: true },
        { type: CKA_EXTRACTABLE, value: false },
        { type: CKA_SIGN, value: true },
      ],
    );
    const keyType = token.ulongAttribute(keys.privateKey, CKA_KEY_TYPE);
    return publicKeyEntryOf(token.publicKeyOf(keys.publicKey, keyType));
  } finally {
    token.close();
  }
}

/** Whether the token offers every one of `mechanisms`. */
function hasMechanisms(token: TokenSession, mechanisms: readonly number[]): boolean {
  const offered = new Set(token.mechanisms());
  return mechanisms.every((mechanism) => offered.has(mechanism));
}
