import type { Job } from 'bullmq';
import { decodeFailure, ErrorBody, publicFailure } from './failures';
import type { DocumentJobData } from './queues';
import type { DocumentSummary } from './results';

export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

/** What Redis keeps of a cancelled document, whose job may already be gone. */
export interface CancelledDocument {
  createdAt: number;
  startedAt: number | null;
  cancelledAt: number;
  pagesTotal: number | null;
  pagesDone: number;
  owner?: string;
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
  result: DocumentSummary | null;
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

export function statusOf(job: Job, state: string): JobStatus {
  if (state === 'completed') return 'completed';
  if (state === 'failed') return decodeFailure(job.failedReason).code === 'cancelled' ? 'cancelled' : 'failed';
  if (state === 'active' || state === 'waiting-children') return 'processing';
  // Back in the wait list after its pages finished, or waiting to retry: still processing.
  return job.processedOn ? 'processing' : 'queued';
}

export function jobView(job: Job<DocumentJobData>, state: string, pagesDone: number, result: DocumentSummary | null): JobView {
  const status = statusOf(job, state);
  const pagesTotal = job.data.pagesTotal ?? null;
  return {
    id: job.id!,
    status,
    createdAt: iso(job.timestamp)!,
    startedAt: iso(job.data.startedAt ?? job.processedOn),
    finishedAt: iso(job.finishedOn),
    progress: { pagesTotal, pagesDone: status === 'completed' ? (pagesTotal ?? pagesDone) : pagesDone },
    error: state === 'failed' ? publicFailure(job.failedReason) : null,
    result,
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
  };
}
