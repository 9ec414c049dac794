import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { basename } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AppConfig } from '../../config/config';
import type { FailureCode } from '../../contract/failures';
import { LanguageCatalog } from '../ocr/language-catalog';
import { findOsdModel, prepareLangPath } from '../ocr/tessdata';
import { COMPILED_POOL_FILES, POOL_FILES, type PoolFiles } from '../pool-files';
import { culprit, Holding } from './memory-blame';
import type { ImageOutcome, ImageTask, InspectOutcome, PageOutcome, PageTask, PdfThreadOptions } from './pdf.task';
import type { ThreadMessage } from './pool-task';

/** A task that failed in the pool; `retryable` when it may have been stopped for another task's sake. */
export type PoolFailure = { ok: false; code: FailureCode; message: string; retryable?: boolean };

interface Running {
  label: string;
  controller: AbortController;
  /** Its thread has started on it. */
  started: boolean;
  stopped: null | 'timeout' | 'memory';
  /** What its thread last said it held (see memory-blame.ts). */
  holding: Holding;
  /** Stopped for memory on a guess (it held less than twice what another did): another attempt will tell. */
  guessed: boolean;
}

const MEMORY_CHECK_MS = 100;

/**
 * Threads that open, render and OCR PDFs off the main event loop, so BullMQ can keep
 * renewing its job locks. Pages get OCR_CONCURRENCY threads, each with its own tesseract.js
 * engine; inspection gets as many threads as documents are inspected at once, so that no
 * document waits behind another. A task's time limit runs from when its thread starts on it.
 *
 * Memory is bounded twice: each thread's JavaScript heap by V8 (resourceLimits), and the
 * process's resident memory (pdf.js's decoded streams and images live outside that heap) by
 * a check every 100 ms: once it passes OCR_MEMORY_LIMIT_MB, the task whose thread holds the
 * most is stopped, and only it (see memory-blame.ts); the next, if need be, once its thread is gone.
 */
@Injectable()
export class PdfPoolService implements OnApplicationShutdown {
  private readonly logger = new Logger(PdfPoolService.name);
  private readonly pages: Piscina;
  private readonly inspector: Piscina;
  private readonly images: Piscina;
  private readonly running = new Set<Running>();
  private readonly memoryCheck: NodeJS.Timeout;
  private readonly limitBytes: number;

  constructor(
    private readonly config: AppConfig,
    languages: LanguageCatalog,
    @Optional() @Inject(POOL_FILES) files: PoolFiles = COMPILED_POOL_FILES,
  ) {
    const filename = files.pdf;
    const osdModel = config.ocrDetectOrientation ? findOsdModel(config.ocrModelDir) : null;
    const langPath = prepareLangPath(languages.models, osdModel);
    const threadOptions = (warmUpLanguages: string): PdfThreadOptions => ({
      langPath,
      recyclePages: config.ocrRecyclePages,
      reading: { secondBelow: config.ocrRereadBelow },
      ownPixels: config.ocrOwnPixels,
      warmUpLanguages,
      detectOrientation: osdModel !== null,
      maxImagePixels: config.ocrMaxPixels,
    });
    this.limitBytes = config.ocrMemoryLimitMb * 1024 * 1024;
    // Each thread's share of the limit for its JavaScript heap (tesseract's wasm memory is outside it).
    const resourceLimits = { maxOldGenerationSizeMb: Math.max(256, Math.floor(config.ocrMemoryLimitMb / (config.ocrConcurrency + 1))) };
    this.pages = new Piscina({
      filename,
      minThreads: config.ocrConcurrency,
      maxThreads: config.ocrConcurrency,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      resourceLimits,
      workerData: threadOptions(config.ocrLanguages),
    });
    const inspectors = documentConcurrency(config.ocrConcurrency);
    this.inspector = new Piscina({ filename, minThreads: 1, maxThreads: inspectors, resourceLimits, workerData: threadOptions('') });
    this.memoryCheck = setInterval(() => this.checkMemory(), MEMORY_CHECK_MS);
    this.memoryCheck.unref();
    // Page images are asked for now and then, by people looking at results: a thread of their own, only while needed.
    this.images = new Piscina({
      filename,
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: 60_000,
      resourceLimits,
      workerData: threadOptions(''),
    });
  }

  async inspect(path: string): Promise<InspectOutcome | PoolFailure> {
    const outcome = await this.run<InspectOutcome>(this.inspector, 'inspect', { path }, 'Reading the document');
    // A document that cannot even be opened within the memory limit is not a readable PDF.
    return !outcome.ok && outcome.code === 'page_too_large' ? { ...outcome, code: 'pdf_invalid' } : outcome;
  }

