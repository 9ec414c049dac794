import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { redisOf } from '../config/redis';
import { retentionOf } from '../contract/job-options';
import type { CancelledDocument } from '../contract/job-view';
import { type DocumentsQueue, InjectDocumentsQueue } from '../contract/queues';

/**
 * Cancelled documents, kept in Redis for their retention. Workers look here before and
 * after each page, since a page that is being processed cannot be removed from its queue.
 */
@Injectable()
export class CancellationService {
  constructor(
    @InjectDocumentsQueue() private readonly documents: DocumentsQueue,
    private readonly config: AppConfig,
  ) {}

  private key(documentId: string) {
    return `${this.config.queuePrefix}:ocr:cancelled:${documentId}`;
  }

  async cancel(documentId: string, record: CancelledDocument) {
    const client = await redisOf(this.documents);
    // Kept as long as the job's files: its finished pages stay readable.
    await client.set(this.key(documentId), JSON.stringify(record), 'EX', retentionOf(record, this.config));
  }

  async find(documentId: string): Promise<CancelledDocument | null> {
    const client = await this.documents.client;
    const raw = await client.get(this.key(documentId));
    return raw ? (JSON.parse(raw) as CancelledDocument) : null;
  }

  async isCancelled(documentId: string) {
    return (await this.find(documentId)) !== null;
  }
}
