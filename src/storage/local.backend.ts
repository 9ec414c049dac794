import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { StorageBackend, StoredObject } from './storage.backend';

// ENOTDIR: a key below something that is a file, not a folder, names nothing either.
const missing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** A folder on this host (STORAGE_DIR), shared by API and workers through a volume. */
export class LocalBackend implements StorageBackend {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async init() {
    await mkdir(this.root, { recursive: true });
  }

  /** The file of a key; a key that would leave the root, or name the root itself, is refused. */
  path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new StorageKeyError(key);
    return path;
  }

  async put(key: string, body: Buffer | string) {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    // Write then rename, so a reader never sees half a file.
    const temp = `${target}.${randomUUID()}.tmp`;
    await writeFile(temp, body);
    await rename(temp, target);
  }

  async putFile(key: string, path: string) {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(path, target);
    } catch (error) {
      // Another file system: copy, then remove the original as a rename would have.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await copyFile(path, target);
      await rm(path, { force: true });
    }
  }

  async exists(key: string) {
    const info = await stat(this.path(key)).catch((error: unknown) => (missing(error) ? null : Promise.reject(error)));
    return info?.isFile() ?? false;
  }

  async get(key: string) {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  async open(key: string): Promise<StoredObject | null> {
    const path = this.path(key);
    const info = await stat(path).catch((error: unknown) => (missing(error) ? null : Promise.reject(error)));
    if (!info?.isFile()) return null;
    return { body: createReadStream(path), size: info.size, modifiedMs: info.mtimeMs };
  }

  async download(key: string, path: string) {
    try {
      await copyFile(this.path(key), path);
      return true;
    } catch (error) {
      if (missing(error)) return false;
      throw error;
    }
  }

  async remove(keyOrPrefix: string) {
    await rm(this.path(keyOrPrefix), { recursive: true, force: true });
  }

  async list(prefix: string) {
    const base = this.path(prefix);
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch((error: unknown) =>
      missing(error) ? [] : Promise.reject(error),
    );
    const files = entries.filter((e) => e.isFile() && !e.name.endsWith('.tmp'));
    const listed = await Promise.all(
      files.map(async (e) => {
        const path = join(e.parentPath, e.name);
        const info = await stat(path).catch(() => null);
        return info ? { key: relative(this.root, path).split(sep).join('/'), modifiedMs: info.mtimeMs } : null;
      }),
    );
    return listed.filter((f) => f !== null);
  }
}

export class StorageKeyError extends Error {
  constructor(key: string) {
    super(`Storage key ${JSON.stringify(key)} is outside the storage folder`);
  }
}
