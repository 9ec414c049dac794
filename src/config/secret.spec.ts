import { loadConfig } from './config';
import { parseSecret, scryptHash, SecretFormatError, sha256Hex, verifySecret } from './secret';

const options = { allowScrypt: true, minPlainLength: 12 };

describe('secrets', () => {
  it('keeps a plain secret only as its SHA-256 digest', async () => {
    const secret = parseSecret('a-long-enough-secret', options);
    expect(secret).toEqual({ kind: 'sha256', digest: sha256Hex('a-long-enough-secret') });
    expect(await verifySecret(secret, 'a-long-enough-secret')).toBe(true);
    expect(await verifySecret(secret, 'a-long-enough-secreT')).toBe(false);
  });

  it('takes a sha256: digest as it is, in either case', async () => {
    const secret = parseSecret(`sha256:${sha256Hex('key-of-the-client').toUpperCase()}`, options);
    expect(await verifySecret(secret, 'key-of-the-client')).toBe(true);
  });

  it('checks passwords against a scrypt hash', async () => {
    const secret = parseSecret(await scryptHash('s3cret password'), options);
    expect(secret.kind).toBe('scrypt');
    expect(await verifySecret(secret, 's3cret password')).toBe(true);
    expect(await verifySecret(secret, 's3cret passworD')).toBe(false);
    expect(await verifySecret(secret, '')).toBe(false);
  });

  it.each([
    ['short', /at least 12 characters/],
    ['sha256:abc', /64 hex digits/],
    ['scrypt:3:c2FsdA==:a2V5', /power of 2/],
    // An empty key would match any password: scrypt of length 0 is empty, and so is the key.
    ['scrypt:16384:c2FsdA==:A', /at least 16 bytes/],
    [`scrypt:16384:${Buffer.alloc(16).toString('base64')}:${Buffer.alloc(15).toString('base64')}`, /at least 16 bytes/],
    [`scrypt:16384:${Buffer.alloc(7).toString('base64')}:${Buffer.alloc(32).toString('base64')}`, /salt of at least 8/],
  ])('refuses %s', (value, message) => {
    expect(() => parseSecret(value, options)).toThrow(SecretFormatError);
    expect(() => parseSecret(value, options)).toThrow(message);
  });

  it('refuses scrypt where every request would pay for it', async () => {
    expect(() => parseSecret('scrypt:16384:c2FsdA==:a2V5', { ...options, allowScrypt: false })).toThrow(/too slow/);
  });

  it('refuses ADMIN_PASSWORD as a scrypt hash with an empty key at start-up', () => {
    expect(() => loadConfig({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'scrypt:16384:c2FsdA==:A' })).toThrow(
      /ADMIN_PASSWORD[\s\S]*at least 16 bytes/,
    );
  });
});
