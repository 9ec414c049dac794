import { AsyncLocalStorage } from 'node:async_hooks';

export interface JobLogFields {
  /** The document id: the job id clients see. */
  jobId: string;
  page?: number;
}

/**
 * The job a worker is processing, added to every log line written while it runs (see the
 * logger's mixin), so the processors' existing Logger calls need no extra arguments.
 */
export const jobContext = new AsyncLocalStorage<JobLogFields>();

export const withJobContext = <T>(fields: JobLogFields, run: () => T): T => jobContext.run(fields, run);
