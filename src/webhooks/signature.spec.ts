import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature } from './signature';

const SECRET = 'whsec-0123456789abcdef';

describe('webhook signatures', () => {
  it('is t=<unix>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    const body = '{"id":"j1","status":"completed"}';
    const expected = createHmac('sha256', SECRET).update(`1700000000.${body}`).digest('hex');
    expect(signatureHeader(SECRET, body, 1_700_000_000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies the body it signed, and nothing else', () => {
    const now = 1_700_000_000_000;
    const header = signatureHeader(SECRET, 'body', now / 1000);
    expect(verifySignature(SECRET, header, 'body', 300, now)).toBe(true);
    expect(verifySignature(SECRET, header, 'body!', 300, now)).toBe(false);
    expect(verifySignature('another-secret-0123', header, 'body', 300, now)).toBe(false);
    expect(verifySignature(SECRET, header.replace(/v1=../, 'v1=00'), 'body', 300, now)).toBe(false);
    expect(verifySignature(SECRET, 'garbage', 'body', 300, now)).toBe(false);
  });

  it('refuses an old timestamp (a replayed delivery)', () => {
    const now = 1_700_000_000_000;
    expect(verifySignature(SECRET, signatureHeader(SECRET, 'body', now / 1000 - 600), 'body', 300, now)).toBe(false);
  });
});
