import { Injectable, OnModuleInit } from '@nestjs/common';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { AppConfig } from '../config/config';

/**
 * The folder that API and workers share. Keys are relative paths the server makes up;
 * nothing a client sends ends up in a path.
 */
@Injectable()
export class StorageService implements OnModuleInit {
  readonly root: string;

  constructor(config: AppConfig) {
    this.root = resolve(config.storageDir);
  }

  async onModuleInit() {
    await Promise.all(['incoming', 'uploads', 'pages', 'results'].map((d) => mkdir(join(this.root, d), { recursive: true })));
  }

  get incomingDir() {
    return join(this.root, 'incoming');
  }

  /** The file of `key`; a key that would leave STORAGE_DIR (or name the folder itself) is refused. */
  path(key: string) {
    const target = resolve(this.root, key);
    const inside = relative(this.root, target);
    if (!inside || inside.startsWith('..') || isAbsolute(inside)) throw new StorageKeyError(key);
    return target;
  }

  uploadKey(documentId: string) {
    return `uploads/${documentId}.pdf`;
  }

  pageKey(documentId: string, page: number) {
    return `pages/${documentId}/${page}.json`;
  }

  resultKey(documentId: string) {
    return `results/${documentId}.json`;
  }

  summaryKey(documentId: string) {
    return `results/${documentId}.summary.json`;
  }

  /** Moves a file written by the upload handler into place under `key`. */
  async adopt(tempPath: string, key: string) {
    await rename(tempPath, this.path(key));
  }

  async writeJson(key: string, value: unknown) {
    const target = this.path(key);
    await mkdir(join(target, '..'), { recursive: true });
    // Write then rename, so a reader never sees half a file.
    // Unique: in containers every process is pid 1, and two workers may write one key.
    const temp = `${target}.${randomUUID()}.tmp`;
    await writeFile(temp, JSON.stringify(value));
    await rename(temp, target);
  }

  async readJson<T>(key: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(this.path(key), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async exists(key: string) {
    return stat(this.path(key)).then(
      () => true,
      () => false,
    );
  }

  async readText(key: string) {
    return readFile(this.path(key), 'utf8');
  }

  async remove(key: string) {
    await rm(this.path(key), { recursive: true, force: true });
  }

  /** Everything stored for a document. */
  async removeDocument(documentId: string) {
    await Promise.all(
      [this.uploadKey(documentId), `pages/${documentId}`, this.resultKey(documentId), this.summaryKey(documentId)].map((k) =>
        this.remove(k),
      ),
    );
  }

  /** Document ids that have files older than `maxAgeMs`, found by their file names. */
  async documentsOlderThan(maxAgeMs: number): Promise<Set<string>> {
    const cutoff = Date.now() - maxAgeMs;
    const ids = new Set<string>();
    for (const dir of ['uploads', 'pages', 'results', 'incoming']) {
      const entries = await readdir(this.path(dir)).catch(() => [] as string[]);
      for (const name of entries) {
        const info = await stat(this.path(`${dir}/${name}`)).catch(() => null);
        if (!info || info.mtimeMs > cutoff) continue;
        if (dir === 'incoming') await this.remove(`${dir}/${name}`);
        else ids.add(name.split('.')[0]);
      }
    }
    return ids;
  }
}

export class StorageKeyError extends Error {
  constructor(key: string) {
    super(`Storage key ${JSON.stringify(key)} is outside the storage folder`);
  }
}
