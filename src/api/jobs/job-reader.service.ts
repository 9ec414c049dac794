import { HttpStatus, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { downloadBaseName, FORMAT_INFO, type PageFormat, type ResultFormat } from '../../contract/formats';
import { FINAL_STATUSES, type JobEvent } from '../../contract/events';
import { type CancelledDocument, cancelledView, jobView, type JobView, partialResult, statusOf } from '../../contract/job-view';
import { type DocumentJobData, isDocumentId } from '../../contract/queues';
import type { DocumentSummary, PageResult, PageSummary } from '../../contract/results';
import { JobEvents } from '../../queue/job-events.service';
import { StorageService } from '../../storage/storage.service';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { ApiError, jobNotFound } from '../errors/api-error';
import { JobWatcher } from '../events/job-watcher.service';
import { JobStore } from './job-store';
import { PageImagesService } from './page-images.service';
import { QueueLoad } from './queue-load.service';
import { SharedViews } from './shared-views';

/** A job as GET shows it, with how long a client should wait before asking again. */
export interface JobStatusReply {
  view: JobView;
  retryAfter: number | null;
  /** The view as JSON, serialised once for every poll that shares it. */
  json: string;
}

/** What a long poll waits for: any change of the job, or its end. */
export const WAIT_UNTIL = ['change', 'final'] as const;
export type WaitUntil = (typeof WAIT_UNTIL)[number];

const isFinalEvent = (event: JobEvent) => event.type === 'status' && FINAL_STATUSES.includes(event.status);

/** A stored output and how to send it. */
export interface StoredOutput {
  key: string;
  contentType: string;
  fileName: string;
}

/** An output made on request, from the pages a cancelled job finished. */
export interface MadeOutput {
  body: Buffer;
  contentType: string;
  fileName: string;
  /** Only the pages finished before the job was cancelled. */
  partial: boolean;
}

// Running jobs whose finished pages this process keeps a copy of (see pagesSoFar).
const RECENT_JOBS = 256;

/** The formats made from a cancelled job's finished pages; the others are made only when a job completes. */
const CANCELLED_FORMATS: readonly ResultFormat[] = ['json', 'txt'];

const notFinished = (status: string, why = 'a result exists only once it has completed') =>
  new ApiError(HttpStatus.CONFLICT, 'job_not_finished', `The job is ${status}; ${why}.`);

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

/**
 * Reading jobs: their view (status, progress, the pages finished so far), long polls, and the
 * stored outputs of finished ones. `owner` is the caller's key digest (see
 * auth/owner.decorator.ts): jobs are visible only to the key that created them; null sees all.
 */
@Injectable()
export class JobReader {
  /** The finished pages of the running jobs polled lately, by job id, most recent last. */
  private readonly recentPages = new Map<string, PageSummary[]>();
  private readonly views = new SharedViews<{ reply: JobStatusReply; owner: string | undefined }>();
  private listening = false;

  constructor(
    private readonly store: JobStore,
    private readonly storage: StorageService,
    private readonly images: PageImagesService,
    private readonly events: JobEvents,
    private readonly webhooks: WebhooksService,
    private readonly load: QueueLoad,
    private readonly watcher: JobWatcher,
  ) {}

  async find(id: string, owner: string | null): Promise<JobView> {
    return this.visible(id, await this.build(id), owner).view;
  }

  /** The job's view, built for every caller alike, with the owner who may see it. */
  private async build(id: string): Promise<{ view: JobView; owner: string | undefined }> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    const cancelled = await this.store.cancelled(id, null);
    if (cancelled) {
      const view = cancelledView(id, cancelled);
      const pages = cancelled.purged ? [] : await this.storage.finishedPages(id);
      const { outputFormat } = cancelled;
      return {
        view: {
          ...view,
          result: pages.length ? partialResult(pages) : null,
          webhook: await this.webhookOf(id, cancelled.callbackUrl),
          output: outputFormat ? await this.store.call(() => this.webhooks.outputStatus(id, outputFormat, 'cancelled')) : null,
        },
        owner: cancelled.owner,
      };
    }
    // State first: a job read before its state could still lack the failedReason or
    // finishedOn that the state already implies.
    const state = await this.store.state(id);
    const job = await this.store.get(id, null);
    const running = job.data.pagesTotal !== undefined && state !== 'completed';
    // While it runs, and after it failed, the pages finished so far. A page is recorded (and
    // its event sent) a moment before BullMQ counts it: count what is recorded, as events do.
    const counted = running ? await this.store.pagesDone(job) : 0;
    const pages = running ? await this.pagesSoFar(id, counted) : [];
    const pagesDone = Math.max(counted, pages.length);
    const result = pages.length
      ? partialResult(pages)
      : state === 'completed'
        ? await this.storage.readJson<DocumentSummary>(this.storage.summaryKey(id))
        : null;
    const view = { ...jobView(job, state, pagesDone, result), webhook: await this.webhookOf(id, job.data.callbackUrl) };
    if (job.data.outputUrl) {
      view.output = await this.store.call(() => this.webhooks.outputStatus(id, job.data.outputFormat, view.status));
    }
    if (view.status === 'queued') view.queuePosition = await this.store.call(() => this.load.queuePosition(id)).catch(() => null);
    return { view, owner: job.data.owner };
  }

  /** Another key's job answers exactly as a job that does not exist. */
  private visible<T extends { owner: string | undefined }>(id: string, built: T, owner: string | null): T {
    if (owner !== null && built.owner !== owner) throw jobNotFound(id);
    return built;
  }

  /**
   * From Redis, where each page's summary is recorded as it finishes: polling a running job
   * costs one read, however many pages it has. From storage only when Redis holds fewer than
   * BullMQ counted (a page finished by an older worker, or the document assembled a moment ago).
   */
  private async pagesSoFar(id: string, counted: number): Promise<PageSummary[]> {
    // A job's pages are only ever added: while Redis holds as many as the copy, the copy is
    // theirs, and 200 polls a second of a 28-page job read a count instead of 40 KB each.
    const count = await this.store.call(() => this.events.finishedCount(id));
    let recorded = this.recentPages.get(id);
    if (recorded?.length !== count) recorded = await this.store.call(() => this.events.finishedPages(id));
    this.recentPages.delete(id);
    this.recentPages.set(id, recorded);
    if (this.recentPages.size > RECENT_JOBS) this.recentPages.delete(this.recentPages.keys().next().value!);
    return recorded.length >= counted ? recorded : this.storage.finishedPages(id);
  }

  /** The job, with an estimate of when it will be done and when to ask again while it is not. */
  async status(id: string, owner: string | null): Promise<JobStatusReply> {
    if (!this.listening) {
      this.watcher.onChange((changed) => this.views.changed(changed));
      this.listening = true;
    }
    const build = async () => {
      const { view, owner: jobOwner } = await this.build(id);
      const retryAfter = await this.pollAfter(view);
      return { reply: { view, retryAfter, json: JSON.stringify(view) }, owner: jobOwner };
    };
    // Only a queued or running job's view is shared: a finished one's deliveries move without events.
    const running = ({ reply }: { reply: JobStatusReply }) => reply.retryAfter !== null;
    // While Redis is away the poll is answered 503 as any other request, not from what was shared before.
    if (!this.store.connected()) {
      this.views.clear();
      return this.visible(id, await build(), owner).reply;
    }
    return this.visible(id, await this.views.get(id, build, running), owner).reply;
  }

  /** A change made here (a cancel) is seen by the next poll without waiting for its event to come back. */
  changed(id: string) {
    this.views.changed(id);
  }

  /**
   * Long poll: the job once it has changed after this call (`until: 'change'`), or once it has
   * ended (`until: 'final'`), or after `seconds` as it is then.
   */
  async waitFor(id: string, owner: string | null, seconds: number, until: WaitUntil): Promise<JobStatusReply> {
    const since = await this.store.call(() => this.events.lastId(id));
    const first = await this.status(id, owner);
    if (FINAL_STATUSES.includes(first.view.status) || seconds <= 0) return first;
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline && !this.watcher.stopping) {
      const wakeup = this.watcher.next(id, Math.min(deadline - Date.now(), 5000));
      try {
        const events = await this.store.call(() => this.events.read(id, since));
        if (until === 'change' ? events.length : events.some(({ event }) => isFinalEvent(event))) break;
        await wakeup.promise;
      } finally {
        wakeup.cancel();
      }
    }
    return this.status(id, owner);
  }

  /** Sets the view's estimatedDoneAt; the seconds to wait before polling again, or null once it is final. */
  async pollAfter(view: JobView): Promise<number | null> {
    if (view.status !== 'queued' && view.status !== 'processing') return null;
    const load = await this.store.call(() => this.load.recent());
    const queued = view.status === 'queued';
    const own = view.progress.pagesTotal === null ? 1 : view.progress.pagesTotal - view.progress.pagesDone;
    const seconds = QueueLoad.secondsFor(load, (queued ? load.pagesAhead : 0) + Math.max(own, 1));
    view.estimatedDoneAt = new Date(Date.now() + seconds * 1000).toISOString();
    return QueueLoad.retryAfter(load, queued);
  }

  private async webhookOf(id: string, url: string | null | undefined) {
    return url ? await this.store.call(() => this.webhooks.status(id, url)) : null;
  }

  /**
   * Where a completed job's output in `format` is stored, to be streamed as it is: every
   * format was written by the worker when it assembled the document. A cancelled job's is made
   * here from the pages it finished.
   */
  async output(id: string, format: ResultFormat, owner: string | null): Promise<StoredOutput | MadeOutput> {
    const ended = await this.endedJob(id, owner);
    if ('cancelled' in ended) return this.cancelledOutput(id, ended.cancelled, format);
    return this.stored(ended.job, this.storage.outputKey(id, format), format, '');
  }

  /** The same for one page of a completed job, or a page a cancelled job finished. */
  async pageOutput(id: string, page: number, format: PageFormat, owner: string | null): Promise<StoredOutput | MadeOutput> {
    const ended = await this.endedJob(id, owner);
    if ('cancelled' in ended) return this.cancelledPage(id, ended.cancelled, page, format);
    this.checkPage(ended.job.data.pageNumbers, page);
    return this.stored(ended.job, this.storage.pageOutputKey(id, page, format), format, `-p${page}`);
  }

  /** A page image, rendered by a worker the first time it is asked for, then kept with the job. */
  async pageImage(id: string, page: number, width: number, owner: string | null): Promise<StoredOutput> {
    const job = await this.completedJob(id, owner);
    this.checkPage(job.data.pageNumbers, page);
    const key = this.storage.imageKey(id, page, width);
    if (!(await this.storage.exists(key))) {
      await this.images.render({ documentId: id, uploadKey: job.data.uploadKey, page, width });
    }
    return { key, contentType: 'image/png', fileName: `${downloadBaseName(job.data.fileName)}-p${page}.png` };
  }

  private checkPage(pageNumbers: number[] | undefined, page: number) {
    const pages = pageNumbers ?? [];
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

  /**
   * The pages a cancelled job finished, as one document marked partial (made on each request:
   * a page in flight at the cancel may still land), in the formats that need no worker.
   */
  private async cancelledOutput(id: string, record: CancelledDocument, format: ResultFormat): Promise<MadeOutput> {
    this.checkCancelledFormat(format);
    const pages = await this.cancelledPages(id, record);
    if (!pages.length) throw notFinished('cancelled', 'it was cancelled before any page finished');
    const text = pages.map((p) => p.text).join('\f');
    const body = format === 'json' ? JSON.stringify({ pageCount: pages.length, text, pages, partial: true }) : text;
    return this.made(record, format, '', body, true);
  }

  private async cancelledPage(id: string, record: CancelledDocument, page: number, format: PageFormat): Promise<MadeOutput> {
    this.checkPage(record.pageNumbers, page);
    this.checkCancelledFormat(format);
    const result = record.purged ? null : await this.storage.finishedPage(id, page);
    if (!result) {
      const done = (await this.cancelledPages(id, record)).map((p) => p.page);
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'page_not_found',
        `Page ${page} was not finished before the job was cancelled; its finished pages: ${pageList(done)}.`,
      );
    }
    return this.made(record, format, `-p${page}`, format === 'json' ? JSON.stringify(result) : result.text, false);
  }

  private checkCancelledFormat(format: ResultFormat) {
    if (!CANCELLED_FORMATS.includes(format)) {
      throw new ApiError(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'format_unavailable',
        `The job was cancelled: its finished pages are available as ${CANCELLED_FORMATS.join(' and ')}, not ${format}, which is made only when a job completes.`,
      );
    }
  }

  private async cancelledPages(id: string, record: CancelledDocument): Promise<PageResult[]> {
    if (record.purged) return [];
    const pages: PageResult[] = [];
    for (const { page } of await this.storage.finishedPages(id)) {
      const result = await this.storage.finishedPage(id, page);
      if (result) pages.push(result);
    }
    return pages;
  }

  private made(record: CancelledDocument, format: ResultFormat, suffix: string, body: string, partial: boolean): MadeOutput {
    const { mediaType, extension } = FORMAT_INFO[format];
    return {
      body: Buffer.from(body, 'utf8'),
      contentType: `${mediaType}; charset=utf-8`,
      fileName: `${downloadBaseName(record.fileName)}${suffix}.${extension}`,
      partial,
    };
  }

  /** A completed job, or a cancelled one's record; else why there is no result: 404 when unknown, 409 while it runs or after it failed. */
  private async endedJob(id: string, owner: string | null): Promise<{ job: Job<DocumentJobData> } | { cancelled: CancelledDocument }> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    const cancelled = await this.store.cancelled(id, owner);
    if (cancelled) return { cancelled };
    const state = await this.store.state(id);
    const job = await this.store.get(id, owner);
    const status = statusOf(job, state);
    if (status !== 'completed') throw notFinished(status);
    return { job };
  }

  private async completedJob(id: string, owner: string | null): Promise<Job<DocumentJobData>> {
    const ended = await this.endedJob(id, owner);
    if ('cancelled' in ended) throw notFinished('cancelled');
    return ended.job;
  }
}
