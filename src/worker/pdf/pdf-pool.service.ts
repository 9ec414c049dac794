import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { AppConfig } from '../../config/config';
import { LanguageCatalog } from '../ocr/language-catalog';
import { findOsdModel, prepareLangPath } from '../ocr/tessdata';
import type { ImageOutcome, ImageTask, InspectOutcome, PageOutcome, PageTask, PdfThreadOptions } from './pdf.task';

/**
 * Threads that open, render and OCR PDFs off the main event loop, so BullMQ can keep
 * renewing its job locks. Pages get OCR_CONCURRENCY threads, each with its own
 * tesseract.js engine; inspection gets one thread of its own so that it never waits
 * behind pages and its time limit measures only its own work.
 */
@Injectable()
export class PdfPoolService implements OnApplicationShutdown {
  private readonly pages: Piscina;
  private readonly inspector: Piscina;
  private readonly images: Piscina;

  constructor(
    private readonly config: AppConfig,
    languages: LanguageCatalog,
  ) {
    const filename = join(__dirname, 'pdf.task.js');
    const osdModel = config.ocrDetectOrientation ? findOsdModel(config.ocrModelDir) : null;
    const langPath = prepareLangPath(languages.models, osdModel);
    const threadOptions = (warmUpLanguages: string): PdfThreadOptions => ({
      langPath,
      recyclePages: config.ocrRecyclePages,
      warmUpLanguages,
      detectOrientation: osdModel !== null,
    });
    this.pages = new Piscina({
      filename,
      minThreads: config.ocrConcurrency,
      maxThreads: config.ocrConcurrency,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      workerData: threadOptions(config.ocrLanguages),
    });
    this.inspector = new Piscina({ filename, minThreads: 1, maxThreads: 1, workerData: threadOptions('') });
    // Page images are asked for now and then, by people looking at results: a thread of their own, only while needed.
    this.images = new Piscina({ filename, minThreads: 0, maxThreads: 1, idleTimeout: 60_000, workerData: threadOptions('') });
  }

  async inspect(path: string): Promise<InspectOutcome> {
    return this.run(this.inspector, 'inspect', { path }, 'Reading the document');
  }

  async processPage(task: Omit<PageTask, 'dpi' | 'maxPixels' | 'minDpi'>): Promise<PageOutcome> {
    const { ocrDpi: dpi, ocrMaxPixels: maxPixels, ocrMinDpi: minDpi } = this.config;
    return this.run(this.pages, 'processPage', { ...task, dpi, maxPixels, minDpi }, `Page ${task.page}`);
  }

  async renderImage(task: Omit<ImageTask, 'maxPixels'>): Promise<ImageOutcome> {
    return this.run(this.images, 'renderImage', { ...task, maxPixels: this.config.ocrMaxPixels }, `Page ${task.page}'s image`);
  }

  /** After the BullMQ workers have closed (see PageProcessor.onModuleDestroy). */
  async onApplicationShutdown() {
    await Promise.all([this.pages.destroy(), this.inspector.destroy(), this.images.destroy()]);
  }

  private async run<T>(
    pool: Piscina,
    name: string,
    task: object,
    what: string,
  ): Promise<T | { ok: false; code: 'page_timeout'; message: string }> {
    const limit = this.config.pageTimeoutMs;
    try {
      // An aborted task takes its thread down with it; piscina starts a fresh one.
      return (await pool.run(task, { name, signal: AbortSignal.timeout(limit) })) as T;
    } catch (error) {
      if ((error as Error).name === 'AbortError') {
        return { ok: false, code: 'page_timeout', message: `${what} took longer than PAGE_TIMEOUT_MS (${limit} ms).` };
      }
      throw error;
    }
  }
}
