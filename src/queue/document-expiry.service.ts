import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { retentionOf } from '../contract/job-options';
import { expiryOf } from '../contract/job-view';
import { type DocumentJobData, type DocumentsQueue, InjectDocumentsQueue } from '../contract/queues';
import { StorageService } from '../storage/storage.service';
import { QueueRedis } from './queue-redis';

/** What the expiry of a job needs of it (jobs of older versions may lack `retention`). */
type ExpiringJob = { finishedOn?: number; data: Partial<Pick<DocumentJobData, 'retention'>> };

/**
 * The end of a finished job: its own `retention` after it finished, and nothing else.
 * BullMQ applies the age a finishing job carries to every finished job of the queue, so
 * documents are queued with the longest retention allowed and each one's own is enforced
 * here, by the API when the job is read and by the worker's sweeper.
 */
@Injectable()
export class DocumentExpiry {
  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly redis: QueueRedis,
  ) {}

  /** When the job's results go (ms since the epoch), or null while it has not finished. */
  expiresAt(job: ExpiringJob): number | null {
    return expiryOf(job.finishedOn, retentionOf(job.data, this.config));
  }

  isExpired(job: ExpiringJob, now = Date.now()): boolean {
    const at = this.expiresAt(job);
    return at !== null && at <= now;
  }

  /** Removes the job, its files, its events and its delivery records. */
  async expire(documentId: string) {
    await this.documents.remove(documentId).catch(() => undefined);
    await Promise.all([
      this.storage.removeDocument(documentId),
      this.redis
        .client()
        .then((client) => client.del(...this.redis.keys.ofDocument(documentId)))
        .catch(() => undefined),
    ]);
  }
}
