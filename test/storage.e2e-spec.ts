import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '../src/storage/local.backend';
import { S3Backend } from '../src/storage/s3.backend';
import type { StorageBackend } from '../src/storage/storage.backend';
import { startS3 } from './harness';

const text = async (backend: StorageBackend, key: string) => (await backend.get(key))?.toString('utf8') ?? null;

describe.each(['local', 's3'] as const)('storage backend: %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocr-storage-spec-'));
  let backend: StorageBackend;
  let stopS3: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (kind === 'local') {
      backend = new LocalBackend(join(dir, 'root'));
    } else {
      const s3 = await startS3();
      stopS3 = s3.stop;
      backend = new S3Backend(
        { bucket: s3.bucket, prefix: 'deploy-a', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, inputPrefix: 'inputs/' },
        { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
      );
    }
    await backend.init();
  });

  afterAll(async () => {
    (backend as Partial<S3Backend>).destroy?.();
    await stopS3?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes, reads, streams and downloads objects', async () => {
    await backend.put('results/a.json', '{"a":1}');
    expect(await text(backend, 'results/a.json')).toBe('{"a":1}');
    expect(await backend.get('results/missing.json')).toBeNull();
    expect(await backend.exists('results/a.json')).toBe(true);
    expect(await backend.exists('results/missing.json')).toBe(false);
    expect(await backend.open('results/missing.json')).toBeNull();

    const opened = await backend.open('results/a.json');
    expect(opened!.size).toBe(7);
    const chunks: Buffer[] = [];
    for await (const chunk of opened!.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('{"a":1}');

    const local = join(dir, 'copy.json');
    expect(await backend.download('results/a.json', local)).toBe(true);
    expect(readFileSync(local, 'utf8')).toBe('{"a":1}');
    expect(await backend.download('results/missing.json', join(dir, 'none'))).toBe(false);
  });

  it('stores a file in parts and takes it away from the local disk', async () => {
    // 12 MiB: more than one part of lib-storage's multipart upload (5 MiB each).
    const big = Buffer.alloc(12 * 1024 * 1024, 7);
    const file = join(dir, 'upload.pdf');
    writeFileSync(file, big);
    await backend.putFile('uploads/big.pdf', file);
    expect((await backend.get('uploads/big.pdf'))!.equals(big)).toBe(true);
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('lists and removes a prefix, leaving the rest', async () => {
    await backend.put('pages/doc1/1.json', '1');
    await backend.put('pages/doc1/2.json', '2');
    await backend.put('pages/doc2/1.json', 'x');
    const listed = await backend.list('pages/doc1/');
    expect(listed.map((o) => o.key).sort()).toEqual(['pages/doc1/1.json', 'pages/doc1/2.json']);
    expect(listed.every((o) => o.modifiedMs > Date.now() - 60_000)).toBe(true);
    await backend.remove('pages/doc1/');
    expect(await backend.list('pages/doc1/')).toEqual([]);
    expect(await text(backend, 'pages/doc2/1.json')).toBe('x');
    await backend.remove('pages/doc2/1.json');
    expect(await backend.get('pages/doc2/1.json')).toBeNull();
    await expect(backend.remove('pages/never/1.json')).resolves.toBeUndefined();
  });
});

describe('local storage keys', () => {
  it('refuses a key that leaves the storage folder', () => {
    const backend = new LocalBackend(join(tmpdir(), 'ocr-storage-keys'));
    expect(() => backend.path('../etc/passwd')).toThrow(/outside the storage folder/);
    expect(() => backend.path('/etc/passwd')).toThrow(/outside the storage folder/);
    expect(backend.path('uploads/a.pdf')).toBe(join(tmpdir(), 'ocr-storage-keys', 'uploads', 'a.pdf'));
  });
});
