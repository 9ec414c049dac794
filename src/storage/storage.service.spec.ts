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
});
