import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { AppConfig } from '../config/config';
import { ApiError, jobNotFound, queueUnavailable } from '../errors/api-error';
import { LanguageCatalog } from '../worker/ocr/language-catalog';
import { CancellationService } from '../queue/cancellation.service';
import { PageSelectionError, parsePageSelection } from '../contract/page-selection';
import {
  DOCUMENT_JOB,
  DocumentJobData,
  type DocumentsQueue,
  InjectDocumentsQueue,
  isDocumentId,
  OCR_MODES,
  OcrMode,
} from '../contract/queues';
import type { DocumentSummary } from '../contract/results';
import { withTimeout } from '../queue/with-timeout';
import { StorageService } from '../storage/storage.service';
import { cancelledView, jobView, JobView, statusOf } from '../contract/job-view';

export interface UploadFields {
  languages?: string;
  pages?: string;
  ocr?: string;
}

const QUEUE_TIMEOUT_MS = 3000;
const ABANDON_RETRY_MS = 2000;
const ABANDON_ATTEMPTS = 300;

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly languages: LanguageCatalog,
    private readonly cancellations: CancellationService,
  ) {}

  /**
   * `owner` is the caller's key digest (see auth/owner.decorator.ts): jobs are visible only
   * to the key that created them, and as missing to any other; null sees every job.
   */
  async create(file: Express.Multer.File | undefined, fields: UploadFields, owner: string | null): Promise<JobView> {
    if (!file) throw new ApiError(HttpStatus.BAD_REQUEST, 'file_missing', 'Send the PDF as a multipart/form-data part named "file".');
    try {
      const data = this.validate(fields);
      await this.checkPdfSignature(file);
      const id = randomUUID();
      const uploadKey = this.storage.uploadKey(id);
      await this.storage.adopt(file.path, uploadKey);
      try {
        const job = await this.queue(() =>
          this.documents.add(DOCUMENT_JOB, { ...data, uploadKey, ...(owner ? { owner } : {}) }, { jobId: id }),
        );
        return jobView(job, 'waiting', 0, null);
      } catch (error) {
        await this.storage.remove(uploadKey);
        // The client hears 503 and will retry under a new id, but an add that timed out may
        // still reach Redis: take it back out once Redis answers again.
        this.abandon(id);
        throw error;
      }
    } finally {
      await rm(file.path, { force: true });
    }
  }

  async find(id: string, owner: string | null): Promise<JobView> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    const cancelled = await this.findCancelled(id, owner);
    if (cancelled) return cancelledView(id, cancelled);
    // State first: a job read before its state could still lack the failedReason or
    // finishedOn that the state already implies.
    const state = await this.queue(() => this.documents.getJobState(id));
    const job = await this.getJob(id, owner);
    const pagesDone = job.data.pagesTotal !== undefined && state !== 'completed' ? await this.pagesDone(job) : 0;
    const result = state === 'completed' ? await this.storage.readJson<DocumentSummary>(this.storage.summaryKey(id)) : null;
    return jobView(job, state, pagesDone, result);
  }

  /** The full result (every line and word) as stored JSON, or its plain text. */
  async result(id: string, format: 'json' | 'txt', owner: string | null): Promise<string> {
    const view = await this.find(id, owner);
    if (view.status !== 'completed') {
      throw new ApiError(HttpStatus.CONFLICT, 'job_not_finished', `The job is ${view.status}; a result exists only once it has completed.`);
    }
    if (format === 'txt') return view.result?.text ?? '';
    try {
      return await this.storage.readText(this.storage.resultKey(id));
    } catch {
      throw jobNotFound(id);
    }
  }

  async remove(id: string, owner: string | null): Promise<void> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    if (await this.findCancelled(id, owner)) return;
    const state = await this.queue(() => this.documents.getJobState(id));
    const job = await this.getJob(id, owner);
    const status = statusOf(job, state);
    if (status === 'queued' || status === 'processing') {
      const pagesDone = job.data.pagesTotal !== undefined ? await this.pagesDone(job) : 0;
      // Workers check this before and after every page, so work in flight stops soon.
      await this.queue(() =>
        this.cancellations.cancel(id, {
          createdAt: job.timestamp,
          startedAt: job.data.startedAt ?? job.processedOn ?? null,
          cancelledAt: Date.now(),
          pagesTotal: job.data.pagesTotal ?? null,
          pagesDone,
          owner: job.data.owner,
        }),
      );
    }
    // A job whose page is being processed is locked; it then fails as cancelled and expires.
    await job.remove().catch(() => undefined);
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
    const requested = (fields.languages ?? '').trim() || this.config.ocrLanguages;
    if (!/^[a-z_]{3,}(\+[a-z_]{3,})*$/.test(requested)) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'unsupported_language',
        `"${requested}" is not a list of language codes such as "eng" or "eng+fra".`,
      );
    }
    const languages = [...new Set(requested.split('+'))].join('+');
    const missing = this.languages.missing(languages);
    if (missing.length) {
      const installed = [...this.languages.models.keys()].sort().join(', ');
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'unsupported_language',
        `No OCR model for ${missing.join(', ')}. Installed: ${installed}.`,
      );
    }
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
    return { languages, pages, ocr };
  }

  /** PDF readers accept "%PDF-" anywhere in the first 1024 bytes; so do we. Names and types lie. */
  private async checkPdfSignature(file: Express.Multer.File) {
    if (file.size === 0) throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'pdf_empty', 'The uploaded file is empty.');
    const handle = await open(file.path, 'r');
    try {
      const head = Buffer.alloc(1024);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      if (!head.subarray(0, bytesRead).includes('%PDF-')) {
        throw new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'unsupported_media_type', 'The file is not a PDF (no "%PDF-" header).');
      }
    } finally {
      await handle.close();
    }
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
    // BullMQ drops finished jobs lazily; past the TTL a job is gone as far as clients can tell.
    if (job.finishedOn && job.finishedOn + this.config.resultTtlSeconds * 1000 < Date.now()) throw jobNotFound(id);
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
