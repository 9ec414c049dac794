import type { ErrorBody } from './failures';
import type { JobStatus } from './job-view';

/**
 * What happens to a job, as Server-Sent Events show it. API and workers append these to a
 * Redis stream per job and publish the job id on one channel, so that any API replica can
 * wake the clients that watch the job and replay what they missed (Last-Event-ID).
 */
export type JobEvent =
  | { type: 'status'; status: JobStatus; pagesTotal?: number | null; pagesDone?: number; error?: ErrorBody | null }
  | { type: 'page'; page: number; source: 'text' | 'ocr' };

export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
