import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/config';
import { LocalBackend, StorageKeyError } from './local.backend';
import { StorageService } from './storage.service';

describe('StorageService', () => {
  // STORAGE_DIR inside a folder of the test's own, so that a key escaping it can only reach a canary.
  const base = mkdtempSync(join(tmpdir(), 'storage-'));
  const dir = join(base, 'storage');
  mkdirSync(dir);
  const storage = new StorageService({ storageDir: dir, s3: null } as AppConfig);
  const folder = storage.backend as LocalBackend;
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('maps keys to files inside STORAGE_DIR', () => {
    expect(folder.path('uploads/a.pdf')).toBe(join(dir, 'uploads', 'a.pdf'));
  });

  it.each(['../outside.pdf', 'uploads/../../outside.pdf', '/etc/passwd', '', '.', 'uploads/..'])('refuses the key %j', (key) => {
    expect(() => folder.path(key)).toThrow(StorageKeyError);
  });

  it('refuses to remove anything outside STORAGE_DIR', async () => {
    writeFileSync(join(base, 'canary'), 'alive');
    await expect(storage.remove('../canary')).rejects.toThrow(StorageKeyError);
    expect(existsSync(join(base, 'canary'))).toBe(true);
  });

  it('writes JSON through a temporary file of its own, leaving none behind', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => storage.writeJson('results/same.json', { i })));
    expect(readdirSync(join(dir, 'results'))).toEqual(['same.json']);
  });

  it("reads a finished page's file once, however often a running job is polled, until the job is removed", async () => {
    const page = (n: number) => ({
      page: n,
      source: 'ocr',
      text: `page ${n}`,
      confidence: 90,
      width: 612,
      height: 792,
      lines: [{ text: 'x' }],
    });
    await storage.writeJson(storage.pageKey('doc', 1), page(1));
    await storage.writeJson(storage.pageKey('doc', 2), page(2));
    const get = jest.spyOn(folder, 'get');
    const first = await storage.finishedPages('doc');
    expect(first.map((p) => p.text)).toEqual(['page 1', 'page 2']);
    expect(first[0]).not.toHaveProperty('lines');
    expect(get).toHaveBeenCalledTimes(2);

    await storage.writeJson(storage.pageKey('doc', 3), page(3));
    expect((await storage.finishedPages('doc')).map((p) => p.page)).toEqual([1, 2, 3]);
    // Only the new page was read.
    expect(get).toHaveBeenCalledTimes(3);

    await storage.removeDocument('doc');
    expect(await storage.finishedPages('doc')).toEqual([]);
    await storage.writeJson(storage.pageKey('doc', 1), { ...page(1), text: 'again' });
    expect((await storage.finishedPages('doc')).map((p) => p.text)).toEqual(['again']);
    get.mockRestore();
  });
});
