import { HttpStatus, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { AppConfig } from '../../config/config';
import { downloadBaseName } from '../../contract/formats';
import { ACCEPTED_MEDIA_TYPES, type InputType, sniffInput } from '../../contract/inputs';
import { JobOptionError, type JobOptionName, type JobOptions, parseJobOptions } from '../../contract/job-options';
import { jobView, type JobView, unsentOutput } from '../../contract/job-view';
import { checkOutboundUrl, OutboundUrlError } from '../../outbound/outbound-url';
import { JobEvents } from '../../queue/job-events.service';
import { StorageService } from '../../storage/storage.service';
import { ApiError } from '../errors/api-error';
import { LanguagesService } from '../languages/languages.service';
import { JobReader } from './job-reader.service';
import { type JobInput, type JobSource, JobSources } from './job-sources.service';
import { JobStore } from './job-store';
import { QueueLoad } from './queue-load.service';

// A duplicate request waits this long for the job of the request that claimed its key.
const CLAIM_WAIT_MS = 5000;

/** A job's options as the request gave them: form fields and query parameters are text, JSON may be more. */
export interface RequestOptions {
  values: Partial<Record<JobOptionName, unknown>>;
  from: 'form' | 'json';
}

export interface Submission {
  view: JobView;
  replayed: boolean;
  retryAfter: number | null;
}

/**
 * Accepting uploads: options parsed once (see contract/job-options.ts), the URLs and
 * languages checked, the file opened, Idempotency-Key and capacity honoured, the job queued.
 */
@Injectable()
export class JobSubmission {
  constructor(
    private readonly store: JobStore,
    private readonly reader: JobReader,
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly languages: LanguagesService,
    private readonly events: JobEvents,
    private readonly load: QueueLoad,
    private readonly sources: JobSources,
  ) {}

  /** `owner` is the caller's key digest: the job will be visible to that key only. */
  async create(source: JobSource, options: RequestOptions, owner: string | null, idempotencyKey?: string): Promise<Submission> {
    let input: JobInput | undefined;
    try {
      if ('file' in source && !source.file) {
        throw new ApiError(HttpStatus.BAD_REQUEST, 'file_missing', 'Send the file as a multipart/form-data part named "file".');
      }
      if (idempotencyKey !== undefined) checkIdempotencyKey(idempotencyKey);
      const data = this.parse(options);
      await this.languages.check(data.languages);
      if (data.callbackUrl) await this.checkCallback(data.callbackUrl);
      if (data.outputUrl) await this.checkUrl(data.outputUrl, 'outputUrl', 'output_url_not_allowed');
      // Options first: a URL is fetched only for a request that can succeed.
      input = await this.sources.open(source);
      const inputType = checkSignature(input);
      const fileDigest = idempotencyKey !== undefined ? await digestOf(input) : '';
      const id = randomUUID();
      if (idempotencyKey !== undefined) {
        const earlier = await this.replay(owner, idempotencyKey, { file: fileDigest, options: optionsDigest(data) }, id, data.retention);
        if (earlier) return { view: earlier, replayed: true, retryAfter: null };
      } else {
        await this.checkCapacity(owner);
      }
      try {
        const view = await this.enqueue(id, input, inputType, data, owner);
        return { view, replayed: false, retryAfter: await this.reader.pollAfter(view).catch(() => null) };
      } catch (error) {
        if (idempotencyKey !== undefined) await this.store.releaseClaim(owner, idempotencyKey, id).catch(() => undefined);
        throw error;
      }
    } finally {
      await this.sources.release(source, input);
    }
  }

  private parse({ values, from }: RequestOptions): JobOptions {
    try {
      return parseJobOptions(values, this.config, from);
    } catch (error) {
      if (error instanceof JobOptionError) throw new ApiError(HttpStatus.BAD_REQUEST, error.code, error.message);
      throw error;
    }
  }

  private async enqueue(id: string, input: JobInput, inputType: InputType, options: JobOptions, owner: string | null): Promise<JobView> {
    const uploadKey = this.storage.uploadKey(id);
    // An image is kept as it came; the worker makes the document's PDF from it (see image-pdf.ts).
    const storedKey = inputType === 'pdf' ? uploadKey : this.storage.imageUploadKey(id);
    if (input.kind === 'file') await this.storage.adopt(input.path, storedKey);
    else await this.storage.copyFromBucket(input.bucketKey, storedKey);
    try {
      const job = await this.store.add(id, {
        ...options,
        uploadKey,
        ...(inputType === 'pdf' ? {} : { input: inputType }),
        fileName: downloadBaseName(input.fileName),
        ...(owner ? { owner } : {}),
      });
      // The job is accepted now; what follows only informs, and must not undo it.
      await this.store
        .call(() => this.events.emit(id, { type: 'status', status: 'queued', pagesTotal: null, pagesDone: 0 }))
        .catch(() => undefined);
      if (owner && this.config.maxPagesInFlightPerKey) await this.store.trackInFlight(owner, id).catch(() => undefined);
      const queuePosition = await this.store.call(() => this.load.queuePosition(id)).catch(() => null);
      const output = options.outputUrl ? unsentOutput(options.outputFormat, 'waiting') : null;
      return { ...jobView(job, 'waiting', 0, null), queuePosition, output };
    } catch (error) {
      await this.storage.remove(storedKey);
      // The client hears 503 and will retry under a new id, but an add that timed out may
      // still reach Redis: take it back out once Redis answers again.
      this.store.abandon(id);
      throw error;
    }
  }

  /**
   * The job an earlier request with this Idempotency-Key made, or null once this request has
   * claimed the key (and passed the capacity checks) for job `id`.
   */
  private async replay(
    owner: string | null,
    key: string,
    { file, options }: { file: string; options: string },
    id: string,
    retention: number,
  ): Promise<JobView | null> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    for (;;) {
      const claim = await this.store.findClaim(owner, key);
      if (!claim) {
        await this.checkCapacity(owner);
        // Until the job has finished and then for its retention; a day covers the time it runs.
        if (await this.store.claim(owner, key, { jobId: id, file, options, at: Date.now() }, retention + 24 * 3600)) return null;
        continue;
      }
      if (claim.file !== file || (claim.options !== undefined && claim.options !== options)) {
        const what = claim.file !== file ? 'file' : 'file with other options';
        throw new ApiError(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'idempotency_key_reused',
          `This Idempotency-Key was used with a different ${what}; use a new key for a new upload.`,
        );
      }
      try {
        return await this.reader.find(claim.jobId, owner);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'job_not_found')) throw error;
      }
      // The request that claimed the key may still be queueing its job; or the job is gone.
      if (Date.now() - claim.at > CLAIM_WAIT_MS) {
        await this.store.releaseClaim(owner, key, claim.jobId);
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
    const load = await this.store.call(() => this.load.load());
    if (maxQueuedPages && load.pagesAhead >= maxQueuedPages) {
      throw new ApiError(
        HttpStatus.SERVICE_UNAVAILABLE,
        'queue_full',
        `${load.pagesAhead} pages are waiting (MAX_QUEUED_PAGES is ${maxQueuedPages}); try again later.`,
        QueueLoad.retryAfterFull(load),
      );
    }
    if (maxPagesInFlightPerKey && owner) {
      const inFlight = await this.store.pagesInFlight(owner);
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
}

function checkIdempotencyKey(key: string) {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_option', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
  }
}

/** Names and types lie: the bytes decide (see contract/inputs.ts). */
function checkSignature(input: JobInput): InputType {
  if (input.size === 0) throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'pdf_empty', 'The file is empty.');
  const type = sniffInput(input.head);
  if (!type) {
    throw new ApiError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'unsupported_media_type',
      `The file is neither a PDF (no "%PDF-" header) nor an image this service reads; accepted: ${ACCEPTED_MEDIA_TYPES.join(', ')}.`,
    );
  }
  return type;
}

/** The options a job runs with, for Idempotency-Key: the same key with other options is another request. */
function optionsDigest(options: JobOptions): string {
  const ordered = Object.fromEntries(Object.entries(options).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex');
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
