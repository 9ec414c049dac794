import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';

/** Queue and job names shared by the API and the worker. */
export const DOCUMENTS_QUEUE = 'documents';
export const PAGES_QUEUE = 'pages';
export const DOCUMENT_JOB = 'document';
export const PAGE_JOB = 'page';

export const OCR_MODES = ['auto', 'always', 'never'] as const;
export type OcrMode = (typeof OCR_MODES)[number];

export interface DocumentJobData {
  /** Relative storage key of the uploaded PDF. */
  uploadKey: string;
  languages: string;
  /** Page selection as the client sent it ("1-3,7"), or null for all pages. */
  pages: string | null;
  ocr: OcrMode;
  /** Set once the document has been inspected and its page jobs enqueued. */
  pagesTotal?: number;
  pageNumbers?: number[];
  /** When the first attempt began; BullMQ's processedOn moves with every run. */
  startedAt?: number;
  /** SHA-256 digest of the API key that created the job (never the key); absent without API_KEYS. */
  owner?: string;
}

/** What a finished document job returns; the result itself goes to storage. */
export interface DocumentJobResult {
  pageCount: number;
}

export interface PageJobData {
  documentId: string;
  uploadKey: string;
  page: number;
  languages: string;
  ocr: OcrMode;
}

/** What a page job returns; the page's full text and words go to storage. */
export interface PageJobResult {
  page: number;
  source: 'text' | 'ocr';
}

export type DocumentsQueue = Queue<DocumentJobData, DocumentJobResult, typeof DOCUMENT_JOB>;
export type PagesQueue = Queue<PageJobData, PageJobResult, typeof PAGE_JOB>;

/** Typed injection: `@InjectDocumentsQueue() documents: DocumentsQueue`. */
export const InjectDocumentsQueue = () => InjectQueue(DOCUMENTS_QUEUE);
export const InjectPagesQueue = () => InjectQueue(PAGES_QUEUE);

/**
 * Options of both queues' workers. BullMQ keeps per-minute completed and failed counts in
 * Redis (a week of them), which the API's /metrics reports for all workers together.
 *
 * A worker that dies (killed for memory, a lost host) leaves its jobs locked: another worker
 * takes them once the lock has expired (lockDuration, renewed every half of it while the job
 * runs; the main thread is always free to renew) and the stalled check has run. BullMQ's
 * default maxStalledCount of 1 fails a job the second time a worker dies under it, whoever's
 * fault that was; 2 lets a page outlive two crashed workers, and still ends a page that
 * would take down every worker it meets.
 */
export const workerOptions = {
  metrics: { maxDataPoints: 7 * 24 * 60 },
  lockDuration: 15_000,
  stalledInterval: 10_000,
  maxStalledCount: 2,
};

/**
 * Document ids are the UUIDs the API makes. Anything else is refused before Redis is asked:
 * BullMQ reads any hash under the queue's prefix as a job, its own "meta" hash included.
 */
const DOCUMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isDocumentId = (id: unknown): id is string => typeof id === 'string' && DOCUMENT_ID.test(id);

/** Page job id: deterministic so a retried inspection does not enqueue a page twice. */
export const pageJobId = (documentId: string, page: number) => `${documentId}.p${page}`;

export function documentJobOptions(attempts: number, ttlSeconds: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: ttlSeconds },
    removeOnFail: { age: ttlSeconds },
  };
}

export function pageJobOptions(attempts: number, ttlSeconds: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 1000 },
    // The parent keeps each child's return value, so a finished page job is not needed.
    removeOnComplete: true,
    removeOnFail: { age: ttlSeconds },
    // A failed page wakes the document job, which fails the document with the page's error.
    continueParentOnFailure: true,
  };
}
