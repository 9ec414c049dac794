import { Injectable, OnModuleInit } from '@nestjs/common';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppConfig } from '../config/config';
import type { PageResult, PageSummary } from '../contract/results';

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

  path(key: string) {
    return join(this.root, key);
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
    const temp = `${target}.${process.pid}.tmp`;
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

  /** A finished page of a job that is running or stopped (a completed job's pages are in its result). */
  async finishedPage(documentId: string, page: number): Promise<PageResult | null> {
    return this.readJson<PageResult>(this.pageKey(documentId, page));
  }

  /** The pages of a running or stopped job that have finished, in page order, without their lines. */
  async finishedPages(documentId: string): Promise<PageSummary[]> {
    const names = await readdir(this.path(`pages/${documentId}`)).catch(() => [] as string[]);
    const numbers = names.flatMap((n) => (/^\d+\.json$/.test(n) ? [Number.parseInt(n, 10)] : [])).sort((a, b) => a - b);
    const pages = await Promise.all(numbers.map((n) => this.finishedPage(documentId, n)));
    return pages.flatMap((p) => (p ? [(({ lines: _lines, ...summary }) => summary)(p)] : []));
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

  /**
   * Document ids that have files older than `maxAgeMs`, found by their file names; partial
   * uploads in `incoming` untouched for `incomingMaxAgeMs` are deleted on the way.
   */
  async documentsOlderThan(maxAgeMs: number, incomingMaxAgeMs = maxAgeMs): Promise<Set<string>> {
    const now = Date.now();
    const ids = new Set<string>();
    for (const dir of ['uploads', 'pages', 'results', 'incoming']) {
      const entries = await readdir(this.path(dir)).catch(() => [] as string[]);
      for (const name of entries) {
        const info = await stat(this.path(`${dir}/${name}`)).catch(() => null);
        if (!info || info.mtimeMs > now - (dir === 'incoming' ? incomingMaxAgeMs : maxAgeMs)) continue;
        if (dir === 'incoming') await this.remove(`${dir}/${name}`);
        else ids.add(name.split('.')[0]);
      }
    }
    return ids;
  }
}