  async processPage(task: Omit<PageTask, 'dpi' | 'maxPixels' | 'minDpi'>): Promise<PageOutcome | PoolFailure> {
    const { ocrDpi: dpi, ocrMaxPixels: maxPixels, ocrMinDpi: minDpi } = this.config;
    const label = `page ${task.page} of ${basename(task.path).replace(/\.(pdf|image)$/, '')}`;
    return this.run<PageOutcome>(this.pages, 'processPage', { ...task, dpi, maxPixels, minDpi }, `Page ${task.page}`, label);
  }

  async renderImage(task: Omit<ImageTask, 'maxPixels'>): Promise<ImageOutcome> {
    return this.run(this.images, 'renderImage', { ...task, maxPixels: this.config.ocrMaxPixels }, `Page ${task.page}'s image`);
  }

  /** After the BullMQ workers have closed (see PageProcessor.onModuleDestroy). */
  async onApplicationShutdown() {
    clearInterval(this.memoryCheck);
    await Promise.all([this.pages.destroy(), this.inspector.destroy(), this.images.destroy()]);
  }

  /** `what` names the task to its job's owner; `label`, to the operator (the log). */
  private async run<T>(pool: Piscina, name: string, task: object, what: string, label = what): Promise<T | PoolFailure> {
    const limit = this.config.pageTimeoutMs;
    const entry: Running = {
      label,
      controller: new AbortController(),
      started: false,
      stopped: null,
      holding: { bytes: 0, at: Date.now(), rssAt: process.memoryUsage.rss() },
      guessed: false,
    };
    const { port1, port2 } = new MessageChannel();
    let timer: NodeJS.Timeout | undefined;
    port1.on('message', (message: ThreadMessage) => {
      if (message.type === 'holding') {
        entry.holding = { bytes: message.bytes, at: Date.now(), rssAt: message.rss };
        return;
      }
      // Time spent waiting for a thread (one being replaced, say) is nobody's failure.
      entry.started = true;
      timer = setTimeout(() => {
        entry.stopped = 'timeout';
        entry.controller.abort();
      }, limit);
    });
    this.running.add(entry);
    try {
      // An aborted task takes its thread down with it; piscina starts a fresh one.
      return (await pool.run({ task, started: port2 }, { name, signal: entry.controller.signal, transferList: [port2] })) as T;
    } catch (error) {
      if (entry.stopped === 'timeout') {
        return { ok: false, code: 'page_timeout', message: `${what} took longer than PAGE_TIMEOUT_MS (${limit} ms).` };
      }
      const heapFull = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      if (entry.stopped === 'memory' || heapFull) {
        return {
          ok: false,
          code: 'page_too_large',
          message: `${what} needed more memory than the worker allows (OCR_MEMORY_LIMIT_MB, ${this.config.ocrMemoryLimitMb} MiB).`,
          retryable: !heapFull && entry.guessed,
        };
      }
      throw error;
    } finally {
      clearTimeout(timer);
      port1.close();
      this.running.delete(entry);
    }
  }

  private checkMemory() {
    if (this.running.size === 0) return;
    const rss = process.memoryUsage.rss();
    if (rss <= this.limitBytes) return;
    const running = [...this.running];
    // One at a time: the memory of the task stopped last comes back when its thread is gone.
    if (running.some((r) => r.stopped === 'memory')) return;
    const candidates = running.filter((r) => r.started && r.stopped === null);
    const entry =
      candidates[
        culprit(
          candidates.map((c) => c.holding),
          rss,
          Date.now(),
        )
      ];
    if (!entry) return;
    const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
    this.logger.warn(
      `Resident memory over OCR_MEMORY_LIMIT_MB (${this.config.ocrMemoryLimitMb} MiB, now ${mib(rss)} MiB): ` +
        `stopping ${entry.label}, whose thread holds the most (${mib(entry.holding.bytes)} MiB when it last said), ` +
        `of ${candidates.length} running`,
    );
    entry.stopped = 'memory';
    const next = Math.max(0, ...candidates.filter((c) => c !== entry).map((c) => c.holding.bytes));
    entry.guessed = candidates.length > 1 && entry.holding.bytes < 2 * next;
    entry.controller.abort();
  }
}

/** Documents only inspect and assemble; the CPU-heavy work is in the pages queue. */
export const documentConcurrency = (ocrConcurrency: number) => Math.max(2, ocrConcurrency);
