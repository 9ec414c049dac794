/** One file through the service: hash, upload (or find the job a rerun left), follow, download. */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { OcrClient, OcrError, type Job, type ResultFormat } from './client';
import { idempotencyKey, sha256OfFile, type JobOptions } from './job-key';
import type { FileReport } from './progress';
import { createHash } from 'node:crypto';

export interface Output {
  format: ResultFormat;
  /** A path, or `-` for stdout. */
  dest: string;
}

export interface Source {
  name: string;
  blob: Blob;
  sha256: string;
}

export async function sourceOfFile(path: string, name: string): Promise<Source> {
  try {
    if (!(await stat(path)).isFile()) throw new OcrError('input_unreadable', `${path} is not a file`);
    return { name, blob: await openAsBlob(path), sha256: await sha256OfFile(path) };
  } catch (error) {
    if (error instanceof OcrError) throw error;
    throw new OcrError('input_unreadable', `Cannot read ${path}: ${(error as Error).message}`);
  }
}

export function sourceOfBytes(bytes: Buffer, name: string): Source {
  return { name, blob: new Blob([bytes]), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A job a rerun must not be handed back: stopped, or ended by a failure that may not recur. */
const RETRYABLE_FAILURES = new Set(['processing_failed', 'page_timeout']);
const isDead = (job: Job) => job.status === 'cancelled' || (job.status === 'failed' && RETRYABLE_FAILURES.has(job.error?.code ?? ''));

export async function ocrFile(client: OcrClient, source: Source, options: JobOptions, outputs: Output[], report: FileReport): Promise<Job> {
  const key = idempotencyKey(source.sha256, options);
  const submitted = await client.submit(source.blob, source.name, options, key);
  let job = submitted.job;
  if (submitted.replayed && isDead(job)) {
    // Deleting it frees the key for a fresh job.
    await client.remove(job.id);
    ({ job } = await client.submit(source.blob, source.name, options, key));
  }
  job = await client.follow(job, (progress) => report.update(progress));
  if (job.status === 'failed') throw new OcrError(job.error?.code ?? 'processing_failed', job.error?.message ?? 'The job failed');
  if (job.status === 'cancelled') throw new OcrError('cancelled', 'The job was cancelled on the service');
  for (const output of outputs) await client.download(job.id, output.format, output.dest);
  return job;
}
