import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { AppConfig } from '../config/config';
import { FORMAT_INFO, type PageFormat, RESULT_FORMATS, type ResultFormat } from '../contract/formats';
import { LocalBackend } from './local.backend';
import { S3Backend } from './s3.backend';
import { STORAGE_FOLDERS, type StorageBackend, type StoredObject } from './storage.backend';

/** Local copies of stored uploads that no page has read for this long are deleted. */
const LOCAL_COPY_IDLE_MS = 10 * 60 * 1000;
/** Finished pages' summaries kept in memory: a few KiB each, mostly their text. */
const SUMMARY_CACHE_SIZE = 5000;
import type { PageResult, PageSummary } from '../contract/results';

/**
 * The documents' files, under keys the server makes up (nothing a client sends ends up in
 * a key): in STORAGE_DIR, or in the bucket of STORAGE_URL. STORAGE_DIR always holds this
 * process's own scratch files: uploads being received, and a worker's local copies of
 * stored PDFs (pdf.js reads a file), which are deleted when the document is done or idle.
 */
@Injectable()
export class StorageService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(StorageService.name);
  readonly backend: StorageBackend;
  private readonly scratch: string;
  private readonly copies = new Map<string, Promise<string>>();
  /** Page summaries by page key, least recently used first. */
  private readonly summaries = new Map<string, PageSummary>();

  constructor(config: AppConfig) {
    this.scratch = resolve(config.storageDir);
    this.backend = config.s3 ? new S3Backend(config.s3) : new LocalBackend(config.storageDir);
  }

  async onModuleInit() {
    await Promise.all(['incoming', 'copies'].map((d) => mkdir(join(this.scratch, d), { recursive: true })));
    await this.backend.init();
    if (this.backend.kind === 's3') this.logger.log('Documents are stored in S3; STORAGE_DIR holds scratch files only');
  }

  onApplicationShutdown() {
    (this.backend as Partial<S3Backend>).destroy?.();
  }

  /** Where uploads are received before they are checked and stored. */
  get incomingDir() {
    return join(this.scratch, 'incoming');
  }

  uploadKey(documentId: string) {
    return `uploads/${documentId}.pdf`;
  }

  /** An uploaded image, as it came; uploadKey then holds the PDF the worker makes of it. */
  imageUploadKey(documentId: string) {
    return `uploads/${documentId}.image`;
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

  /** Stores a file written by the upload handler under `key`, taking it off the local disk. */
  async adopt(tempPath: string, key: string) {
    await this.backend.putFile(key, tempPath);
  }

  /** Stores a client's object of the bucket (see JobSources) under `key`, copied inside the bucket. */
  async copyFromBucket(bucketKey: string, key: string) {
    if (!(this.backend instanceof S3Backend)) throw new Error('Only a bucket holds objects to copy.');
    await this.backend.copyInput(bucketKey, key);
  }

  async writeJson(key: string, value: unknown) {
    await this.backend.put(key, JSON.stringify(value));
  }

  async writeFile(key: string, data: Uint8Array) {
    await this.backend.put(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Whether something is stored under `key`. */
  exists(key: string) {
    return this.backend.exists(key);
  }

  async readJson<T>(key: string): Promise<T | null> {
    const bytes = await this.backend.get(key);
    return bytes ? (JSON.parse(bytes.toString('utf8')) as T) : null;
  }

  /** A finished page of a job that is running or stopped (a completed job's pages are in its result). */
  async finishedPage(documentId: string, page: number): Promise<PageResult | null> {
    return this.readJson<PageResult>(this.pageKey(documentId, page));
  }

  /**
   * The pages of a running or stopped job that have finished, in page order, without their
   * lines. A finished page never changes, so each is read once per process and then kept
   * (the most recent SUMMARY_CACHE_SIZE): a poll of a running job lists the folder and reads
   * only the pages finished since, not every page's words again.
   */
  async finishedPages(documentId: string): Promise<PageSummary[]> {
    const stored = await this.backend.list(`pages/${documentId}/`);
    const numbers = stored
      .flatMap(({ key }) => (/\/(\d+)\.json$/.exec(key) ? [Number.parseInt(/\/(\d+)\.json$/.exec(key)![1], 10)] : []))
      .sort((x, y) => x - y);
    const pages = await Promise.all(numbers.map((n) => this.pageSummary(documentId, n)));
    return pages.flatMap((p) => (p ? [p] : []));
  }

  private async pageSummary(documentId: string, page: number): Promise<PageSummary | null> {
    const key = this.pageKey(documentId, page);
    const kept = this.summaries.get(key);
    if (kept) {
      // Most recently used last: the first entry is the one to drop.
      this.summaries.delete(key);
      this.summaries.set(key, kept);
      return kept;
    }
    const result = await this.finishedPage(documentId, page);
    if (!result) return null;
    const { lines: _lines, ...summary } = result;
    this.summaries.set(key, summary);
    if (this.summaries.size > SUMMARY_CACHE_SIZE) this.summaries.delete(this.summaries.keys().next().value!);
    return summary;
  }

  /** The stored text of `key`; throws when there is none. */
  async readText(key: string) {
    const bytes = await this.backend.get(key);
    if (!bytes) throw new Error(`Nothing stored under ${key}`);
    return bytes.toString('utf8');
  }

  open(key: string): Promise<StoredObject | null> {
    return this.backend.open(key);
  }

  async remove(key: string) {
    await this.backend.remove(key);
  }

  /**
   * A local file with the content of `key`, for pdf.js: the stored file itself in a local
   * folder, else a copy made once per process and document (concurrent pages share it).
   */
  async localFile(key: string): Promise<string> {
    if (this.backend instanceof LocalBackend) return this.backend.path(key);
    let copy = this.copies.get(key);
    if (!copy) {
      // A name of this copy's own: workers that share a scratch folder never write one file.
      const path = join(this.scratch, 'copies', `${randomUUID()}-${key.replace(/[^\w.-]+/g, '_')}`);
      copy = this.backend.download(key, path).then((found) => {
        if (!found) throw new Error(`Nothing stored under ${key}`);
        return path;
      });
      this.copies.set(key, copy);
      copy.catch(() => this.copies.delete(key));
    }
    const path = await copy;
    // Marks the copy as in use, for the idle sweep.
    await utimes(path, new Date(), new Date()).catch(() => undefined);
    return path;
  }

  /**
   * Where a thread of this process may write the file for `key`: its place in a local
   * folder, else a scratch file that `commitLocalTarget` then stores.
   */
  async localTarget(key: string): Promise<string> {
    const path = this.backend instanceof LocalBackend ? this.backend.path(key) : join(this.scratch, 'copies', `out-${randomUUID()}`);
    await mkdir(dirname(path), { recursive: true });
    return path;
  }

  /** Stores what was written to a `localTarget`; a file that was not written is skipped. */
  async commitLocalTarget(key: string, path: string) {
    if (this.backend instanceof LocalBackend) return;
    if (await stat(path).catch(() => null)) await this.backend.putFile(key, path);
  }

  /** Deletes this process's local copy of `key`, if it made one. */
  async releaseLocalFile(key: string) {
    const copy = this.copies.get(key);
    if (!copy) return;
    this.copies.delete(key);
    await rm(await copy.catch(() => ''), { force: true });
  }

  /** Everything stored for a document. */
  async removeDocument(documentId: string) {
    await Promise.all(
      [
        this.uploadKey(documentId),
        this.imageUploadKey(documentId),
        `pages/${documentId}/`,
        `images/${documentId}/`,
        this.summaryKey(documentId),
        ...RESULT_FORMATS.map((format) => this.outputKey(documentId, format)),
      ].map((k) => this.backend.remove(k)),
    );
    await this.releaseLocalFile(this.uploadKey(documentId));
    await this.releaseLocalFile(this.imageUploadKey(documentId));
    for (const key of this.summaries.keys()) if (key.startsWith(`pages/${documentId}/`)) this.summaries.delete(key);
  }

  /**
   * Document ids that have stored files older than `maxAgeMs`; partial uploads untouched for
   * `incomingMaxAgeMs`, and idle local copies, are deleted on the way.
   */
  async documentsOlderThan(maxAgeMs: number, incomingMaxAgeMs = maxAgeMs): Promise<Set<string>> {
    await this.sweepScratch(incomingMaxAgeMs);
    const cutoff = Date.now() - maxAgeMs;
    const ids = new Set<string>();
    for (const prefix of STORAGE_FOLDERS) {
      for (const { key, modifiedMs } of await this.backend.list(prefix)) {
        if (modifiedMs <= cutoff) ids.add(key.slice(prefix.length).split(/[./]/)[0]);
      }
    }
    return ids;
  }

  private async sweepScratch(maxAgeMs: number) {
    for (const [dir, idleMs] of [
      ['incoming', maxAgeMs],
      ['copies', LOCAL_COPY_IDLE_MS],
    ] as const) {
      for (const name of await readdir(join(this.scratch, dir)).catch(() => [] as string[])) {
        const path = join(this.scratch, dir, name);
        const info = await stat(path).catch(() => null);
        if (info && info.mtimeMs < Date.now() - idleMs) {
          await rm(path, { force: true });
          for (const [key, copy] of this.copies) if ((await copy.catch(() => '')) === path) this.copies.delete(key);
        }
      }
    }
  }
}
