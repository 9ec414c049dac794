import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { AppConfig } from '../../config/config';
import { redisOf } from '../../config/redis';
import { LanguagesService } from '../languages/languages.service';
import { ApiError, jobNotFound, queueUnavailable } from '../errors/api-error';
import { CancellationService } from '../../queue/cancellation.service';
import { downloadBaseName, FORMAT_INFO, type PageFormat, RESULT_FORMATS, type ResultFormat } from '../../contract/formats';
import { PageSelectionError, parsePageSelection } from '../../contract/page-selection';
import {
  DOCUMENT_JOB,
  DocumentJobData,
  type DocumentsQueue,
  InjectDocumentsQueue,
  isDocumentId,
  OCR_MODES,
  OcrMode,
} from '../../contract/queues';
import type { DocumentSummary } from '../../contract/results';
import { withTimeout } from '../../queue/with-timeout';
import { StorageService } from '../../storage/storage.service';
import { PageImagesService } from './page-images.service';
import { cancelledView, jobView, JobView, partialResult, statusOf, unsentOutput } from '../../contract/job-view';
import { FINAL_STATUSES } from '../../contract/events';
import { JobEvents } from '../../queue/job-events.service';
import { JobWatcher } from '../events/job-watcher.service';

import { WebhooksService } from '../../webhooks/webhooks.service';
import { IdempotencyKeys } from './idempotency.service';
import { type JobInput, type JobSource, JobSources } from './job-sources.service';
import { checkOutboundUrl, OutboundUrlError } from '../../outbound/outbound-url';
import { QueueLoad } from './queue-load.service';

export interface UploadFields {
  languages?: string;
  pages?: string;
  ocr?: string;
  callbackUrl?: string;
  retention?: string;
  outputUrl?: string;
  outputFormat?: string;
}

/** A job as GET shows it, with how long a client should wait before asking again. */
export interface JobStatusReply {
  view: JobView;
  retryAfter: number | null;
}

const QUEUE_TIMEOUT_MS = 3000;
// A duplicate request waits this long for the job of the request that claimed its key.
const CLAIM_WAIT_MS = 5000;

/** A stored output and how to send it. */
export interface StoredOutput {
  key: string;
  contentType: string;
  fileName: string;
}

const notFinished = (status: string) =>
  new ApiError(HttpStatus.CONFLICT, 'job_not_finished', `The job is ${status}; a result exists only once it has completed.`);

/** "1-3, 7" for [1, 2, 3, 7]. */
function pageList(pages: number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < pages.length; i++) {
    let j = i;
    while (j + 1 < pages.length && pages[j + 1] === pages[j] + 1) j++;
    runs.push(j > i ? `${pages[i]}-${pages[j]}` : String(pages[i]));
    i = j;
  }
  return runs.join(', ') || 'none';
}

