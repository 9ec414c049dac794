import { Injectable, OnModuleInit } from '@nestjs/common';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppConfig } from '../config/config';
import { FORMAT_INFO, type PageFormat, RESULT_FORMATS, type ResultFormat } from '../contract/formats';

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
    await Promise.all(['incoming', 'uploads', 'pages', 'results', 'images'].map((d) => mkdir(join(this.root, d), { recursive: true })));
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

  /** A finished document's output in one format (see contract/formats.ts). */
  outputKey(documentId: string, format: ResultFormat) {
    return format === 'json' ? this.resultKey(documentId) : `results/${documentId}.${FORMAT_INFO[format].extension}`;
  }

  /** One page's output; its JSON is the page result the worker wrote. */
  pageOutputKey(documentId: string, page: number, format: PageFormat) {
    return format === 'json' ? this.pageKey(documentId, page) : `pages/${documentId}/${page}.${FORMAT_INFO[format].extension}`;
  }

  /** A page rendered as a PNG `width` pixels wide, made on request and kept with the document. */
  imageKey(documentId: string, page: number, width: number) {
    return `images/${documentId}/${page}-${width}.png`;
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

  async readText(key: string) {
    return readFile(this.path(key), 'utf8');
  }

  async writeFile(key: string, data: Uint8Array) {
    const target = this.path(key);
    await mkdir(join(target, '..'), { recursive: true });
    const temp = `${target}.${process.pid}.tmp`;
    await writeFile(temp, data);
    await rename(temp, target);
  }

  /** The file's size and modification time, or null when there is none. */
  async stat(key: string) {
    return stat(this.path(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
  }

  async remove(key: string) {
    await rm(this.path(key), { recursive: true, force: true });
  }

  /** Everything stored for a document. */
  async removeDocument(documentId: string) {
    const results = [this.summaryKey(documentId), ...RESULT_FORMATS.map((format) => this.outputKey(documentId, format))];
    await Promise.all([this.uploadKey(documentId), `pages/${documentId}`, `images/${documentId}`, ...results].map((k) => this.remove(k)));
  }

  /** Document ids that have files older than `maxAgeMs`, found by their file names. */
  async documentsOlderThan(maxAgeMs: number): Promise<Set<string>> {
    const cutoff = Date.now() - maxAgeMs;
    const ids = new Set<string>();
    for (const dir of ['uploads', 'pages', 'results', 'images', 'incoming']) {
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
