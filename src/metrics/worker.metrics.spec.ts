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

describe('WorkerMetrics', () => {
  it('counts pages by source and observes render and OCR times only for rendered pages', async () => {
    const registry = new Registry();
    const metrics = new WorkerMetrics(registry);
    metrics.pageDone('ocr', { openMs: 5, textLayerMs: 10, renderMs: 200, osdMs: 0, ocrMs: 900 }, false);
    metrics.pageDone('ocr', { renderMs: 100, ocrMs: 600 }, true);
    metrics.pageDone('text', { renderMs: null, ocrMs: null }, false);
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
