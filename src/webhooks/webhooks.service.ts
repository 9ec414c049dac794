import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/config';
import { webhookStatusKey } from '../contract/events';
import type { JobView, WebhookStatus } from '../contract/job-view';
import { InjectWebhooksQueue, WEBHOOK_JOB, type WebhookJobData, webhookJobId, type WebhooksQueue } from '../contract/queues';

interface Attempt {
  attempts: number;
  status: number | null;
  error: string | null;
  delivered: boolean;
}

/**
 * A job's webhook: queued here (by the API on cancel, by the workers on completion or
 * failure), delivered by the workers' webhook processor, and its delivery recorded in Redis
 * for the job resource.
 */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectWebhooksQueue() private readonly webhooks: WebhooksQueue,
    private readonly config: AppConfig,
  ) {}

  async enqueue(view: JobView, url: string | undefined, retention: number) {
    if (!url || (view.status !== 'completed' && view.status !== 'failed' && view.status !== 'cancelled')) return;
    const eventId = webhookJobId(view.id, view.status);
    const data: WebhookJobData = { documentId: view.id, eventId, event: view.status, url, body: JSON.stringify(view), retention };
    await this.webhooks.add(WEBHOOK_JOB, data, { jobId: eventId });
  }

  async record(documentId: string, url: string, attempt: Attempt, retention: number) {
    const key = webhookStatusKey(this.config.queuePrefix, documentId);
    const now = new Date().toISOString();
    const fields: Record<string, string> = {
      url,
      attempts: String(attempt.attempts),
      lastStatus: attempt.status === null ? '' : String(attempt.status),
      lastError: attempt.error ?? '',
      lastAttemptAt: now,
    };
    if (attempt.delivered) fields.deliveredAt = now;
    await (await this.client()).multi().hset(key, fields).expire(key, retention).exec();
  }

  async status(documentId: string, url: string): Promise<WebhookStatus> {
    const raw = await (await this.client()).hgetall(webhookStatusKey(this.config.queuePrefix, documentId));
    return {
      url,
      attempts: Number(raw.attempts ?? 0),
      lastStatus: raw.lastStatus ? Number(raw.lastStatus) : null,
      lastError: raw.lastError || null,
      lastAttemptAt: raw.lastAttemptAt ?? null,
      deliveredAt: raw.deliveredAt ?? null,
    };
  }

  async remove(documentId: string) {
    await (await this.client()).del(webhookStatusKey(this.config.queuePrefix, documentId));
  }

  private async client(): Promise<Redis> {
    return (await this.webhooks.client) as unknown as Redis;
  }
}
