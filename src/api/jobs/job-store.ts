import { Injectable, Logger } from '@nestjs/common';
import type { Job, JobState } from 'bullmq';
import { AppConfig } from '../../config/config';
import type { CancelledDocument } from '../../contract/job-view';
import { queuedOptions } from '../../contract/job-options';
import { DOCUMENT_JOB, type DocumentJobData, type DocumentsQueue, InjectDocumentsQueue } from '../../contract/queues';
import { CancellationService } from '../../queue/cancellation.service';
import { DocumentExpiry } from '../../queue/document-expiry.service';
import { QueueRedis } from '../../queue/queue-redis';
import { withTimeout } from '../../queue/with-timeout';
import { ApiError, jobNotFound, queueUnavailable } from '../errors/api-error';

const QUEUE_TIMEOUT_MS = 3000;
const ABANDON_RETRY_MS = 2000;
const ABANDON_ATTEMPTS = 300;

/** An Idempotency-Key's claim: the first request with a key owns it for its job. */
export interface Claim {
  jobId: string;
  /** SHA-256 of the uploaded file, hex (see digestOf in job-submission.service.ts). */
  file: string;
  /** SHA-256 of the job's options; absent in claims made before it was kept. */
  options?: string;
  at: number;
}

/**
 * What the API keeps in Redis, and the only part of it that knows how: the documents queue
 * (BullMQ), its own records (on QueueRedis, which names their keys), and the rule that a call
 * Redis does not answer within 3 s is a 503 instead of a hung request.
 */
@Injectable()
export class JobStore {
  private readonly logger = new Logger(JobStore.name);

  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
    private readonly cancellations: CancellationService,
    private readonly expiry: DocumentExpiry,
    private readonly redis: QueueRedis,
  ) {}

  /** Runs a Redis call, failing fast with 503 while Redis is unreachable. */
  async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(work, QUEUE_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw queueUnavailable();
    }
  }

  /** Whether the connection to Redis is up now (no round trip): a poll answered from memory must not hide that Redis is gone. */
  connected(): boolean {
    return this.redis.connected();
  }

  async add(id: string, data: DocumentJobData): Promise<Job<DocumentJobData>> {
    // Kept by BullMQ for the longest retention allowed (documentJobOptions); each job's own ends it (DocumentExpiry).
    return this.call(() => this.documents.add(DOCUMENT_JOB, data, { jobId: id }));
  }

  state(id: string): Promise<JobState | 'unknown'> {
    return this.call(() => this.documents.getJobState(id));
  }

  /**
   * The job as `owner` sees it (null sees every job), its options in today's shape. Another
   * key's job answers exactly as a job that does not exist, and so does one past its retention,
   * which is removed with its files on the way.
   */
  async get(id: string, owner: string | null): Promise<Job<DocumentJobData>> {
    const job = await this.call(() => this.documents.getJob(id));
    if (!job || (owner !== null && job.data.owner !== owner)) throw jobNotFound(id);
    if (this.expiry.isExpired(job)) {
      await this.expiry.expire(id);
      throw jobNotFound(id);
    }
    job.data = queuedOptions(job.data, this.config);
    return job;
  }

  /** The record of a cancelled job, or null; another key's answers as a missing job. */
  async cancelled(id: string, owner: string | null): Promise<CancelledDocument | null> {
    const record = await this.call(() => this.cancellations.find(id));
    if (record && owner !== null && record.owner !== owner) throw jobNotFound(id);
    return record;
  }

  async cancel(id: string, record: CancelledDocument) {
    await this.call(() => this.cancellations.cancel(id, record));
  }

  /** Pages of the job that BullMQ counts as processed. */
  async pagesDone(job: Job): Promise<number> {
    const counts = await this.call(() => job.getDependenciesCount({ processed: true }));
    return counts.processed ?? 0;
  }

  async remove(job: Job) {
    await job.remove().catch(() => undefined);
  }

  /**
   * Removes a job whose add was not confirmed, once Redis answers. Commands on one
   * connection run in order, so after a remove has been answered the add can no longer
   * land. Should this process stop first, the worker finds the upload gone and ends the
   * job as cancelled without doing any work.
   */
  abandon(id: string, attempt = 0) {
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

  /** Remembers an unfinished job of `owner`, for MAX_PAGES_IN_FLIGHT_PER_KEY. */
  async trackInFlight(owner: string, id: string) {
    const key = this.redis.keys.inFlight(owner);
    const client = await this.redis.client();
    await this.call(() => client.multi().sadd(key, id).expire(key, this.config.maxRetentionSeconds).exec());
  }

  /** Pages the key's unfinished jobs have still to do; a job not yet opened counts as one. */
  async pagesInFlight(owner: string): Promise<number> {
    const client = await this.redis.client();
    const key = this.redis.keys.inFlight(owner);
    let pages = 0;
    for (const id of await this.call(() => client.smembers(key))) {
      const job = await this.call(() => this.documents.getJob(id));
      if (!job || job.finishedOn || (await this.call(() => this.cancellations.isCancelled(id)))) {
        await this.call(() => client.srem(key, id));
        continue;
      }
      pages += job.data.pagesTotal === undefined ? 1 : job.data.pagesTotal - (await this.pagesDone(job));
    }
    return pages;
  }

  async findClaim(owner: string | null, key: string): Promise<Claim | null> {
    const client = await this.redis.client();
    const raw = await this.call(() => client.get(this.redis.keys.idempotency(owner, key)));
    return raw ? (JSON.parse(raw) as Claim) : null;
  }

  /** True if this request now owns the key; false if another claimed it first. */
  async claim(owner: string | null, key: string, claim: Claim, ttlSeconds: number): Promise<boolean> {
    const client = await this.redis.client();
    return (
      (await this.call(() => client.set(this.redis.keys.idempotency(owner, key), JSON.stringify(claim), 'EX', ttlSeconds, 'NX'))) === 'OK'
    );
  }

  async releaseClaim(owner: string | null, key: string, jobId: string) {
    const client = await this.redis.client();
    if ((await this.findClaim(owner, key))?.jobId === jobId) await this.call(() => client.del(this.redis.keys.idempotency(owner, key)));
  }
}
