import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../config/config';
import { DOCUMENTS_QUEUE } from './queue.contract';

export interface CancelledDocument {
  createdAt: number;
  startedAt: number | null;
  cancelledAt: number;
  pagesTotal: number | null;
  pagesDone: number;
  owner?: string;
}

/**
 * Cancelled documents, kept in Redis for RESULT_TTL_SECONDS. Workers look here before and
 * after each page, since a page that is being processed cannot be removed from its queue.
 */
@Injectable()
export class CancellationService {
  constructor(
    @InjectQueue(DOCUMENTS_QUEUE) private readonly documents: Queue,
    private readonly config: AppConfig,
  ) {}

  private key(documentId: string) {
    return `${this.config.queuePrefix}:ocr:cancelled:${documentId}`;
  }

  async cancel(documentId: string, record: CancelledDocument) {
    const client = await this.documents.client;
    await client.set(this.key(documentId), JSON.stringify(record), { EX: this.config.resultTtlSeconds });
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
