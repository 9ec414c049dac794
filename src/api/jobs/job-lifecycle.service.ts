import { HttpStatus, Injectable } from '@nestjs/common';
import { statusOf, type JobView } from '../../contract/job-view';
import { isDocumentId } from '../../contract/queues';
import { JobEvents } from '../../queue/job-events.service';
import { StorageService } from '../../storage/storage.service';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { ApiError, jobNotFound } from '../errors/api-error';
import { JobReader } from './job-reader.service';
import { JobStore } from './job-store';

/** Ending jobs on request: cancel (the finished pages stay until the job expires) and delete. */
@Injectable()
export class JobLifecycle {
  constructor(
    private readonly store: JobStore,
    private readonly reader: JobReader,
    private readonly storage: StorageService,
    private readonly events: JobEvents,
    private readonly webhooks: WebhooksService,
  ) {}

  /** Stops a queued or running job; the pages it finished stay readable until it expires. */
  async cancel(id: string, owner: string | null): Promise<JobView> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    if (await this.store.cancelled(id, owner)) return this.reader.find(id, owner);
    const state = await this.store.state(id);
    const job = await this.store.get(id, owner);
    const status = statusOf(job, state);
    if (status !== 'queued' && status !== 'processing') {
      throw new ApiError(HttpStatus.CONFLICT, 'job_finished', `The job is ${status}; only a queued or processing job can be cancelled.`);
    }
    const pagesDone = job.data.pagesTotal !== undefined ? await this.store.pagesDone(job) : 0;
    const { retention, callbackUrl, outputUrl, outputFormat } = job.data;
    // Workers check this before and after every page, so work in flight stops soon.
    await this.store.cancel(id, {
      createdAt: job.timestamp,
      startedAt: job.data.startedAt ?? job.processedOn ?? null,
      cancelledAt: Date.now(),
      pagesTotal: job.data.pagesTotal ?? null,
      pagesDone,
      owner: job.data.owner,
      fileName: job.data.fileName,
      pageNumbers: job.data.pageNumbers,
      retention,
      ...(callbackUrl ? { callbackUrl } : {}),
      ...(outputUrl ? { outputFormat } : {}),
    });
    this.reader.changed(id);
    // Removes the pages still queued. A job whose page is being processed is locked: it then
    // fails as cancelled, each remaining page dropped unread.
    await this.store.remove(job);
    const view = await this.reader.find(id, owner);
    const { pagesTotal } = view.progress;
    await this.store.call(() =>
      this.events.emit(id, { type: 'status', status: 'cancelled', pagesTotal, pagesDone, error: view.error }, retention),
    );
    await this.store.call(() => this.webhooks.enqueue(view, callbackUrl, retention));
    return view;
  }

  /** Cancels the job if it is still running and deletes its files. */
  async remove(id: string, owner: string | null): Promise<void> {
    if (!isDocumentId(id)) throw jobNotFound(id);
    if (!(await this.store.cancelled(id, owner))) {
      const state = await this.store.state(id);
      const job = await this.store.get(id, owner);
      const status = statusOf(job, state);
      if (status === 'queued' || status === 'processing') await this.cancel(id, owner);
      await this.store.remove(job);
    }
    const record = await this.store.cancelled(id, null);
    if (record && !record.purged) await this.store.cancel(id, { ...record, purged: true });
    this.reader.changed(id);
    await this.storage.removeDocument(id);
  }
}
