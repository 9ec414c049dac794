/**
 * The entry point of the pool's threads, around pdf.task: it tells the main thread when a
 * task actually starts (its time limit counts from there, not from when it was queued nor
 * while a fresh thread still loads pdf.js) and, while it runs, what the thread holds (see
 * memory-blame.ts),
 * and turns pdf.js's warning that it dropped an image over the pixel cap into a failure,
 * since a page rendered without its image would read as blank.
 */
import type { MessagePort } from 'node:worker_threads';
import { REPORT_MS } from './memory-blame';
import * as pdf from './pdf.task';

export interface PoolTask<T> {
  task: T;
  /** Told when the thread starts on the task, then what it holds until the task ends. */
  started: MessagePort;
}

export type ThreadMessage = { type: 'started' } | { type: 'holding'; bytes: number; rss: number };

const DROPPED_IMAGE = 'Image exceeded maximum allowed size';
let warnings: string[] = [];
// pdf.js reports through the console; its warnings would only break the JSON log lines.
for (const method of ['log', 'info', 'warn'] as const) console[method] = (...args: unknown[]) => void warnings.push(args.join(' '));

/** Runs `work` once pdf.js is loaded, telling the main thread it started and what the thread holds meanwhile. */
async function reporting<T>(started: MessagePort, work: () => Promise<T>): Promise<T> {
  await pdf.loaded;
  warnings = [];
  const send = (message: ThreadMessage) => started.postMessage(message);
  send({ type: 'started' });
  // This isolate's heap and buffers (decoded streams and images, the pixels handed to the engine), and the canvases' native memory.
  const report = () => {
    const { heapUsed, external, rss } = process.memoryUsage();
    send({ type: 'holding', bytes: heapUsed + external + pdf.canvasBytes(), rss });
  };
  report();
  const timer = setInterval(report, REPORT_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    started.close();
  }
}

export async function inspect({ task, started }: PoolTask<pdf.InspectTask>): Promise<pdf.InspectOutcome> {
  return reporting(started, () => pdf.inspect(task));
}

export async function processPage({ task, started }: PoolTask<pdf.PageTask>): Promise<pdf.PageOutcome> {
  const outcome = await reporting(started, () => pdf.processPage(task));
  if (outcome.ok && outcome.result.source === 'ocr' && warnings.some((w) => w.includes(DROPPED_IMAGE))) {
    return {
      ok: false,
      code: 'page_too_large',
      message: `Page ${task.page} holds an image of more than OCR_MAX_PIXELS (${task.maxPixels}) pixels.`,
    };
  }
  return outcome;
}

export async function renderImage({ task, started }: PoolTask<pdf.ImageTask>): Promise<pdf.ImageOutcome> {
  return reporting(started, () => pdf.renderImage(task));
}
