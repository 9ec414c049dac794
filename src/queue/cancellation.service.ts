import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { retentionOf } from '../contract/job-options';
import type { CancelledDocument } from '../contract/job-view';
import { QueueRedis } from './queue-redis';

/**
 * Cancelled documents, kept in Redis for their retention. Workers look here before and
 * after each page, since a page that is being processed cannot be removed from its queue.
 */
@Injectable()
export class CancellationService {
  constructor(
    private readonly redis: QueueRedis,
    private readonly config: AppConfig,
  ) {}

  async cancel(documentId: string, record: CancelledDocument) {
    const client = await this.redis.client();
    // Kept as long as the job's files: its finished pages stay readable.
    await client.set(this.redis.keys.cancelled(documentId), JSON.stringify(record), 'EX', retentionOf(record, this.config));
  }

  async find(documentId: string): Promise<CancelledDocument | null> {
    const client = await this.redis.client();
    const raw = await client.get(this.redis.keys.cancelled(documentId));
    return raw ? (JSON.parse(raw) as CancelledDocument) : null;
  }

  async isCancelled(documentId: string) {
    return (await this.find(documentId)) !== null;
  }
}
