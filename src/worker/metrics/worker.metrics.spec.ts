import type { Job } from 'bullmq';
import { Registry } from 'prom-client';
import { WorkerMetrics } from './worker.metrics';

/** Reads samples from the text Prometheus scrapes. */
async function values(registry: Registry) {
  const lines = (await registry.metrics()).split('\n');
  return (name: string, labels: Record<string, string> = {}) => {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    const line = lines.find((l) => l.split(/[{ ]/)[0] === name && wanted.every((w) => l.includes(w)));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
}

const ocrPage = { source: 'ocr', readMethod: 'otsu', noiseFilter: { droppedWords: 0, overruled: false } } as const;
const textPage = { source: 'text', readMethod: 'text-layer', noiseFilter: null } as const;

describe('WorkerMetrics', () => {
  it('counts pages by source and observes render and OCR times only for rendered pages', async () => {
    const registry = new Registry();
    const metrics = new WorkerMetrics(registry);
    metrics.pageDone(ocrPage, { openMs: 5, textLayerMs: 10, renderMs: 200, osdMs: 0, ocrMs: 900 }, false);
    metrics.pageDone(ocrPage, { renderMs: 100, ocrMs: 600 }, true);
    metrics.pageDone(textPage, { renderMs: null, ocrMs: null }, false);
    const read = await values(registry);
    expect(read('ocr_pages_processed_total', { source: 'ocr' })).toBe(2);
    expect(read('ocr_pages_processed_total', { source: 'text' })).toBe(1);
    expect(read('ocr_page_render_seconds_count')).toBe(2);
    expect(read('ocr_page_ocr_seconds_sum')).toBeCloseTo(1.5);
    expect(read('ocr_engine_restarts_total', { reason: 'recycle' })).toBe(1);
    expect(read('ocr_page_stage_seconds_count', { stage: 'render' })).toBe(2);
    expect(read('ocr_page_stage_seconds_count', { stage: 'osd' })).toBe(1);
    expect(read('ocr_page_stage_seconds_sum', { stage: 'text_layer' })).toBeCloseTo(0.01);
  });

  it("counts which binarisation each OCR'd page kept and what the noise filter did", async () => {
    const registry = new Registry();
    const metrics = new WorkerMetrics(registry);
    const timings = { renderMs: 100, ocrMs: 600 };
    metrics.pageDone(ocrPage, timings, false);
    metrics.pageDone(
      { source: 'ocr', readMethod: 'sauvola-over-otsu', noiseFilter: { droppedWords: 7, overruled: false } },
      timings,
      false,
    );
    metrics.pageDone({ source: 'ocr', readMethod: 'otsu-over-sauvola', noiseFilter: { droppedWords: 0, overruled: true } }, timings, false);
    metrics.pageDone(textPage, { renderMs: null, ocrMs: null }, false);
    const read = await values(registry);
    expect(read('ocr_page_reads_total', { method: 'otsu' })).toBe(1);
    expect(read('ocr_page_reads_total', { method: 'sauvola-over-otsu' })).toBe(1);
    expect(read('ocr_page_reads_total', { method: 'otsu-over-sauvola' })).toBe(1);
    expect(read('ocr_page_reads_total', { method: 'text-layer' })).toBeUndefined();
    expect(read('ocr_noise_filter_pages_total', { outcome: 'clean' })).toBe(1);
    expect(read('ocr_noise_filter_pages_total', { outcome: 'dropped' })).toBe(1);
    expect(read('ocr_noise_filter_pages_total', { outcome: 'overruled' })).toBe(1);
    expect(read('ocr_noise_words_dropped_total')).toBe(7);
  });

  it("counts OCR'd pages by how their pixels were made, and text-layer pages under neither", async () => {
    const registry = new Registry();
    const metrics = new WorkerMetrics(registry);
    metrics.pageDone(ocrPage, { renderMs: 20, ocrMs: 900 }, false, 'image');
    metrics.pageDone(ocrPage, { renderMs: 20, ocrMs: 900 }, false, 'image');
    metrics.pageDone(ocrPage, { renderMs: 200, ocrMs: 900 }, false, 'render');
    metrics.pageDone(textPage, { renderMs: null, ocrMs: null }, false, null);
    const read = await values(registry);
    expect(read('ocr_page_rasters_total', { raster: 'image' })).toBe(2);
    expect(read('ocr_page_rasters_total', { raster: 'render' })).toBe(1);
  });

  it('counts a page timeout as a failure and as a replaced engine', async () => {
    const registry = new Registry();
    const metrics = new WorkerMetrics(registry);
    metrics.pageFailed('page_timeout');
    metrics.pageFailed('pdf_invalid');
    const read = await values(registry);
    expect(read('ocr_page_failures_total', { code: 'page_timeout' })).toBe(1);
    expect(read('ocr_engine_restarts_total', { reason: 'timeout' })).toBe(1);
    expect(read('ocr_engine_restarts_total', { reason: 'recycle' })).toBe(0);
  });

  it('observes the wait in the queue on the first attempt only', async () => {
    const registry = new Registry();
    const metrics = new WorkerMetrics(registry);
    metrics.started('pages', { attemptsMade: 0, timestamp: 1_000, processedOn: 3_500 } as Job);
    metrics.started('pages', { attemptsMade: 1, timestamp: 1_000, processedOn: 9_000 } as Job);
    const read = await values(registry);
    expect(read('ocr_queue_wait_seconds_count', { queue: 'pages' })).toBe(1);
    expect(read('ocr_queue_wait_seconds_sum', { queue: 'pages' })).toBe(2.5);
  });
});
