import { HttpStatus, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { AppConfig } from '../config/config';
import { LanguagesService } from '../languages/languages.service';
import { ApiError, jobNotFound, queueUnavailable } from '../errors/api-error';
import { CancellationService } from '../queue/cancellation.service';
import { downloadBaseName, FORMAT_INFO, type PageFormat, type ResultFormat } from '../contract/formats';
import { PageSelectionError, parsePageSelection } from '../contract/page-selection';
import { DOCUMENT_JOB, DocumentJobData, type DocumentsQueue, InjectDocumentsQueue, OCR_MODES, OcrMode } from '../contract/queues';
import type { DocumentSummary } from '../contract/results';
import { withTimeout } from '../queue/with-timeout';
import { StorageService } from '../storage/storage.service';
import { PageImagesService } from './page-images.service';
import { cancelledView, jobView, JobView, statusOf } from '../contract/job-view';

export interface UploadFields {
  languages?: string;
  pages?: string;
  ocr?: string;
}

const QUEUE_TIMEOUT_MS = 3000;

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

@Injectable()
export class JobsService {
  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly languages: LanguagesService,
    private readonly cancellations: CancellationService,
    private readonly images: PageImagesService,
  ) {}

  /**
   * `owner` is the caller's key digest (see auth/owner.decorator.ts): jobs are visible only
   * to the key that created them, and as missing to any other; null sees every job.
   */
  async create(file: Express.Multer.File | undefined, fields: UploadFields, owner: string | null): Promise<JobView> {
    if (!file) throw new ApiError(HttpStatus.BAD_REQUEST, 'file_missing', 'Send the PDF as a multipart/form-data part named "file".');
    try {
      const data = this.validate(fields);
      await this.languages.check(data.languages);
      await this.checkPdfSignature(file);
      const id = randomUUID();
      const uploadKey = this.storage.uploadKey(id);
      await this.storage.adopt(file.path, uploadKey);
      try {
        const job = await this.queue(() =>
          this.documents.add(
            DOCUMENT_JOB,
            { ...data, uploadKey, fileName: downloadBaseName(file.originalname), ...(owner ? { owner } : {}) },
            { jobId: id },
          ),
        );
        return jobView(job, 'waiting', 0, null);
      } catch (error) {
        await this.storage.remove(uploadKey);
        throw error;
      }
    } finally {
      await rm(file.path, { force: true });
    }
  }

  async find(id: string, owner: string | null): Promise<JobView> {
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
    if (await this.findCancelled(id, owner)) throw notFinished('cancelled');
    const state = await this.queue(() => this.documents.getJobState(id));
    const job = await this.getJob(id, owner);
    const status = statusOf(job, state);
    if (status !== 'completed') throw notFinished(status);
    return job;
  }

  async remove(id: string, owner: string | null): Promise<void> {
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
