import { Injectable } from '@nestjs/common';
import type { ResultFormat } from '../contract/formats';
import type { DeliveryAttempts, JobStatus, JobView, OutputStatus, WebhookStatus } from '../contract/job-view';
import {
  InjectWebhooksQueue,
  OUTPUT_JOB,
  type OutputJobData,
  outputJobId,
  WEBHOOK_JOB,
  type WebhookJobData,
  webhookJobId,
  type WebhooksQueue,
} from '../contract/queues';
import { QueueRedis } from '../queue/queue-redis';

interface Attempt {
  attempts: number;
  status: number | null;
  error: string | null;
  delivered: boolean;
  /** The last attempt failed too: no more will be made. */
  gaveUp?: boolean;
}

/**
 * A job's webhook and its output to outputUrl: queued here (by the API on cancel, by the
 * workers on completion or failure), delivered by the workers' webhook processor, and each
 * delivery recorded in Redis for the job resource. The output goes first, so that a
 * webhook saying "completed" finds it delivered.
 */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectWebhooksQueue() private readonly webhooks: WebhooksQueue,
    private readonly redis: QueueRedis,
  ) {}

  async enqueue(view: JobView, url: string | null | undefined, retention: number) {
    if (!url || (view.status !== 'completed' && view.status !== 'failed' && view.status !== 'cancelled')) return;
    const eventId = webhookJobId(view.id, view.status);
    const data: WebhookJobData = { documentId: view.id, eventId, event: view.status, url, body: JSON.stringify(view), retention };
    await this.webhooks.add(WEBHOOK_JOB, data, { jobId: eventId });
  }

  /** The completed job's output to its outputUrl, then (by the processor) its webhook. */
  async enqueueOutput(view: JobView, target: { url: string; format: ResultFormat; callbackUrl: string | null }, retention: number) {
    const data: OutputJobData = {
      documentId: view.id,
      url: target.url,
      format: target.format,
      retention,
      view: JSON.stringify(view),
      ...(target.callbackUrl ? { callbackUrl: target.callbackUrl } : {}),
    };
    await this.webhooks.add(OUTPUT_JOB, data, { jobId: outputJobId(view.id) });
  }

  async record(documentId: string, url: string, attempt: Attempt, retention: number) {
    await this.write(this.redis.keys.webhook(documentId), { url }, attempt, retention);
  }

  async recordOutput(documentId: string, attempt: Attempt, retention: number) {
    await this.write(this.redis.keys.output(documentId), {}, attempt, retention);
  }

  private async write(key: string, extra: Record<string, string>, attempt: Attempt, retention: number) {
    const now = new Date().toISOString();
    const fields: Record<string, string> = {
      ...extra,
      attempts: String(attempt.attempts),
      lastStatus: attempt.status === null ? '' : String(attempt.status),
      lastError: attempt.error ?? '',
      lastAttemptAt: now,
    };
    if (attempt.delivered) fields.deliveredAt = now;
    if (attempt.gaveUp) fields.gaveUp = '1';
    await (await this.redis.client()).multi().hset(key, fields).expire(key, retention).exec();
  }

  /** Where the output of a job in `status` stands. */
  async outputStatus(documentId: string, format: ResultFormat, status: JobStatus): Promise<OutputStatus> {
    const raw = await (await this.redis.client()).hgetall(this.redis.keys.output(documentId));
    const state: OutputStatus['status'] = raw.deliveredAt
      ? 'delivered'
      : raw.gaveUp
        ? 'failed'
        : status === 'completed'
          ? 'pending'
          : status === 'queued' || status === 'processing'
            ? 'waiting'
            : 'skipped';
    return { format, status: state, ...attemptsOf(raw) };
  }

  async status(documentId: string, url: string): Promise<WebhookStatus> {
    const raw = await (await this.redis.client()).hgetall(this.redis.keys.webhook(documentId));
    return { url, ...attemptsOf(raw) };
  }
}

/** A delivery record as `write` left it in its hash. */
function attemptsOf(raw: Record<string, string>): DeliveryAttempts {
  return {
    attempts: Number(raw.attempts ?? 0),
    lastStatus: raw.lastStatus ? Number(raw.lastStatus) : null,
    lastError: raw.lastError || null,
    lastAttemptAt: raw.lastAttemptAt ?? null,
    deliveredAt: raw.deliveredAt ?? null,
  };
}