const ABANDON_RETRY_MS = 2000;
const ABANDON_ATTEMPTS = 300;

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly languages: LanguagesService,
    private readonly cancellations: CancellationService,
    private readonly images: PageImagesService,
    private readonly events: JobEvents,
    private readonly webhooks: WebhooksService,
    private readonly idempotency: IdempotencyKeys,
    private readonly load: QueueLoad,
    private readonly watcher: JobWatcher,
    private readonly sources: JobSources,
  ) {}

  /**
   * `owner` is the caller's key digest (see auth/owner.decorator.ts): jobs are visible only
   * to the key that created them, and as missing to any other; null sees every job.
   */
  async create(
    source: JobSource,
    fields: UploadFields,
    owner: string | null,
    idempotencyKey?: string,
  ): Promise<{ view: JobView; replayed: boolean; retryAfter: number | null }> {
    let input: JobInput | undefined;
    try {
      if ('file' in source && !source.file) {
        throw new ApiError(HttpStatus.BAD_REQUEST, 'file_missing', 'Send the PDF as a multipart/form-data part named "file".');
      }
      if (idempotencyKey !== undefined) IdempotencyKeys.validate(idempotencyKey);
      const data = this.validate(fields);
      await this.languages.check(data.languages);
      if (data.callbackUrl) await this.checkCallback(data.callbackUrl);
      if (data.outputUrl) await this.checkUrl(data.outputUrl, 'outputUrl', 'output_url_not_allowed');
      // Options first: a URL is fetched only for a request that can succeed.
      input = await this.sources.open(source);
      checkPdfSignature(input);
      const fileDigest = idempotencyKey !== undefined ? await digestOf(input) : '';
      const id = randomUUID();
      if (idempotencyKey !== undefined) {
        const earlier = await this.replay(owner, idempotencyKey, fileDigest, id, data.retention!);
        if (earlier) return { view: earlier, replayed: true, retryAfter: null };
      } else {
        await this.checkCapacity(owner);
      }
      try {
        const view = await this.enqueue(id, input, data, owner);
        return { view, replayed: false, retryAfter: await this.pollAfter(view).catch(() => null) };
      } catch (error) {
        if (idempotencyKey !== undefined) await this.idempotency.release(owner, idempotencyKey, id).catch(() => undefined);
        throw error;
      }
    } finally {
      await this.sources.release(source, input);
    }
  }

  private async enqueue(id: string, input: JobInput, data: Omit<DocumentJobData, 'uploadKey'>, owner: string | null) {
    const uploadKey = this.storage.uploadKey(id);
    if (input.kind === 'file') await this.storage.adopt(input.path, uploadKey);
    else await this.storage.copyFromBucket(input.bucketKey, uploadKey);
    try {
      const retention = data.retention!;
      const job = await this.queue(() =>
        this.documents.add(
          DOCUMENT_JOB,
          { ...data, uploadKey, fileName: downloadBaseName(input.fileName), ...(owner ? { owner } : {}) },
          { jobId: id, removeOnComplete: { age: retention }, removeOnFail: { age: retention } },
        ),
      );
      // The job is accepted now; what follows only informs, and must not undo it.
      await this.queue(() => this.events.emit(id, { type: 'status', status: 'queued', pagesTotal: null, pagesDone: 0 })).catch(
        () => undefined,
      );
      if (owner && this.config.maxPagesInFlightPerKey) await this.queue(() => this.trackInFlight(owner, id)).catch(() => undefined);
      const queuePosition = await this.queue(() => this.load.queuePosition(id)).catch(() => null);
      const output = data.outputUrl ? unsentOutput(data.outputFormat ?? 'pdf', 'waiting') : null;
      return { ...jobView(job, 'waiting', 0, null), queuePosition, output };
    } catch (error) {
      await this.storage.remove(uploadKey);
      // The client hears 503 and will retry under a new id, but an add that timed out may
      // still reach Redis: take it back out once Redis answers again.
      this.abandon(id);
      throw error;
    }
  }

  /**
   * The job an earlier request with this Idempotency-Key made, or null once this request has
   * claimed the key (and passed the capacity checks) for job `id`.
   */
  private async replay(owner: string | null, key: string, file: string, id: string, retention: number): Promise<JobView | null> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    for (;;) {
      const claim = await this.queue(() => this.idempotency.find(owner, key));
      if (!claim) {
        await this.checkCapacity(owner);
        // Until the job has finished and then for its retention; a day covers the time it runs.
        if (await this.queue(() => this.idempotency.claim(owner, key, { jobId: id, file, at: Date.now() }, retention + 24 * 3600))) {
          return null;
        }
        continue;
      }
      if (claim.file !== file) {
        throw new ApiError(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'idempotency_key_reused',
          'This Idempotency-Key was used with a different file; use a new key for a new upload.',
        );
      }
      try {
        return await this.find(claim.jobId, owner);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'job_not_found')) throw error;
      }
      // The request that claimed the key may still be queueing its job; or the job is gone.
      if (Date.now() - claim.at > CLAIM_WAIT_MS) {
        await this.queue(() => this.idempotency.release(owner, key, claim.jobId));
      } else if (Date.now() > deadline) {
        throw new ApiError(
          HttpStatus.CONFLICT,
          'idempotency_key_in_use',
          'A request with this Idempotency-Key is still being handled; retry.',
        );
      } else {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Back-pressure: nothing accepted is dropped, so new work is refused while too much waits. */
  private async checkCapacity(owner: string | null) {
    const { maxQueuedPages, maxPagesInFlightPerKey } = this.config;
    if (!maxQueuedPages && !(maxPagesInFlightPerKey && owner)) return;
    const load = await this.queue(() => this.load.load());
    if (maxQueuedPages && load.pagesAhead >= maxQueuedPages) {
      throw new ApiError(
        HttpStatus.SERVICE_UNAVAILABLE,
        'queue_full',
        `${load.pagesAhead} pages are waiting (MAX_QUEUED_PAGES is ${maxQueuedPages}); try again later.`,
        QueueLoad.retryAfterFull(load),
      );
    }
    if (maxPagesInFlightPerKey && owner) {
      const inFlight = await this.queue(() => this.pagesInFlight(owner));
      if (inFlight >= maxPagesInFlightPerKey) {
        throw new ApiError(
          HttpStatus.TOO_MANY_REQUESTS,
          'quota_exceeded',
          `This API key has ${inFlight} pages queued or running; the limit is ${maxPagesInFlightPerKey}. Try again when some have finished.`,
          QueueLoad.retryAfter(load, false) * Math.max(1, inFlight - maxPagesInFlightPerKey + 1),
        );
      }
    }
  }

  private inFlightKey(owner: string) {
    return `${this.config.queuePrefix}:ocr:inflight:${owner}`;
  }

  private async trackInFlight(owner: string, id: string) {
    const client = await redisOf(this.documents);
    await client.multi().sadd(this.inFlightKey(owner), id).expire(this.inFlightKey(owner), this.config.maxRetentionSeconds).exec();
  }

  /** Pages the key's unfinished jobs have still to do; a job not yet opened counts as one. */
  private async pagesInFlight(owner: string): Promise<number> {
    const client = await redisOf(this.documents);
    let pages = 0;
    for (const id of await client.smembers(this.inFlightKey(owner))) {
      const job = await this.documents.getJob(id);
      if (!job || job.finishedOn || (await this.cancellations.isCancelled(id))) {
        await client.srem(this.inFlightKey(owner), id);
        continue;
      }
      pages += job.data.pagesTotal === undefined ? 1 : job.data.pagesTotal - (await this.pagesDone(job));
    }
    return pages;
  }

  private async checkCallback(url: string) {
    if (!this.config.webhooks.secret) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'callback_url_not_allowed', 'Webhooks are off on this server (no WEBHOOK_SECRET).');
    }
    await this.checkUrl(url, 'callbackUrl', 'callback_url_not_allowed');
  }

  /** A URL the service is to reach, checked by the outbound rules; refused with `code`. */
  private async checkUrl(url: string, field: string, code: string) {
    try {
      await checkOutboundUrl(url, this.config.webhooks, field);
    } catch (error) {
      if (error instanceof OutboundUrlError) throw new ApiError(HttpStatus.BAD_REQUEST, code, error.message);
      throw error;
    }
  }

  async find(id: string, owner: string | null): Promise<JobView> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    const cancelled = await this.findCancelled(id, owner);
    if (cancelled) {
      const view = cancelledView(id, cancelled);
      const pages = cancelled.purged ? [] : await this.storage.finishedPages(id);
      return {
        ...view,
        result: pages.length ? partialResult(pages) : null,
        webhook: await this.webhookOf(id, cancelled.callbackUrl),
        output: cancelled.outputFormat
          ? await this.queue(() => this.webhooks.outputStatus(id, cancelled.outputFormat!, 'cancelled'))
          : null,
      };
    }
    // State first: a job read before its state could still lack the failedReason or
    // finishedOn that the state already implies.
    const state = await this.queue(() => this.documents.getJobState(id));
    const job = await this.getJob(id, owner);
    const running = job.data.pagesTotal !== undefined && state !== 'completed';
    // While it runs, and after it failed, the pages finished so far. A page is in storage (and
    // its event sent) a moment before BullMQ counts it: count what storage has, as events do.
    const pages = running ? await this.storage.finishedPages(id) : [];
    const pagesDone = running ? Math.max(await this.pagesDone(job), pages.length) : 0;
    const result = pages.length
      ? partialResult(pages)
      : state === 'completed'
        ? await this.storage.readJson<DocumentSummary>(this.storage.summaryKey(id))
        : null;
    const view = { ...jobView(job, state, pagesDone, result), webhook: await this.webhookOf(id, job.data.callbackUrl) };
    if (job.data.outputUrl) {
      view.output = await this.queue(() => this.webhooks.outputStatus(id, job.data.outputFormat ?? 'pdf', view.status));
    }
    if (view.status === 'queued') view.queuePosition = await this.queue(() => this.load.queuePosition(id)).catch(() => null);
    return view;
  }

  /** The job, with an estimate of when it will be done and when to ask again while it is not. */
  async status(id: string, owner: string | null): Promise<JobStatusReply> {
    const view = await this.find(id, owner);
    return { view, retryAfter: await this.pollAfter(view) };
  }

  /** Long poll: the job once it has changed after this call, or after `seconds`. */
  async waitForChange(id: string, owner: string | null, seconds: number): Promise<JobStatusReply> {
    const since = await this.queue(() => this.events.lastId(id));
    const first = await this.status(id, owner);
    if (FINAL_STATUSES.includes(first.view.status) || seconds <= 0) return first;
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline && !this.watcher.stopping) {
      const wakeup = this.watcher.next(id, Math.min(deadline - Date.now(), 5000));
      try {
        if ((await this.queue(() => this.events.read(id, since))).length) break;
        await wakeup.promise;
      } finally {
        wakeup.cancel();
      }
    }
    return this.status(id, owner);
  }

  private async pollAfter(view: JobView): Promise<number | null> {
    if (view.status !== 'queued' && view.status !== 'processing') return null;
    const load = await this.queue(() => this.load.load());
    const queued = view.status === 'queued';
    const own = view.progress.pagesTotal === null ? 1 : view.progress.pagesTotal - view.progress.pagesDone;
    const seconds = QueueLoad.secondsFor(load, (queued ? load.pagesAhead : 0) + Math.max(own, 1));
    view.estimatedDoneAt = new Date(Date.now() + seconds * 1000).toISOString();
    return QueueLoad.retryAfter(load, queued);
  }

  private async webhookOf(id: string, url: string | undefined) {
    return url ? await this.queue(() => this.webhooks.status(id, url)) : null;
  }

  /**
   * Where a finished job's output in `format` is stored, to be streamed as it is: every
   * format was written by the worker when it assembled the document.
   */
  async output(id: string, format: ResultFormat, owner: string | null): Promise<StoredOutput> {
    const job = await this.finishedJob(id, owner);
    return this.stored(job, this.storage.outputKey(id, format), format, '');
  }

  /** The same for one page of a finished job. */
  async pageOutput(id: string, page: number, format: PageFormat, owner: string | null): Promise<StoredOutput> {
    const job = await this.finishedJob(id, owner);
    this.checkPage(job, page);
    return this.stored(job, this.storage.pageOutputKey(id, page, format), format, `-p${page}`);
  }

  /** A page image, rendered by a worker the first time it is asked for, then kept with the job. */
  async pageImage(id: string, page: number, width: number, owner: string | null): Promise<StoredOutput> {
    const job = await this.finishedJob(id, owner);
    this.checkPage(job, page);
    const key = this.storage.imageKey(id, page, width);
    if (!(await this.storage.exists(key))) {
      await this.images.render({ documentId: id, uploadKey: job.data.uploadKey, page, width });
    }
    return { key, contentType: 'image/png', fileName: `${downloadBaseName(job.data.fileName)}-p${page}.png` };
  }

  private checkPage(job: Job<DocumentJobData>, page: number) {
    const pages = job.data.pageNumbers ?? [];
    if (!pages.includes(page)) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'page_not_found',
        `The job has no page ${page}; it processed ${pages.length} page${pages.length === 1 ? '' : 's'}: ${pageList(pages)}.`,
      );
    }
  }

  private async stored(job: Job<DocumentJobData>, key: string, format: ResultFormat, suffix: string): Promise<StoredOutput> {
    if (!(await this.storage.exists(key))) {
      // The JSON always exists for a completed job, until the job expires.
      if (format === 'json') throw jobNotFound(job.id!);
      throw new ApiError(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'format_unavailable',
        format === 'pdf'
          ? 'No searchable PDF could be made of this document (pdf-lib could not rewrite it, or it is encrypted); the other formats are available.'
          : `This job has no ${format} output; it finished before the service made one.`,
      );
    }
    const { mediaType, extension } = FORMAT_INFO[format];
    return {
      key,
      contentType: format === 'pdf' ? mediaType : `${mediaType}; charset=utf-8`,
      fileName: `${downloadBaseName(job.data.fileName)}${suffix}.${extension}`,
    };
  }

  /** A completed job, or why there is no result: 404 when unknown, 409 until it completes. */
  private async finishedJob(id: string, owner: string | null): Promise<Job<DocumentJobData>> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    if (await this.findCancelled(id, owner)) throw notFinished('cancelled');
    const state = await this.queue(() => this.documents.getJobState(id));
    const job = await this.getJob(id, owner);
    const status = statusOf(job, state);
    if (status !== 'completed') throw notFinished(status);
    return job;
  }

  /** Stops a queued or running job; the pages it finished stay readable until it expires. */
  async cancel(id: string, owner: string | null): Promise<JobView> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    if (await this.findCancelled(id, owner)) return this.find(id, owner);
    const state = await this.queue(() => this.documents.getJobState(id));
    const job = await this.getJob(id, owner);
    const status = statusOf(job, state);
    if (status !== 'queued' && status !== 'processing') {
      throw new ApiError(HttpStatus.CONFLICT, 'job_finished', `The job is ${status}; only a queued or processing job can be cancelled.`);
    }
    const pagesDone = job.data.pagesTotal !== undefined ? await this.pagesDone(job) : 0;
    const retention = job.data.retention ?? this.config.resultTtlSeconds;
    // Workers check this before and after every page, so work in flight stops soon.
    await this.queue(() =>
      this.cancellations.cancel(id, {
        createdAt: job.timestamp,
        startedAt: job.data.startedAt ?? job.processedOn ?? null,
        cancelledAt: Date.now(),
        pagesTotal: job.data.pagesTotal ?? null,
        pagesDone,
        owner: job.data.owner,
        pageNumbers: job.data.pageNumbers,
        retention,
        callbackUrl: job.data.callbackUrl,
        ...(job.data.outputUrl ? { outputFormat: job.data.outputFormat ?? 'pdf' } : {}),
      }),
    );
    // Removes the pages still queued. A job whose page is being processed is locked: it then
    // fails as cancelled, each remaining page dropped unread.
    await job.remove().catch(() => undefined);
    const view = await this.find(id, owner);
    const { pagesTotal } = view.progress;
    await this.queue(() =>
      this.events.emit(id, { type: 'status', status: 'cancelled', pagesTotal, pagesDone, error: view.error }, retention),
    );
    await this.queue(() => this.webhooks.enqueue(view, job.data.callbackUrl, retention));
    return view;
  }

  /** Cancels the job if it is still running and deletes its files. */
  async remove(id: string, owner: string | null): Promise<void> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    const cancelled = await this.findCancelled(id, owner);
    if (!cancelled) {
      const state = await this.queue(() => this.documents.getJobState(id));
      const job = await this.getJob(id, owner);
      const status = statusOf(job, state);
      if (status === 'queued' || status === 'processing') await this.cancel(id, owner);
      await job.remove().catch(() => undefined);
    }
    const record = await this.queue(() => this.cancellations.find(id));
    if (record && !record.purged) await this.queue(() => this.cancellations.cancel(id, { ...record, purged: true }));
    await this.storage.removeDocument(id);
  }

  /**
   * Removes a job whose add was not confirmed, once Redis answers. Commands on one
   * connection run in order, so after a remove has been answered the add can no longer
   * land. Should this process stop first, the worker finds the upload gone and ends the
   * job as cancelled without doing any work.
   */
  private abandon(id: string, attempt = 0) {
    setTimeout(() => {
      const check = async () => {
        // A worker that took the job meanwhile holds a lock; it finds no upload and cancels the job, which is then removable.
        if (await this.documents.remove(id))
          this.logger.warn(`Removed job ${id}, which reached Redis after its upload was answered with 503`);
        return (await this.documents.getJob(id)) === undefined;
      };
      check().then(
        (gone) => gone || (attempt < ABANDON_ATTEMPTS && this.abandon(id, attempt + 1)),
        () => attempt < ABANDON_ATTEMPTS && this.abandon(id, attempt + 1),
      );
    }, ABANDON_RETRY_MS).unref();
  }

  private validate(fields: UploadFields): Omit<DocumentJobData, 'uploadKey'> {
    const retention = this.retention(fields.retention);
    const callbackUrl = (fields.callbackUrl ?? '').trim() || undefined;
    const requested = (fields.languages ?? '').trim() || this.config.ocrLanguages;
    if (!/^[a-z_]{3,}(\+[a-z_]{3,})*$/.test(requested)) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'unsupported_language',
        `"${requested}" is not a list of language codes such as "eng" or "eng+fra".`,
      );
    }
    const languages = [...new Set(requested.split('+'))].join('+');
    const pages = (fields.pages ?? '').trim() || null;
    if (pages) {
      try {
        parsePageSelection(pages);
      } catch (error) {
        if (error instanceof PageSelectionError) throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_pages', error.message);
        throw error;
      }
    }
    const ocr = ((fields.ocr ?? '').trim() || 'auto') as OcrMode;
    if (!OCR_MODES.includes(ocr)) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_option', `"ocr" must be one of ${OCR_MODES.join(', ')}.`);
    }
    const outputUrl = (fields.outputUrl ?? '').trim() || undefined;
    const outputFormat = ((fields.outputFormat ?? '').trim() || undefined) as ResultFormat | undefined;
    if (outputFormat && !RESULT_FORMATS.includes(outputFormat)) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_option', `"outputFormat" must be one of ${RESULT_FORMATS.join(', ')}.`);
    }
    if (outputFormat && !outputUrl) throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_option', '"outputFormat" needs an "outputUrl".');
    return {
      languages,
      pages,
      ocr,
      retention,
      ...(callbackUrl ? { callbackUrl } : {}),
      ...(outputUrl ? { outputUrl, outputFormat: outputFormat ?? 'pdf' } : {}),
    };
  }

  private retention(raw: string | undefined): number {
    const text = (raw ?? '').trim();
    if (!text) return this.config.resultTtlSeconds;
    const max = this.config.maxRetentionSeconds;
    if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > max) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'invalid_option',
        `"retention" must be a whole number of seconds from 1 to ${max} (MAX_RETENTION_SECONDS).`,
      );
    }
    return Number(text);
  }

  private async findCancelled(id: string, owner: string | null) {
    const cancelled = await this.queue(() => this.cancellations.find(id));
    if (cancelled && owner !== null && cancelled.owner !== owner) throw jobNotFound(id);
    return cancelled;
  }

  private async getJob(id: string, owner: string | null): Promise<Job<DocumentJobData>> {
    const job = await this.queue(() => this.documents.getJob(id));
    // Another key's job answers exactly as a job that does not exist.
    if (!job || (owner !== null && job.data.owner !== owner)) throw jobNotFound(id);
    // BullMQ drops finished jobs lazily; past its retention a job is gone, and so are its files.
    const retentionMs = (job.data.retention ?? this.config.resultTtlSeconds) * 1000;
    if (job.finishedOn && job.finishedOn + retentionMs < Date.now()) {
      await job.remove().catch(() => undefined);
      await Promise.all([
        this.storage.removeDocument(id),
        this.events.remove(id).catch(() => undefined),
        this.webhooks.remove(id).catch(() => undefined),
      ]);
      throw jobNotFound(id);
    }
    return job;
  }

  private async pagesDone(job: Job): Promise<number> {
    const counts = await this.queue(() => job.getDependenciesCount({ processed: true }));
    return counts.processed ?? 0;
  }

  /** Queue calls fail fast with 503 while Redis is unreachable instead of hanging the request. */
  private async queue<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call, QUEUE_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw queueUnavailable();
    }
  }
}

/** Names and types lie: the bytes decide (see JobSources for the window searched). */
function checkPdfSignature(input: JobInput) {
  if (input.size === 0) throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'pdf_empty', 'The file is empty.');
  if (!input.head.includes('%PDF-')) {
    throw new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'unsupported_media_type', 'The file is not a PDF (no "%PDF-" header).');
  }
}

/**
 * What makes two requests "the same file" for Idempotency-Key: the bytes of a local file;
 * for an object of the bucket its ETag and size, which change when its content does.
 */
async function digestOf(input: JobInput): Promise<string> {
  if (input.kind === 'object') return `s3:${input.etag}:${input.size}`;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(input.path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
