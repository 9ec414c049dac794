import type { Job } from 'bullmq';
import { decodeFailure, ErrorBody, publicFailure } from './failures';
import type { ResultFormat } from './formats';
import type { DocumentJobData } from './queues';
import type { DocumentSummary, PageSummary } from './results';

export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

/** What Redis keeps of a cancelled document, whose job may already be gone. */
export interface CancelledDocument {
  createdAt: number;
  startedAt: number | null;
  cancelledAt: number;
  pagesTotal: number | null;
  pagesDone: number;
  owner?: string;
  /** The upload's name, for the names of the finished pages' downloads. */
  fileName?: string;
  /** The pages the job was to read, so that its finished ones stay readable. */
  pageNumbers?: number[];
  retention?: number;
  callbackUrl?: string | null;
  /** The job had an outputUrl, which now gets nothing. */
  outputFormat?: ResultFormat;
  /** Set by DELETE: the files are gone. */
  purged?: boolean;
}

/** How the attempts to deliver something (a webhook, an output) went so far. */
export interface DeliveryAttempts {
  /** Delivery attempts made (for a webhook: for its latest event). */
  attempts: number;
  /** HTTP status of the last attempt; null if it got no answer. */
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
}

/** The delivery of a job's webhook so far. */
export interface WebhookStatus extends DeliveryAttempts {
  url: string;
}

/**
 * The delivery of a job's output to its outputUrl: `waiting` until the job completes,
 * `pending` while it is being sent (and retried), then `delivered` or `failed`; `skipped`
 * when the job did not complete.
 */
export interface OutputStatus extends DeliveryAttempts {
  format: ResultFormat;
  status: 'waiting' | 'pending' | 'delivered' | 'failed' | 'skipped';
}

/** An output with no attempt made yet. */
export function unsentOutput(format: ResultFormat, status: OutputStatus['status']): OutputStatus {
  return { format, status, attempts: 0, lastStatus: null, lastError: null, lastAttemptAt: null, deliveredAt: null };
}

/** The job's result: complete, or the pages finished so far (`partial`) while it runs or after it stopped. */
export interface JobResult extends DocumentSummary {
  partial: boolean;
}

/** The v1 job resource, as GET /v1/jobs/:id returns it. */
export interface JobView {
  id: string;
  status: JobStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: { pagesTotal: number | null; pagesDone: number };
  error: ErrorBody | null;
  result: JobResult | null;
  /** When the job and its files are deleted; null until it has finished. */
  expiresAt: string | null;
  /** Seconds kept after finishing. */
  retention: number | null;
  /** 1 for the next document to start; null unless queued. */
  queuePosition: number | null;
  /** An estimate from the pages ahead and the pages per minute the workers do now; null once finished. */
  estimatedDoneAt: string | null;
  webhook: WebhookStatus | null;
  /** The delivery to outputUrl, when the job has one (the URL itself is never shown: it may carry a signature). */
  output: OutputStatus | null;
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/** When a job that ended at `endedAt` (ms since the epoch) and is kept `retention` seconds goes; null until it has ended. */
export function expiryOf(endedAt: number | null | undefined, retention: number | null | undefined): number | null {
  return endedAt && retention !== null && retention !== undefined ? endedAt + retention * 1000 : null;
}

/** The pages finished so far as a result marked partial. */
export function partialResult(pages: PageSummary[]): JobResult {
  return { pageCount: pages.length, text: pages.map((p) => p.text).join('\f'), pages, partial: true };
}

export function statusOf(job: Job, state: string): JobStatus {
  if (state === 'completed') return 'completed';
  if (state === 'failed') return decodeFailure(job.failedReason).code === 'cancelled' ? 'cancelled' : 'failed';
  if (state === 'active' || state === 'waiting-children') return 'processing';
  // Back in the wait list after its pages finished, or waiting to retry: still processing.
  return job.processedOn ? 'processing' : 'queued';
}

export function jobView(job: Job<DocumentJobData>, state: string, pagesDone: number, result: DocumentSummary | JobResult | null): JobView {
  const status = statusOf(job, state);
  const pagesTotal = job.data.pagesTotal ?? null;
  const retention = job.data.retention ?? null;
  return {
    id: job.id!,
    status,
    createdAt: iso(job.timestamp)!,
    startedAt: iso(job.data.startedAt ?? job.processedOn),
    finishedAt: iso(job.finishedOn),
    progress: { pagesTotal, pagesDone: status === 'completed' ? (pagesTotal ?? pagesDone) : pagesDone },
    error: state === 'failed' ? publicFailure(job.failedReason) : null,
    result: result && { partial: false, ...result },
    expiresAt: iso(expiryOf(job.finishedOn, retention)),
    retention,
    queuePosition: null,
    estimatedDoneAt: null,
    webhook: null,
    output: null,
  };
}

export function cancelledView(id: string, record: CancelledDocument): JobView {
  return {
    id,
    status: 'cancelled',
    createdAt: iso(record.createdAt)!,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.cancelledAt),
    progress: { pagesTotal: record.pagesTotal, pagesDone: record.pagesDone },
    error: { code: 'cancelled', message: 'The job was cancelled.' },
    result: null,
    expiresAt: iso(expiryOf(record.cancelledAt, record.retention)),
    retention: record.retention ?? null,
    queuePosition: null,
    estimatedDoneAt: null,
    webhook: null,
    output: null,
  };
}
