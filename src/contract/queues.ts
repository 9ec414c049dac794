import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import type { ResultFormat } from './formats';
import type { ImageType } from './inputs';
import type { JobOptions, OcrMode } from './job-options';

/** Queue and job names shared by the API and the worker. */
export const DOCUMENTS_QUEUE = 'documents';
export const PAGES_QUEUE = 'pages';
export const DOCUMENT_JOB = 'document';
export const PAGE_JOB = 'page';
export const IMAGES_QUEUE = 'images';
export const IMAGE_JOB = 'image';

/**
 * The only widths GET /v1/jobs/{id}/pages/{n}/image renders: a request is served at the
 * smallest that is at least as wide (scaled down by the client, never blurred up), so a page
 * has at most this many renders and stored files however many widths are asked for.
 */
export const IMAGE_WIDTHS = [256, 512, 1024, 2000] as const;
export const MAX_IMAGE_WIDTH = IMAGE_WIDTHS[IMAGE_WIDTHS.length - 1];
/** What is rendered without ?width=. */
export const DEFAULT_IMAGE_WIDTH = 1024;

/** The width an image request for `requested` pixels (1 to MAX_IMAGE_WIDTH) is served at. */
export function servedImageWidth(requested: number): number {
  return IMAGE_WIDTHS.find((width) => width >= requested) ?? MAX_IMAGE_WIDTH;
}
export const WEBHOOKS_QUEUE = 'webhooks';
export const WEBHOOK_JOB = 'webhook';
/** A finished document's output, PUT to the job's outputUrl; it goes on the webhooks queue, before the webhook. */
export const OUTPUT_JOB = 'output';

/** A document job: the options it was accepted with (see job-options.ts for jobs queued by older versions). */
export interface DocumentJobData extends JobOptions {
  /** Relative storage key of the document's PDF: the upload, or the PDF the worker makes of an uploaded image. */
  uploadKey: string;
  /** What was uploaded, when not a PDF (see contract/inputs.ts); stored under StorageService.imageUploadKey. */
  input?: ImageType;
  /** Set once the document has been inspected and its page jobs enqueued. */
  pagesTotal?: number;
  pageNumbers?: number[];
  /** When the first attempt began; BullMQ's processedOn moves with every run. */
  startedAt?: number;
  /** SHA-256 digest of the API key that created the job (never the key); absent without API_KEYS. */
  owner?: string;
  /** The upload's file name, cleaned (see downloadBaseName), for the names of its outputs. */
  fileName?: string;
}

/** What a finished document job returns; the result itself goes to storage. */
export interface DocumentJobResult {
  pageCount: number;
}

export interface PageJobData {
  documentId: string;
  uploadKey: string;
  page: number;
  /** An image job's type: the page's pixels come from the uploaded image (see PdfPoolService.processPage). */
  input?: ImageType;
  /** A list; a `+`-joined string in page jobs queued by older versions. */
  languages: string[] | string;
  ocr: OcrMode;
}

/** What a page job returns; the page's full text and words go to storage. */
export interface PageJobResult {
  page: number;
  source: 'text' | 'ocr';
}

/** A page rendered as a PNG on request; the worker writes it to storage's imageKey. */
export interface ImageJobData {
  documentId: string;
  uploadKey: string;
  page: number;
  width: number;
}

/** A final status to POST to a job's callbackUrl. */
export interface WebhookJobData {
  documentId: string;
  /** Stable across retries, so that receivers can drop duplicates. */
  eventId: string;
  event: 'completed' | 'failed' | 'cancelled';
  url: string;
  /** The job as GET /v1/jobs/:id showed it when the event happened, as JSON. */
  body: string;
  retention: number;
}

/** A completed document's output to PUT to its outputUrl; then its webhook, if it has one, is sent. */
export interface OutputJobData {
  documentId: string;
  url: string;
  format: ResultFormat;
  retention: number;
  /** The job as GET showed it on completion, as JSON: the webhook's body once the output is delivered or given up on. */
  view: string;
  callbackUrl?: string;
}

export type DocumentsQueue = Queue<DocumentJobData, DocumentJobResult, typeof DOCUMENT_JOB>;
export type PagesQueue = Queue<PageJobData, PageJobResult, typeof PAGE_JOB>;
export type ImagesQueue = Queue<ImageJobData, void, typeof IMAGE_JOB>;
export type WebhooksQueue = Queue<WebhookJobData | OutputJobData, void, typeof WEBHOOK_JOB | typeof OUTPUT_JOB>;

/** Typed injection: `@InjectDocumentsQueue() documents: DocumentsQueue`. */
export const InjectDocumentsQueue = () => InjectQueue(DOCUMENTS_QUEUE);
export const InjectPagesQueue = () => InjectQueue(PAGES_QUEUE);
export const InjectImagesQueue = () => InjectQueue(IMAGES_QUEUE);
export const InjectWebhooksQueue = () => InjectQueue(WEBHOOKS_QUEUE);

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

/** Image job id: a second request for the same image while it renders waits for the same job. */
export const imageJobId = (documentId: string, page: number, width: number) => `${documentId}.p${page}.w${width}`;

/**
 * The image in storage is the result, so a finished job goes at once; a failed one stays
 * a minute, so that asking again soon gets the same answer instead of a new attempt.
 */
export const imageJobOptions: JobsOptions = { attempts: 1, removeOnComplete: true, removeOnFail: { age: 60 } };
/** One delivery per job and event: a repeated event (a retried document) is not sent twice. */
export const webhookJobId = (documentId: string, event: WebhookJobData['event']) => `${documentId}.${event}`;

export const outputJobId = (documentId: string) => `${documentId}.output`;

export function webhookJobOptions(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 24 * 3600 },
  };
}

/**
 * Pages run in order of their index within their document (BullMQ: lower priority first,
 * first in first out within one): the first pages of a document submitted behind a large
 * one run next to the large one's, instead of after all of it.
 */
export const pagePriority = (index: number) => Math.min(index + 1, 2_097_152);

/**
 * BullMQ applies the age of a finishing job to every finished job of its queue, so a job's own
 * retention cannot go here: documents are kept for the longest retention allowed, and each
 * one's own is enforced by DocumentExpiry (queue/document-expiry.service.ts).
 */
export function documentJobOptions(attempts: number, maxRetentionSeconds: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: maxRetentionSeconds },
    removeOnFail: { age: maxRetentionSeconds },
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
