/**
 * The entry point of the pool's threads, around pdf.task: it tells the main thread when a
 * task actually starts (its time limit counts from there, not from when it was queued nor
 * while a fresh thread still loads pdf.js),
 * and turns pdf.js's warning that it dropped an image over the pixel cap into a failure,
 * since a page rendered without its image would read as blank.
 */
import type { MessagePort } from 'node:worker_threads';
import * as pdf from './pdf.task';

export interface PoolTask<T> {
  task: T;
  /** Gets one message when the thread starts on the task. */
  started: MessagePort;
}

const DROPPED_IMAGE = 'Image exceeded maximum allowed size';
let warnings: string[] = [];
// pdf.js reports through the console; its warnings would only break the JSON log lines.
for (const method of ['log', 'info', 'warn'] as const) console[method] = (...args: unknown[]) => void warnings.push(args.join(' '));

async function begin(started: MessagePort) {
  await pdf.loaded;
  warnings = [];
  started.postMessage(null);
  started.close();
}

export async function inspect({ task, started }: PoolTask<pdf.InspectTask>): Promise<pdf.InspectOutcome> {
  await begin(started);
  return pdf.inspect(task);
}

export async function processPage({ task, started }: PoolTask<pdf.PageTask>): Promise<pdf.PageOutcome> {
  await begin(started);
  const outcome = await pdf.processPage(task);
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
  await begin(started);
  return pdf.renderImage(task);
}
