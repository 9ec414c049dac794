import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * A configured secret, kept only as a hash. API keys are long random strings, so a fast
 * SHA-256 is enough and keeps every request cheap; admin passwords are chosen by people,
 * so they may also be given as a slow scrypt hash.
 */
export type StoredSecret = { kind: 'sha256'; digest: string } | { kind: 'scrypt'; cost: number; salt: Buffer; key: Buffer };

const SHA256 = /^sha256:([0-9a-f]{64})$/i;
const SCRYPT = /^scrypt:(\d+):([A-Za-z0-9+/_-]+={0,2}):([A-Za-z0-9+/_-]+={0,2})$/;
const SCRYPT_COST = 16384;
// scrypt needs 128 * cost * r bytes; Node's default limit (32 MiB) would refuse cost 65536.
const SCRYPT_MAXMEM = 2 * 128 * 8 * 65536;
const MIN_SCRYPT_KEY_BYTES = 16;
const MIN_SCRYPT_SALT_BYTES = 8;

export const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

export class SecretFormatError extends Error {}

/** `sha256:<hex>`, `scrypt:<cost>:<salt>:<key>` (base64), or the plain secret itself. */
export function parseSecret(value: string, options: { allowScrypt: boolean; minPlainLength: number }): StoredSecret {
  const sha = SHA256.exec(value);
  if (sha) return { kind: 'sha256', digest: sha[1].toLowerCase() };
  if (value.startsWith('scrypt:')) {
    if (!options.allowScrypt) throw new SecretFormatError('scrypt hashes are too slow to check on every request; use sha256:<hex>');
    const match = SCRYPT.exec(value);
    const cost = match ? Number(match[1]) : 0;
    if (!match || cost < 2 || cost > 65536 || (cost & (cost - 1)) !== 0) {
      throw new SecretFormatError('expected scrypt:<cost, a power of 2>:<salt base64>:<key base64>');
    }
    const salt = Buffer.from(match[2], 'base64');
    const key = Buffer.from(match[3], 'base64');
    // A short key (an empty one compares equal to scrypt of any password at length 0) or salt is a broken hash, not a weak one.
    if (key.length < MIN_SCRYPT_KEY_BYTES || salt.length < MIN_SCRYPT_SALT_BYTES) {
      throw new SecretFormatError(
        `a scrypt hash needs a key of at least ${MIN_SCRYPT_KEY_BYTES} bytes and a salt of at least ${MIN_SCRYPT_SALT_BYTES} (npm run hash-secret makes one)`,
      );
    }
    return { kind: 'scrypt', cost, salt, key };
  }
  if (value.startsWith('sha256:')) throw new SecretFormatError('expected sha256: followed by 64 hex digits');
  if (value.length < options.minPlainLength)
    throw new SecretFormatError(`must be at least ${options.minPlainLength} characters, or a hash`);
  return { kind: 'sha256', digest: sha256Hex(value) };
}

export async function verifySecret(secret: StoredSecret, candidate: string): Promise<boolean> {
  if (secret.kind === 'sha256') return equal(Buffer.from(sha256Hex(candidate), 'hex'), Buffer.from(secret.digest, 'hex'));
  return equal(await derive(candidate, secret.salt, secret.key.length, secret.cost), secret.key);
}

/** The `scrypt:` form of a password, for ADMIN_PASSWORD_HASH (see scripts/hash-secret.js). */
export async function scryptHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, 32, SCRYPT_COST);
  return `scrypt:${SCRYPT_COST}:${salt.toString('base64')}:${key.toString('base64')}`;
}

// The async form runs in libuv's pool, so a login never blocks the event loop.
const derive = (password: string, salt: Buffer, length: number, cost: number) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, length, { N: cost, maxmem: SCRYPT_MAXMEM }, (error, key) => (error ? reject(error) : resolve(key))),
  );

const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
