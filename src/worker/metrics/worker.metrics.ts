import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { Counter, Histogram, Registry } from 'prom-client';
import type { PageResult } from '../../contract/results';

const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * What one worker process did. Page timings are measured inside the pool's threads and
 * come back with each page (prom-client lives on the main thread only).
 */
/** A page's time by stage in its thread, in ms; null for stages it did not go through. */
export interface StageTimings {
  openMs?: number;
  textLayerMs?: number | null;
  renderMs: number | null;
  osdMs?: number | null;
  ocrMs: number | null;
}

@Injectable()
export class WorkerMetrics {
  private readonly pages: Counter<'source'>;
  private readonly reads: Counter<'method'>;
  private readonly rasters: Counter<'raster'>;
  private readonly noiseFilter: Counter<'outcome'>;
  private readonly noiseWords: Counter;
  private readonly pageFailures: Counter<'code'>;
  private readonly render: Histogram;
  private readonly ocr: Histogram;
  private readonly stages: Histogram<'stage'>;
  private readonly restarts: Counter<'reason'>;
  private readonly wait: Histogram<'queue'>;
  private readonly documents: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.pages = new Counter({
      name: 'ocr_pages_processed_total',
      help: 'Pages processed, by where their text came from (text layer or OCR).',
      labelNames: ['source'],
      registers,
    });
    this.reads = new Counter({
      name: 'ocr_page_reads_total',
      help: 'OCR\'d pages by the binarisation whose read was kept: "otsu" (confident first read), "otsu-over-sauvola" and "sauvola-over-otsu" (a poor first read, read again with Sauvola; the one kept first).',
      labelNames: ['method'],
      registers,
    });
    this.rasters = new Counter({
      name: 'ocr_page_rasters_total',
      help: 'OCR\'d pages by how their pixels were made: "image" (the page is one image; its own pixels, without rendering), "render" (the page rendered by pdf.js).',
      labelNames: ['raster'],
      registers,
    });
    this.noiseFilter = new Counter({
      name: 'ocr_noise_filter_pages_total',
      help: 'OCR\'d pages by what the noise filter did: "clean" (nothing to drop), "dropped" (doubted noise dropped), "overruled" (it would have dropped most of the page, so nothing was dropped).',
      labelNames: ['outcome'],
      registers,
    });
    this.noiseWords = new Counter({ name: 'ocr_noise_words_dropped_total', help: 'Words the noise filter dropped.', registers });
    this.pageFailures = new Counter({
      name: 'ocr_page_failures_total',
      help: 'Pages that failed, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.render = new Histogram({ name: 'ocr_page_render_seconds', help: 'Time to render a page for OCR.', buckets: SECONDS, registers });
    this.ocr = new Histogram({
      name: 'ocr_page_ocr_seconds',
      help: 'Time tesseract took to recognise a rendered page.',
      buckets: SECONDS,
      registers,
    });
    this.stages = new Histogram({
      name: 'ocr_page_stage_seconds',
      help: 'Time a page spent in each stage in its thread: open, text_layer, render, osd (orientation detection, only on pages that read poorly), ocr.',
      labelNames: ['stage'],
      buckets: SECONDS,
      registers,
    });
    this.restarts = new Counter({
      name: 'ocr_engine_restarts_total',
      help: 'OCR engines replaced: "recycle" after OCR_RECYCLE_PAGES pages, "timeout" when a page overran PAGE_TIMEOUT_MS and its thread was replaced.',
      labelNames: ['reason'],
      registers,
    });
    this.wait = new Histogram({
      name: 'ocr_queue_wait_seconds',
      help: 'Time a job waited in its queue before a worker first took it.',
      labelNames: ['queue'],
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.documents = new Histogram({
      name: 'ocr_document_duration_seconds',
      help: "Time from a document's first run to its result, all pages included.",
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    for (const reason of ['recycle', 'timeout']) this.restarts.inc({ reason }, 0);
    for (const method of ['otsu', 'otsu-over-sauvola', 'sauvola-over-otsu']) this.reads.inc({ method }, 0);
    for (const outcome of ['clean', 'dropped', 'overruled']) this.noiseFilter.inc({ outcome }, 0);
    for (const raster of ['image', 'render']) this.rasters.inc({ raster }, 0);
  }

  /** On a job's first run only: retries and a document's second run have waited for other reasons. */
  started(queue: string, job: Job) {
    if (job.attemptsMade === 0) this.wait.observe({ queue }, Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000);
  }

  pageDone(
    page: Pick<PageResult, 'source' | 'readMethod' | 'noiseFilter'>,
    timings: StageTimings,
    engineRecycled: boolean,
    raster: 'image' | 'render' | null = null,
  ) {
    this.pages.inc({ source: page.source });
    if (raster) this.rasters.inc({ raster });
    if (page.readMethod !== 'text-layer') this.reads.inc({ method: page.readMethod });
    if (page.noiseFilter) {
      const { droppedWords, overruled } = page.noiseFilter;
      this.noiseFilter.inc({ outcome: overruled ? 'overruled' : droppedWords ? 'dropped' : 'clean' });
      this.noiseWords.inc(droppedWords);
    }
    if (timings.renderMs !== null) this.render.observe(timings.renderMs / 1000);
    if (timings.ocrMs !== null) this.ocr.observe(timings.ocrMs / 1000);
    const stages = {
      open: timings.openMs,
      text_layer: timings.textLayerMs,
      render: timings.renderMs,
      osd: timings.osdMs,
      ocr: timings.ocrMs,
    };
    for (const [stage, ms] of Object.entries(stages)) if (ms !== null && ms !== undefined) this.stages.observe({ stage }, ms / 1000);
    if (engineRecycled) this.restarts.inc({ reason: 'recycle' });
  }

  pageFailed(code: string) {
    this.pageFailures.inc({ code });
    if (code === 'page_timeout') this.restarts.inc({ reason: 'timeout' });
  }

  documentDone(ms: number) {
    this.documents.observe(ms / 1000);
  }
}
