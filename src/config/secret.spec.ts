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
  ])('refuses %s', (value, message) => {
    expect(() => parseSecret(value, options)).toThrow(SecretFormatError);
    expect(() => parseSecret(value, options)).toThrow(message);
  });

  it('refuses scrypt where every request would pay for it', async () => {
    expect(() => parseSecret('scrypt:16384:c2FsdA==:a2V5', { ...options, allowScrypt: false })).toThrow(/too slow/);
  });
});
