import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idempotencyKey, sha256OfFile } from './job-key';

describe('the idempotency key of a file', () => {
  const sha = 'a'.repeat(64);

  it('is the same for the same bytes and options, whatever their spelling', () => {
    const key = idempotencyKey(sha, { languages: 'eng+deu', pages: '1-3', ocr: 'auto' });
    expect(idempotencyKey(sha, { languages: ' eng+deu ', pages: '1 - 3', ocr: 'auto' })).toBe(key);
    // Within the service's limit: up to 255 visible ASCII characters.
    expect(key).toMatch(/^ocr-cli-[0-9a-f]{64}$/);
  });

  it('differs with the bytes and with each option, which the service does not compare', () => {
    const base = { languages: 'eng', pages: undefined, ocr: 'auto' as const };
    const keys = [
      idempotencyKey(sha, base),
      idempotencyKey('b'.repeat(64), base),
      idempotencyKey(sha, { ...base, languages: 'deu' }),
      idempotencyKey(sha, { ...base, pages: '2' }),
      idempotencyKey(sha, { ...base, ocr: 'always' }),
      idempotencyKey(sha, { ...base, languages: undefined }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("hashes a file's bytes as sha256", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocr-key-'));
    try {
      const bytes = Buffer.alloc(200_000, 7);
      writeFileSync(join(dir, 'f.pdf'), bytes);
      expect(await sha256OfFile(join(dir, 'f.pdf'))).toBe(createHash('sha256').update(bytes).digest('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
